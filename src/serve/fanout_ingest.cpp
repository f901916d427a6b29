#include "serve/fanout_ingest.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/fanout_link.hpp"
#include "serve/input_decoder.hpp"
#include "serve/rejection.hpp"
#include "serve/result_publisher.hpp"
#include "serve/series_tracker.hpp"

namespace sira::serve {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

using Samples = std::shared_ptr<const std::vector<std::uint8_t>>;

// An image read from the input, kept until a worker's result acknowledges it.
struct Frame {
  bool has_series = false;
  std::uint64_t series = 0, image_id = 0;
  std::size_t height = 0, width = 0;
  SampleType type = SampleType::u16;
  Samples samples;
  Clock::time_point arrived;
  // Set once its neighbours are known (window_ready): what a worker is sent.
  std::string header;           // array-1.0 header with "seq" (and "window", "centre" for a multi-slice model)
  std::vector<Samples> window;  // its window of images, itself at `centre`
  bool sent_before = false;     // a second dispatch is a re-dispatch
};

// Consecutive images of one series, size and sample type, in the order read. A
// model of 2r+1 slices sees each with up to r neighbours on each side, the run's
// ends repeated by the engine, as sira serve's slice mode and sira denoise do.
struct Run {
  bool has_series = false;
  std::uint64_t series = 0;
  std::size_t height = 0, width = 0;
  SampleType type = SampleType::u16;
  std::deque<std::pair<std::uint64_t, Samples>> frames;  // images [first, first + frames.size()) of the run
  std::size_t first = 0, count = 0, next = 0;           // next: the next image whose window is made
  bool same(const Frame& f) const {
    return has_series == f.has_series && series == f.series && height == f.height && width == f.width &&
           type == f.type;
  }
};

struct Peer {
  int number = 0;  // for the log: worker 1, 2, ... in order of joining
  std::string name;
  std::size_t credit = 0;
  std::set<std::uint64_t> outstanding;  // seqs sent, not acknowledged
  Clock::time_point last_seen;
  bool asked = false;  // sent `who`: its credit is what its `ready` says, results give none back until then
};

PublisherOptions publisher_options(const FanoutOptions& o) {
  PublisherOptions p;
  p.source = "sira fanout";
  p.push_bind = o.push_bind;
  p.pub_bind = o.pub_bind;
  p.output = o.output;
  p.swmr = o.swmr;
  p.description = o.description;
  return p;  // no-loss: a full PUSH holds the results back
}

class Ingest {
 public:
  Ingest(const FanoutOptions& o, Counters& counters, const std::atomic<bool>& stop, const std::atomic<bool>& abort,
         const std::function<void(const std::string&)>& log)
      : o_(o),
        counters_(counters),
        stop_(stop),
        abort_(abort),
        log_(log),
        in_(context_, o.socket == "sub" ? zmq::socket_type::sub : zmq::socket_type::pull),
        router_(context_, zmq::socket_type::router),
        publisher_(context_, publisher_options(o), counters, abort, log),
        reach_(std::size_t(std::max(1, o.slices)) / 2) {
    in_.set(zmq::sockopt::rcvhwm, std::max(1, o.receive_hwm));
    in_.set(zmq::sockopt::linger, 0);
    if (o.socket == "sub") in_.set(zmq::sockopt::subscribe, "");
    // A send to a worker whose connection is gone fails (EHOSTUNREACH) instead of
    // vanishing: its images are re-dispatched at once, not after the timeout.
    router_.set(zmq::sockopt::router_mandatory, true);
    router_.set(zmq::sockopt::sndhwm, 1000);
    router_.set(zmq::sockopt::linger, 0);
    router_.bind(o.workers_bind);
    in_.connect(o.input);
    log_(cat("ready: workers on ", o.workers_bind, ", connected to ", o.input));
  }

