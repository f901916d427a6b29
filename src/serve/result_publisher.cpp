#include "serve/result_publisher.hpp"

#include <array>
#include <optional>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/drop_log.hpp"
#include "serve/live_writer.hpp"
#include "sira/error.hpp"

namespace sira::serve {

struct ResultPublisher::Outputs {
  std::optional<zmq::socket_t> push, pub;
  std::unique_ptr<LiveWriter> writer;
};

ResultPublisher::ResultPublisher(zmq::context_t& context, const PublisherOptions& options, Counters& counters,
                                 const std::atomic<bool>& abort, std::function<void(const std::string&)> log,
                                 std::function<void(std::exception_ptr)> on_failure)
    : options_(options),
      outputs_(std::make_unique<Outputs>()),
      counters_(counters),
      abort_(abort),
      log_(std::move(log)),
      on_failure_(std::move(on_failure)),
      queue_(options.queue) {
  if (!options.push_bind.empty()) {
    outputs_->push.emplace(context, zmq::socket_type::push);
    outputs_->push->set(zmq::sockopt::sndhwm, 4);
    outputs_->push->set(zmq::sockopt::linger, 2000);
    outputs_->push->bind(options.push_bind);
  }
  if (!options.pub_bind.empty()) {
    outputs_->pub.emplace(context, zmq::socket_type::pub);
    outputs_->pub->set(zmq::sockopt::sndhwm, 4);
    // Viewers are never waited for, but results already queued at exit get a
    // moment to leave (linger 0 dropped a series' last image).
    outputs_->pub->set(zmq::sockopt::linger, 500);
    outputs_->pub->bind(options.pub_bind);
  }
  if (!options.output.empty())
    outputs_->writer = std::make_unique<LiveWriter>(options.output, options.swmr, options.description);
  thread_ = std::thread([this] { run(); });
}

ResultPublisher::~ResultPublisher() {
  try {
    finish();
  } catch (...) {  // reported by an explicit finish(); a destructor must not throw
  }
}

bool ResultPublisher::try_hand_over(PublishedImage& image) { return queue_.try_push(image); }

bool ResultPublisher::hand_over(PublishedImage&& image) { return queue_.push(std::move(image)); }

void ResultPublisher::finish() {
  if (finished_) return;
  finished_ = true;
  queue_.close();
  thread_.join();
  if (outputs_->writer) outputs_->writer->close();
  if (failure_) std::rethrow_exception(failure_);
}

void ResultPublisher::run() {
  using Clock = std::chrono::steady_clock;
  const auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  try {
    DropLog drops;
    while (std::optional<PublishedImage> r = queue_.pop()) {
      std::string extra = r->extra;
      extra.pop_back();  // a JSON object: add our fields before its '}'
      extra += cat(extra.size() > 1 ? "," : "", "\"source\":\"", options_.source,
                   "\",\"latency_ms\":", ms_since(r->arrived), "}");
      const std::string header =
          array_v1_header(r->image_id, r->height, r->width, SampleType::f32, r->has_series, r->series, extra);
      const std::size_t bytes = r->pixels.size() * sizeof(float);
      if (outputs_->push) {
        bool sent = false;
        for (;;) {
          std::array<zmq::const_buffer, 2> parts{zmq::buffer(header), zmq::const_buffer(r->pixels.data(), bytes)};
          if (zmq::send_multipart(*outputs_->push, parts, zmq::send_flags::dontwait)) {
            sent = true;
            break;
          }
          if (options_.drop_when_push_full || abort_) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (!sent) {
          const char* reason = abort_ ? "shutdown" : "push_full";
          counters_.drop(reason);
          if (drops.should(reason))
            log_(cat("image ", r->image_id, " of series ", r->series, ": dropped (", reason, ")"));
          continue;
        }
      }
      if (outputs_->pub) {
        std::array<zmq::const_buffer, 2> parts{zmq::buffer(header), zmq::const_buffer(r->pixels.data(), bytes)};
        zmq::send_multipart(*outputs_->pub, parts, zmq::send_flags::dontwait);
      }
      if (outputs_->writer) outputs_->writer->append(r->series, r->image_id, r->height, r->width, r->pixels.data());
      const double published_ms = ms_since(r->arrived);
      if (options_.view && !r->raw.empty())
        options_.view->update(r->series, r->image_id, r->height, r->width, r->raw.data(), r->pixels.data(),
                              published_ms);
      if (r->last_of_job) counters_.latency(published_ms);
      if (options_.count_updates && r->last_of_job) ++counters_.updates;
      counters_.published += r->frames;
      ++counters_.results;
    }
  } catch (...) {
    failure_ = std::current_exception();
    failed_ = true;
    queue_.cancel();
    if (on_failure_) on_failure_(failure_);
  }
}

}  // namespace sira::serve
