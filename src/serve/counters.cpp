#include "serve/counters.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sira::serve {

namespace {
const char* const kRejectReasons[] = {"encoding", "message", "size", "compression", "dtype"};
const char* const kDropReasons[] = {"duplicate", "after_end", "stale_series", "superseded", "push_full", "shutdown",
                                    "no_angle", "incomplete", "bad_data", "worker_error"};
}  // namespace

void Counters::reject(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++rejected_[reason];
}

void Counters::drop(const std::string& reason, std::uint64_t n) {
  std::lock_guard lock(mutex_);
  dropped_[reason] += n;
}

std::uint64_t Counters::rejected() const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [k, v] : rejected_) n += v;
  return n;
}

std::uint64_t Counters::dropped() const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [k, v] : dropped_) n += v;
  return n;
}

void Counters::latency(double ms) {
  std::lock_guard lock(mutex_);
  if (latencies_.size() < 4096) latencies_.push_back(ms);
  else latencies_[next_] = ms;
  next_ = (next_ + 1) % 4096;
  latency_max_ = std::max(latency_max_, ms);
  ++latency_count_;
}

void Counters::quantiles(double* p50, double* p99) const {
  std::vector<double> v = latencies_;
  *p50 = *p99 = 0;
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, std::size_t(q * double(v.size() - 1) + 0.5))]; };
  *p50 = at(0.50);
  *p99 = at(0.99);
}

std::string Counters::json() const {
  // Read the atomics before the maps: a frame moving on meanwhile shows as in flight.
  nlohmann::json j;
  j["received"] = received.load();
  j["decoded"] = decoded.load();
  j["denoised"] = denoised.load();
  j["published"] = published.load();
  j["control"] = control.load();
  j["out_of_order"] = out_of_order.load();
  j["series"] = series.load();
  j["results"] = results.load();
  j["reconstructed"] = reconstructed.load();
  j["updates"] = updates.load();
  j["updates_superseded"] = updates_superseded.load();
  j["dispatched"] = dispatched.load();
  j["redispatched"] = redispatched.load();
  j["duplicate_results"] = duplicate_results.load();
  j["workers"] = workers.load();
  std::lock_guard lock(mutex_);
  std::uint64_t rejected = 0, dropped = 0;
  nlohmann::json r = nlohmann::json::object(), d = nlohmann::json::object();
  for (const char* k : kRejectReasons) r[k] = 0;
  for (const char* k : kDropReasons) d[k] = 0;
  for (const auto& [k, v] : rejected_) r[k] = v, rejected += v;
  for (const auto& [k, v] : dropped_) d[k] = v, dropped += v;
  j["rejected"] = rejected;
  j["dropped"] = dropped;
  j["rejected_by"] = r;
  j["dropped_by"] = d;
  double p50, p99;
  quantiles(&p50, &p99);
  j["latency_ms"] = {{"p50", p50}, {"p99", p99}, {"max", latency_max_}, {"count", latency_count_}};
  return j.dump();
}

std::string Counters::prometheus() const {
  std::ostringstream os;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    os << "# HELP sira_serve_" << name << " " << help << "\n# TYPE sira_serve_" << name << " counter\nsira_serve_"
       << name << " " << v << "\n";
  };
  counter("received_total", "Messages read from the input, except accepted start/end messages", received.load());
  counter("decoded_total", "Image messages decoded", decoded.load());
  counter("denoised_total", "Images denoised", denoised.load());
  counter("published_total", "Images published", published.load());
  counter("control_total", "Start and end messages accepted", control.load());
  counter("out_of_order_total", "Images published that arrived after a higher image id", out_of_order.load());
  counter("results_total", "Result images sent", results.load());
  counter("reconstructed_total", "Slices reconstructed (projections mode)", reconstructed.load());
  counter("updates_total", "Reconstructions published (projections mode)", updates.load());
  counter("updates_superseded_total", "Reconstructions the preview lane skipped for a newer one", updates_superseded.load());
  counter("dispatched_total", "Images sent to a worker (sira fanout)", dispatched.load());
  counter("redispatched_total", "Images sent again because their worker died (sira fanout)", redispatched.load());
  counter("duplicate_results_total", "Results received twice and dropped (sira fanout)", duplicate_results.load());
  os << "# HELP sira_serve_workers Workers connected now (sira fanout)\n# TYPE sira_serve_workers gauge\nsira_serve_workers "
     << workers.load() << "\n";
  std::lock_guard lock(mutex_);
  os << "# HELP sira_serve_rejected_total Malformed messages, by reason\n# TYPE sira_serve_rejected_total counter\n";
  std::map<std::string, std::uint64_t> r(rejected_), d(dropped_);
  for (const char* k : kRejectReasons) r.emplace(k, 0);
  for (const char* k : kDropReasons) d.emplace(k, 0);
  for (const auto& [k, v] : r) os << "sira_serve_rejected_total{reason=\"" << k << "\"} " << v << "\n";
  os << "# HELP sira_serve_dropped_total Decoded images not published, by reason\n"
        "# TYPE sira_serve_dropped_total counter\n";
  for (const auto& [k, v] : d) os << "sira_serve_dropped_total{reason=\"" << k << "\"} " << v << "\n";
  double p50, p99;
  quantiles(&p50, &p99);
  os << "# HELP sira_serve_latency_ms Receive-to-publish latency over the last 4096 images\n"
        "# TYPE sira_serve_latency_ms gauge\n"
     << "sira_serve_latency_ms{quantile=\"0.5\"} " << p50 << "\nsira_serve_latency_ms{quantile=\"0.99\"} " << p99
     << "\nsira_serve_latency_ms{quantile=\"1\"} " << latency_max_ << "\n";
  return os.str();
}

}  // namespace sira::serve
