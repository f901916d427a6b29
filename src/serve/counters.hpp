// Every frame sira serve sees, accounted for (docs/serve.md, "Counters"):
//   received  = every message read from the input, except accepted start/end
//   rejected  = malformed (by reason: encoding, message, size, compression, dtype)
//   decoded   = image messages that decoded (received - rejected)
//   dropped   = decoded images not published (by reason: duplicate, after_end,
//               stale_series, superseded, push_full, shutdown; fanout: worker_error)
//   denoised, published; in_flight = decoded - dropped - published
// so received = published + dropped + rejected + in_flight, and in_flight is 0
// whenever the service is idle or has stopped. In --mode projections an input
// frame (dark, flat, projection) counts as published when the first
// reconstruction it went into is published; `results` counts the slices sent,
// `updates` the reconstructions, `updates_superseded` those the preview lane
// skipped (their frames move to the next); darks and flats waiting for a
// series that uses them stay in flight. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sira::serve {

class Counters {
 public:
  std::atomic<std::uint64_t> received{0}, decoded{0}, denoised{0}, published{0};
  std::atomic<std::uint64_t> control{0};       // start/end messages accepted
  std::atomic<std::uint64_t> out_of_order{0};  // published, but arrived after a higher id
  std::atomic<std::uint64_t> series{0};        // series seen (started or joined)
  std::atomic<std::uint64_t> results{0};       // result images sent (slices mode: = published)
  std::atomic<std::uint64_t> reconstructed{0}, updates{0}, updates_superseded{0};  // projections mode
  // sira fanout (docs/scale.md, "Live fan-out"): images sent to workers, of which
  // sent again after their worker died; results that came twice (a slow worker
  // declared dead, the second copy is dropped: not an input frame, so not in
  // `dropped`); workers connected now (a gauge).
  std::atomic<std::uint64_t> dispatched{0}, redispatched{0}, duplicate_results{0}, workers{0};

  void reject(const std::string& reason);
  void drop(const std::string& reason, std::uint64_t n = 1);
  std::uint64_t rejected() const;
  std::uint64_t dropped() const;
  // receive -> publish, milliseconds
  void latency(double ms);

  std::string json() const;        // one JSON object
  std::string prometheus() const;  // Prometheus text exposition format 0.0.4

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> rejected_, dropped_;
  std::vector<double> latencies_;  // the last 4096
  std::size_t next_ = 0;
  double latency_max_ = 0;
  std::uint64_t latency_count_ = 0;
  void quantiles(double* p50, double* p99) const;  // mutex_ held
};

}  // namespace sira::serve
