// The outputs of sira serve and sira fanout, on their own thread: results handed
// over in order go to a PUSH socket (array-1.0 float32; for a consumer that needs
// every image: held back while it is full, or dropped as "push_full" in the
// preview lane), a PUB socket (viewers: never waited for), the live HDF5 file
// (live_writer.hpp) and the live page. Counts published, results, updates and latency.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "serve/counters.hpp"
#include "serve/latest_view.hpp"
#include "stream/bounded_queue.hpp"

namespace sira::serve {

struct PublishedImage {
  bool has_series = false;
  std::uint64_t series = 0, image_id = 0;
  std::size_t height = 0, width = 0;
  std::vector<float> pixels;
  std::chrono::steady_clock::time_point arrived;  // read from the input
  std::string extra = "{}";                       // header fields (a JSON object)
  std::uint64_t frames = 1;  // input frames it completes (projections: the job's, on its last slice)
  bool last_of_job = true;   // projections: the job's last slice (its latency and update are counted)
  std::vector<float> raw{};  // what was denoised (the centre slice), for the live page only
};

struct PublisherOptions {
  std::string source;  // the header's "source": "sira serve" | "sira fanout"
  std::string push_bind, pub_bind, output, description;
  bool swmr = true;
  bool drop_when_push_full = false;  // preview lane: a full PUSH drops the result instead of holding it
  bool count_updates = false;        // projections mode: each job's last slice is one update
  LatestView* view = nullptr;        // the live page's latest slice, if any
  std::size_t queue = 4;             // results waiting for the publisher
};

class ResultPublisher {
 public:
  // `on_failure` (optional) is called on the publisher's thread when an output
  // fails, so that the owner stops feeding it; finish() rethrows the failure too.
  ResultPublisher(zmq::context_t& context, const PublisherOptions& options, Counters& counters,
                  const std::atomic<bool>& abort, std::function<void(const std::string&)> log,
                  std::function<void(std::exception_ptr)> on_failure = {});
  ~ResultPublisher();  // finish() if not done
  ResultPublisher(const ResultPublisher&) = delete;
  ResultPublisher& operator=(const ResultPublisher&) = delete;

  // Never blocks: false (the image kept) while the publisher is behind.
  bool try_hand_over(PublishedImage& image);
  // Blocks while the publisher is behind (back-pressure); false once cancelled or failed.
  bool hand_over(PublishedImage&& image);
  // Stops at once: what waits is not published (the owner failed).
  void cancel() { queue_.cancel(); }
  // Publishes what was handed over, closes the file; rethrows a failure of the thread.
  void finish();
  bool failed() const { return failed_; }

 private:
  void run();
  struct Outputs;
  PublisherOptions options_;
  std::unique_ptr<Outputs> outputs_;
  Counters& counters_;
  const std::atomic<bool>& abort_;
  std::function<void(const std::string&)> log_;
  std::function<void(std::exception_ptr)> on_failure_;
  stream::BoundedQueue<PublishedImage> queue_;
  std::atomic<bool> failed_{false};
  std::exception_ptr failure_;
  std::thread thread_;
  bool finished_ = false;
};

}  // namespace sira::serve
