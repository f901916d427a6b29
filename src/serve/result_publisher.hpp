// sira fanout's outputs, on their own thread: results handed over in input order
// go to a PUSH socket (array-1.0 float32; a consumer that needs every image:
// held back while it is full, never dropped unless the process is aborted), a
// PUB socket (viewers: never waited for) and the live HDF5 file (live_writer.hpp),
// as sira serve's no-loss lane publishes them. Counts published and latency.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "serve/counters.hpp"
#include "stream/bounded_queue.hpp"

namespace sira::serve {

struct PublishedImage {
  bool has_series = false;
  std::uint64_t series = 0, image_id = 0;
  std::size_t height = 0, width = 0;
  std::vector<float> pixels;
  std::chrono::steady_clock::time_point arrived;  // read from the input
  std::string extra = "{}";                       // header fields (a JSON object)
};

class ResultPublisher {
 public:
  ResultPublisher(zmq::context_t& context, const std::string& push_bind, const std::string& pub_bind,
                  const std::string& output, bool swmr, const std::string& description, Counters& counters,
                  const std::atomic<bool>& abort, std::function<void(const std::string&)> log);
  ~ResultPublisher();  // finish() if not done
  ResultPublisher(const ResultPublisher&) = delete;
  ResultPublisher& operator=(const ResultPublisher&) = delete;

  // Never blocks: false (the image kept) while the publisher is behind.
  bool try_hand_over(PublishedImage& image);
  // Publishes what was handed over, closes the file; rethrows a failure of the thread.
  void finish();
  bool failed() const { return failed_; }

 private:
  void run();
  struct Outputs;
  std::unique_ptr<Outputs> outputs_;
  Counters& counters_;
  const std::atomic<bool>& abort_;
  std::function<void(const std::string&)> log_;
  stream::BoundedQueue<PublishedImage> queue_{4};
  std::atomic<bool> failed_{false};
  std::exception_ptr failure_;
  std::thread thread_;
  bool finished_ = false;
};

}  // namespace sira::serve
