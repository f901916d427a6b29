// sira fanout: live fan-out of sira serve's slice mode over several workers
// (docs/scale.md, "Live fan-out"). One process is the only one connected to
// the detector; it decodes and checks each frame as sira serve does
// (input_decoder.hpp, series_tracker.hpp), copies start/end to every worker
// (and a series' start to a worker that joins during it), and hands each image
// to a worker that has asked for work (credit, fanout_link.hpp). A worker's
// result is the acknowledgement: the image is forgotten only then. A worker
// silent for longer than worker_timeout_ms (or whose connection is gone) is
// declared dead and its unacknowledged images go to the others. The collector
// publishes results in the order the images were read (result_publisher.hpp).
// For a model of 2r+1 input slices (--slices), an image is sent once its r
// following neighbours of the same series have arrived (or the series ended),
// together with up to r neighbours on each side, so any worker can restore it;
// a worker whose model takes another number of slices is refused.
// Back-pressure: when no worker has credit, images wait in a queue of `queue`;
// when it is full, or `window` images are read and not yet published, the
// ingest stops reading and the detector's sender is held back (no-loss).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "serve/counters.hpp"

namespace sira::serve {

struct FanoutOptions {
  std::string input;                   // tcp://host:port (connected)
  std::string protocol = "stream-v2";  // stream-v2 | array-1.0
  std::string socket = "pull";         // pull | sub
  std::string channel;                 // Stream V2 channel (empty = the first)
  std::string workers_bind;            // ROUTER (bound), tcp://*:PORT
  int slices = 1;                      // the workers' model input slices: each image goes with its neighbours
  std::size_t queue = 8;               // images read, waiting for a worker's credit
  std::size_t window = 64;             // images read and not yet published
  int worker_timeout_ms = 3000;        // silence after which a worker is declared dead
  std::string push_bind, pub_bind;     // outputs (bound)
  std::string output;                  // live HDF5 file (empty = none)
  bool swmr = true;
  std::uint64_t exit_after_series = 0;  // 0 = until stopped
  int receive_hwm = 2;
  std::string description;  // recorded in the HDF5 file
};

// `stop` (a signal) ends reading and waits for the images read to be published;
// `abort` (a second signal) gives up on them (counted as dropped "shutdown").
void run_fanout(const FanoutOptions& options, Counters& counters, const std::atomic<bool>& stop,
                const std::atomic<bool>& abort, const std::function<void(const std::string&)>& log);

}  // namespace sira::serve