  void run() {
    for (;;) {
      if (publisher_.failed()) break;
      if (abort_) {
        give_up();
        break;
      }
      if (stop_ || input_done_) end_run();  // no neighbour will come: its last images go
      if ((stop_ || input_done_) && unacked_.empty() && finished_.empty()) break;
      const bool readable = can_read();
      std::array<zmq::pollitem_t, 2> items{zmq::pollitem_t{router_.handle(), 0, ZMQ_POLLIN, 0},
                                           zmq::pollitem_t{in_.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items.data(), readable ? 2 : 1, std::chrono::milliseconds(finished_.empty() ? 20 : 2));
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;  // a signal: the loop checks stop
      }
      for (int k = 0; k < 256; ++k) {  // what the workers sent
        std::vector<zmq::message_t> frames;
        if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        on_worker(frames);
      }
      while (can_read()) {
        std::vector<zmq::message_t> frames;
        if (!zmq::recv_multipart(in_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        on_input(frames);
      }
      dispatch();
      expire();
      publish_in_order();
    }
    publisher_.finish();  // rethrows an output's failure
  }

 private:
  bool can_read() const {
    return !stop_ && !input_done_ && pending_.size() < o_.queue && next_seq_ - next_publish_ < o_.window;
  }

  // ---- the detector's side --------------------------------------------------
  void on_input(const std::vector<zmq::message_t>& frames) {
    ++message_;
    const Clock::time_point arrived = Clock::now();
    try {
      Message m = decode_input(frames, o_.protocol == "stream-v2", o_.channel);
      if (m.kind == MessageKind::image) {
        const Verdict v = tracker_.image(m);  // may reject a size that disagrees with the series
        ++counters_.received;
        ++counters_.decoded;
        if (v.new_series) ++counters_.series;
        if (!v.note.empty()) log_(v.note);
        if (!v.accept) {
          counters_.drop(v.drop_reason);
          log_(cat("message ", message_, " (image ", m.image_id, " of series ", m.series_id, "): dropped (",
                   v.drop_reason, ")"));
          return;
        }
        if (v.out_of_order) ++counters_.out_of_order;
        const std::uint64_t seq = next_seq_++;
        Frame f;
        f.has_series = m.has_series;
        f.series = m.series_id;
        f.image_id = m.image_id;
        f.height = m.height;
        f.width = m.width;
        f.type = m.type;
        f.samples = std::make_shared<const std::vector<std::uint8_t>>(std::move(m.samples));
        f.arrived = arrived;
        add_to_run(seq, f);
        unacked_.emplace(seq, std::move(f));
        window_ready();
      } else if (m.kind == MessageKind::start) {
        const Verdict v = tracker_.start(m);
        ++counters_.control;
        if (v.new_series) {
          ++counters_.series;
          start_ = json{{"series_id", m.series_id},
                        {"height", m.height},
                        {"width", m.width},
                        {"number_of_images", m.number_of_images}}
                       .dump();
          for (auto& [id, peer] : peers_) send(id, link::kStart, *start_);
        }
        log_(v.note.empty() ? cat("series ", m.series_id, " started (", m.number_of_images, " images of ", m.height,
                                  "x", m.width, ")")
                            : v.note);
      } else {
        const bool was_active = tracker_.active();
        const Verdict v = tracker_.end(m);
        ++counters_.control;
        if (!v.note.empty()) log_(v.note);
        if (was_active && !tracker_.active()) {
          log_(cat("series ", tracker_.series(), " ended"));
          end_run();
          start_.reset();
          const std::string end = json{{"series_id", tracker_.series()}}.dump();
          for (auto& [id, peer] : peers_) send(id, link::kEnd, end);
          if (o_.exit_after_series && ++ended_ >= o_.exit_after_series) input_done_ = true;
        }
      }
    } catch (const Rejection& r) {
      ++counters_.received;
      counters_.reject(r.reason());
      log_(cat("message ", message_, ": rejected (", r.reason(), "): ", r.what()));
    }
  }

  // ---- the workers' side ----------------------------------------------------
  // False when the worker's connection is gone (it is then declared dead).
  bool send(const std::string& id, const char* kind, const std::string& body, const Frame* image = nullptr) {
    std::vector<zmq::const_buffer> parts{zmq::buffer(id), zmq::const_buffer(kind, std::strlen(kind)),
                                         zmq::buffer(body)};
    if (image)
      for (const Samples& s : image->window) parts.push_back(zmq::const_buffer(s->data(), s->size()));
    try {
      if (zmq::send_multipart(router_, parts, zmq::send_flags::dontwait)) return true;
    } catch (const zmq::error_t& e) {
      if (e.num() != EHOSTUNREACH) throw;
    }
    return false;
  }

  void on_worker(const std::vector<zmq::message_t>& frames) {
    if (frames.size() < 3) return;  // not a sira worker (a port scan): nothing to answer
    const std::string id = frames[0].to_string(), kind = frames[1].to_string();
    auto it = peers_.find(id);
    if (it == peers_.end()) {
      it = peers_.emplace(id, Peer{++joined_, "", 0, {}, Clock::now()}).first;
      ++counters_.workers;
      // A worker this process does not know (it restarted, or declared the worker
      // dead): it tells its free credit again.
      if (kind != link::kReady) {
        send(id, link::kWho, "{}");
        it->second.asked = true;
      }
    }
    Peer& peer = it->second;
    peer.last_seen = Clock::now();
    try {
      const json j = json::parse(frames[2].to_string());
      if (kind == link::kReady) {
        const int slices = j.value("slices", 1);
        if (slices != std::max(1, o_.slices)) {  // its windows would be the wrong size
          const std::string why = cat("its model takes ", slices, " input slices, this fan-out sends ",
                                      std::max(1, o_.slices), " (sira fanout --slices)");
          send(id, link::kRefused, json{{"error", why}}.dump());
          log_(cat("worker ", peer.number, " (", j.value("name", std::string()), ") refused: ", why));
          peers_.erase(it);
          --counters_.workers;
          return;
        }
        peer.credit = j.at("credit").get<std::size_t>();
        peer.asked = false;
        peer.name = j.value("name", "");
        log_(cat("worker ", peer.number, " (", peer.name, ") ready, credit ", peer.credit));
        if (start_) send(id, link::kStart, *start_);  // joined during a series
      } else if (kind == link::kResult) {
        if (!peer.asked) ++peer.credit;
        on_result(peer, j, frames.size() == 4 ? &frames[3] : nullptr);
      } else if (kind == link::kFailed) {
        if (!peer.asked) ++peer.credit;
        const std::uint64_t seq = j.at("seq").get<std::uint64_t>();
        peer.outstanding.erase(seq);
        lose(seq, cat("worker ", peer.number, ": ", j.value("error", std::string("failed"))));
      }
    } catch (const json::exception& e) {
      log_(cat("worker ", peer.number, ": malformed ", kind, " message ignored (", e.what(), ")"));
    }
  }

  void on_result(Peer& peer, const json& header, const zmq::message_t* data) {
    const std::uint64_t seq = header.at("seq").get<std::uint64_t>();
    peer.outstanding.erase(seq);
    auto f = unacked_.find(seq);
    if (f == unacked_.end()) {  // its first copy came back already (a slow worker declared dead)
      ++counters_.duplicate_results;
      return;
    }
    const Frame& frame = f->second;
    const std::size_t h = header.at("shape").at(0).get<std::size_t>(), w = header.at("shape").at(1).get<std::size_t>();
    if (h != frame.height || w != frame.width || header.value("type", "") != "float32" || !data ||
        data->size() != h * w * sizeof(float)) {
      lose(seq, cat("worker ", peer.number, ": result of image ", frame.image_id, " does not match it"));
      return;
    }
    PublishedImage p{frame.has_series, frame.series, frame.image_id, h, w, std::vector<float>(h * w), frame.arrived,
                     cat("{\"worker\":", peer.number, "}")};
    std::memcpy(p.pixels.data(), data->data(), data->size());
    ++counters_.denoised;
    finished_.emplace(seq, std::move(p));
    forget(seq);
  }

  // The image is done without a result (counted as dropped "worker_error").
  void lose(std::uint64_t seq, const std::string& why) {
    auto f = unacked_.find(seq);
    if (f == unacked_.end()) {
      ++counters_.duplicate_results;
      return;
    }
    counters_.drop("worker_error");
    log_(cat("image ", f->second.image_id, " of series ", f->second.series, ": dropped (worker_error): ", why));
    finished_.emplace(seq, std::nullopt);
    forget(seq);
  }

  void forget(std::uint64_t seq) {
    unacked_.erase(seq);
    // Re-queued from a worker declared dead, whose result came after all.
    if (auto p = std::find(pending_.begin(), pending_.end(), seq); p != pending_.end()) pending_.erase(p);
  }

  // Each waiting image to the worker with the most credit (so two workers alternate).
  void dispatch() {
    while (!pending_.empty()) {
      auto best = peers_.end();
      for (auto it = peers_.begin(); it != peers_.end(); ++it)
        if (it->second.credit > 0 && (best == peers_.end() || it->second.credit > best->second.credit)) best = it;
      if (best == peers_.end()) return;
      const std::uint64_t seq = pending_.front();
      Frame& f = unacked_.at(seq);
      if (!send(best->first, link::kImage, f.header, &f)) {
        bury(best, "its connection is gone");
        continue;
      }
      pending_.pop_front();
      --best->second.credit;
      best->second.outstanding.insert(seq);
      ++counters_.dispatched;
      if (f.sent_before) ++counters_.redispatched;
      f.sent_before = true;
    }
  }

  void expire() {
    const Clock::time_point now = Clock::now();
    for (auto it = peers_.begin(); it != peers_.end();) {
      auto next = std::next(it);
      if (now - it->second.last_seen > std::chrono::milliseconds(o_.worker_timeout_ms))
        bury(it, cat("silent for more than ", o_.worker_timeout_ms, " ms"));
      it = next;
    }
  }

  // A dead worker's unacknowledged images go back to the front of the queue.
  void bury(std::map<std::string, Peer>::iterator it, const std::string& why) {
    std::deque<std::uint64_t> back;
    for (std::uint64_t seq : it->second.outstanding)
      if (unacked_.count(seq)) back.push_back(seq);
    log_(cat("worker ", it->second.number, " (", it->second.name, ") declared dead (", why, "): ", back.size(),
             " unacknowledged image(s) go to other workers"));
    std::deque<std::uint64_t> merged;
    std::merge(back.begin(), back.end(), pending_.begin(), pending_.end(), std::back_inserter(merged));
    pending_.swap(merged);
    peers_.erase(it);
    --counters_.workers;
  }

  // ---- the collector ----------------------------------------------------------
  void publish_in_order() {
    while (!finished_.empty() && finished_.begin()->first == next_publish_) {
      auto& slot = finished_.begin()->second;
      if (slot && !publisher_.try_hand_over(*slot)) return;  // the publisher is behind: later
      finished_.erase(finished_.begin());
      ++next_publish_;
    }
  }

  void give_up() {  // a second signal: what is not published is dropped
    std::uint64_t n = unacked_.size();
    for (const auto& [seq, slot] : finished_) n += slot ? 1 : 0;
    if (n) {
      counters_.drop("shutdown", n);
      log_(cat(n, " image(s) not published: dropped (shutdown)"));
    }
    unacked_.clear();
    finished_.clear();
    run_ = Run{};
  }

  // ---- windows ------------------------------------------------------------------
  void add_to_run(std::uint64_t seq, const Frame& f) {
    if (run_.count && !run_.same(f)) end_run();
    if (!run_.count) {
      run_ = Run{};
      run_.has_series = f.has_series;
      run_.series = f.series;
      run_.height = f.height;
      run_.width = f.width;
      run_.type = f.type;
    }
    run_.frames.emplace_back(seq, f.samples);
    ++run_.count;
  }

  void end_run() {
    window_ready(true);
    run_ = Run{};
  }

  // Images whose r following neighbours have arrived (all of them when the run
  // ends) get their window and wait for a worker's credit.
  void window_ready(bool run_ended = false) {
    Run& r = run_;
    while (r.next < r.count && (run_ended || r.next + reach_ < r.count)) {
      const std::size_t i = r.next++;
      const std::size_t lo = i >= reach_ ? i - reach_ : 0, hi = std::min(r.count - 1, i + reach_);
      const std::uint64_t seq = r.frames[i - r.first].first;
      auto f = unacked_.find(seq);
      if (f == unacked_.end()) continue;
      Frame& frame = f->second;
      for (std::size_t k = lo; k <= hi; ++k) frame.window.push_back(r.frames[k - r.first].second);
      json extra{{"seq", seq}};
      if (reach_) extra["window"] = hi - lo + 1, extra["centre"] = i - lo;
      frame.header = array_v1_header(frame.image_id, frame.height, frame.width, frame.type, frame.has_series,
                                     frame.series, extra.dump());
      pending_.push_back(seq);
      while (r.first + reach_ < r.next && !r.frames.empty()) r.frames.pop_front(), ++r.first;  // no window needs them
    }
  }

  const FanoutOptions& o_;
  Counters& counters_;
  const std::atomic<bool>& stop_;
  const std::atomic<bool>& abort_;
  const std::function<void(const std::string&)>& log_;
  zmq::context_t context_{1};
  zmq::socket_t in_, router_;
  ResultPublisher publisher_;
  SeriesTracker tracker_;
  std::map<std::uint64_t, Frame> unacked_;                           // read, no result yet
  std::deque<std::uint64_t> pending_;                                // seqs waiting for a credit
  std::map<std::uint64_t, std::optional<PublishedImage>> finished_;  // results waiting for their turn
  std::uint64_t next_seq_ = 0, next_publish_ = 0, message_ = 0, ended_ = 0;
  std::map<std::string, Peer> peers_;
  int joined_ = 0;
  std::optional<std::string> start_;  // the current series' start, for a worker joining during it
  const std::size_t reach_;           // neighbours on each side a worker's model needs (slices / 2)
  Run run_;                           // the images read whose windows are not all made yet
  bool input_done_ = false;
};

}  // namespace

void run_fanout(const FanoutOptions& options, Counters& counters, const std::atomic<bool>& stop,
                const std::atomic<bool>& abort, const std::function<void(const std::string&)>& log) {
  Ingest(options, counters, stop, abort, log).run();
}

}  // namespace sira::serve
