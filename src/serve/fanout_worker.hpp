// `sira serve --worker tcp://INGEST:PORT`: a worker of sira fanout
// (fanout_ingest.hpp, fanout_link.hpp). It connects a DEALER to the ingest,
// offers `credit` images of work, denoises each image it is sent as sira
// serve's slice mode does (one engine thread, bit-identical to sira denoise)
// and sends back the result, which is also the acknowledgement and a new
// credit. Its I/O thread (the caller's) answers the link and sends a heartbeat
// every link::kHeartbeatMs, so a long image never looks like a dead worker.
// A multi-slice model gets each image with its neighbours (sira fanout --slices).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "serve/counters.hpp"
#include "serve/service.hpp"
#include "sira/engine.hpp"

namespace sira::serve {

struct WorkerOptions {
  std::string ingest;                   // tcp://host:port of sira fanout --workers
  std::size_t credit = 2;               // images it holds at most (one denoised, the next arriving)
  std::vector<ImageSize> warm_up;       // sizes run once before connecting
  std::uint64_t exit_after_series = 0;  // 0 = until stopped; else after that many ends (and their images)
  std::string name;                     // for the ingest's log (host:pid)
  std::string model;                    // for the ingest's log
};

// Counters: received = images received, denoised, published = results sent.
void run_worker(Engine& engine, const WorkerOptions& options, Counters& counters, const std::atomic<bool>& stop,
                const std::function<void(const std::string&)>& log);

}  // namespace sira::serve
