// sira stream-sim: replays a stack (any of sira's stack formats: a TIFF stack,
// .npy, an HDF5 dataset such as a Data Exchange /exchange/data) as a detector
// or reconstructor would stream it: Stream V2 (start, images, end; optionally
// lz4 or bslz4 compressed) or array-1.0, on a bound PUSH socket, at a set frame
// rate. A Data Exchange file (scan.h5 with /exchange/data) is sent as one
// series of its darks, flats and projections, each image with user_data
// image_type and angle_deg (docs/serve.md). PUSH blocks while no receiver is connected or the receiver's buffers
// are full, as a detector's does, so nothing is lost on the way.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace sira::serve {

struct SimOptions {
  std::string input;                   // stack location
  std::string bind = "tcp://*:31001";  // PUSH, bound
  std::string protocol = "stream-v2";  // stream-v2 | array-1.0
  std::string compression;             // "", lz4, bslz4 (Stream V2)
  std::string dtype;                   // "" = the file's (uint8, uint16; float32 stays float32)
  double rate = 10;                    // images per second; 0 = as fast as the receiver takes them
  std::uint64_t series_id = 1;
  std::uint64_t first_id = 0;          // image id of the first slice
  std::size_t series = 1;              // how many times to replay the stack (series ids count up)
  bool send_start = true, send_end = true;
  std::string channel = "threshold_1";
  int send_hwm = 4;                    // ZeroMQ send high-water mark (messages)
  bool preload = false;                // encode every message before sending the first (--preload)
};

struct SimReport {
  std::uint64_t images = 0;
  double seconds = 0;
};

SimReport run_simulator(const SimOptions& options, const std::function<void(const std::string&)>& log);

}  // namespace sira::serve
