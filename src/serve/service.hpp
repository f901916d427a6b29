// sira serve: a long-running service that reads images from a detector or
// reconstruction stream, denoises each (--mode slices) or reconstructs rows
// from projections and denoises them (--mode projections), and publishes the
// results (docs/serve.md). Three threads:
//   receiver  (the caller's) PULL/SUB socket -> decode -> series -> lane
//             (projections: -> ProjectionAssembler -> a reconstruction job)
//   worker    lane -> [FBP ->] engine (OpenMP teams do the arithmetic) -> results
//   publisher results -> PUSH / PUB (array-1.0) and the live HDF5 file
// The no-loss lane is a bounded queue: when it is full the receiver stops
// reading, ZeroMQ's receive buffer fills (a small high-water mark) and the
// sender blocks. The preview lane is one slot where the newest image wins; the
// images it displaces are counted as dropped ("superseded").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "serve/counters.hpp"
#include "serve/latest_view.hpp"
#include "serve/projection_assembler.hpp"
#include "sira/engine.hpp"

namespace sira::serve {

struct ImageSize {
  std::size_t height = 0, width = 0;
  auto operator<=>(const ImageSize&) const = default;
};

struct ServeOptions {
  std::string mode = "slices";        // slices | projections
  ProjectionOptions projection;       // --mode projections
  std::string input;                  // tcp://host:port (connected)
  std::string protocol = "stream-v2";  // stream-v2 | array-1.0
  std::string socket = "pull";        // pull | sub (array-1.0 may come on PUB)
  std::string channel;                // Stream V2 channel (empty = the first)
  std::string lane = "no-loss";       // no-loss | preview
  std::size_t queue = 4;              // no-loss: images held between receiver and worker
  std::string push_bind, pub_bind;    // outputs (bound), either or both or none
  std::string output;                 // live HDF5 file (empty = none)
  bool swmr = true;
  std::uint64_t exit_after_series = 0;  // 0 = until stopped; else after that many ends
  int receive_hwm = 2;                // ZeroMQ receive high-water mark (messages)
  std::string description;            // recorded in the HDF5 file
  std::vector<ImageSize> warm_up;     // sizes to warm the engine up for before connecting (--warm-up)
  LatestView* view = nullptr;         // the live page's latest slice (raw and restored), if any
};

// Logs go through `log` (one line each, no newline). `stop` set (by a signal
// handler) ends the service after it drains what it has read; `abort` set
// gives up on outputs that block (counted as dropped "shutdown").
void run_service(Engine& engine, const ServeOptions& options, Counters& counters,
                 const std::atomic<bool>& stop, const std::atomic<bool>& abort,
                 const std::function<void(const std::string&)>& log);

}  // namespace sira::serve
