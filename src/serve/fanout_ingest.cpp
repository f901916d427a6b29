#include "serve/fanout_ingest.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
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

// An image read from the input, kept until a worker's result acknowledges it.
struct Frame {
  bool has_series = false;
  std::uint64_t series = 0, image_id = 0;
  std::size_t height = 0, width = 0;
  std::string header;  // array-1.0 header with "seq", as sent to a worker
  std::vector<std::uint8_t> samples;
  Clock::time_point arrived;
  bool sent_before = false;  // a second dispatch is a re-dispatch
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
        publisher_(context_, publisher_options(o), counters, abort, log) {
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
        Frame f{m.has_series, m.series_id, m.image_id, m.height, m.width,
                array_v1_header(m.image_id, m.height, m.width, m.type, m.has_series, m.series_id,
                                json{{"seq", seq}}.dump()),
                std::move(m.samples), arrived};
        unacked_.emplace(seq, std::move(f));
        pending_.push_back(seq);
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
    if (image) parts.push_back(zmq::const_buffer(image->samples.data(), image->samples.size()));
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
  bool input_done_ = false;
};

}  // namespace

void run_fanout(const FanoutOptions& options, Counters& counters, const std::atomic<bool>& stop,
                const std::atomic<bool>& abort, const std::function<void(const std::string&)>& log) {
  Ingest(options, counters, stop, abort, log).run();
}

}  // namespace sira::serve
