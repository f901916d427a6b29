#include "serve/result_publisher.hpp"

#include <array>
#include <optional>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/live_writer.hpp"
#include "sira/error.hpp"

namespace sira::serve {

struct ResultPublisher::Outputs {
  std::optional<zmq::socket_t> push, pub;
  std::unique_ptr<LiveWriter> writer;
};

ResultPublisher::ResultPublisher(zmq::context_t& context, const std::string& push_bind, const std::string& pub_bind,
                                 const std::string& output, bool swmr, const std::string& description,
                                 Counters& counters, const std::atomic<bool>& abort,
                                 std::function<void(const std::string&)> log)
    : outputs_(std::make_unique<Outputs>()), counters_(counters), abort_(abort), log_(std::move(log)) {
  if (!push_bind.empty()) {
    outputs_->push.emplace(context, zmq::socket_type::push);
    outputs_->push->set(zmq::sockopt::sndhwm, 4);
    outputs_->push->set(zmq::sockopt::linger, 2000);
    outputs_->push->bind(push_bind);
  }
  if (!pub_bind.empty()) {
    outputs_->pub.emplace(context, zmq::socket_type::pub);
    outputs_->pub->set(zmq::sockopt::sndhwm, 4);
    outputs_->pub->set(zmq::sockopt::linger, 500);  // results queued at exit get a moment to leave
    outputs_->pub->bind(pub_bind);
  }
  if (!output.empty()) outputs_->writer = std::make_unique<LiveWriter>(output, swmr, description);
  thread_ = std::thread([this] { run(); });
}

ResultPublisher::~ResultPublisher() {
  try {
    finish();
  } catch (...) {  // reported by an explicit finish(); a destructor must not throw
  }
}

bool ResultPublisher::try_hand_over(PublishedImage& image) { return queue_.try_push(image); }

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
  try {
    while (std::optional<PublishedImage> r = queue_.pop()) {
      const double latency = std::chrono::duration<double, std::milli>(Clock::now() - r->arrived).count();
      std::string extra = r->extra;
      extra.pop_back();  // a JSON object: add our fields before its '}'
      extra += cat(extra.size() > 1 ? "," : "", "\"source\":\"sira fanout\",\"latency_ms\":", latency, "}");
      const std::string header =
          array_v1_header(r->image_id, r->height, r->width, SampleType::f32, r->has_series, r->series, extra);
      const std::size_t bytes = r->pixels.size() * sizeof(float);
      if (outputs_->push) {
        bool sent = false;
        while (!sent && !abort_) {
          std::array<zmq::const_buffer, 2> parts{zmq::buffer(header), zmq::const_buffer(r->pixels.data(), bytes)};
          sent = bool(zmq::send_multipart(*outputs_->push, parts, zmq::send_flags::dontwait));
          if (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (!sent) {
          counters_.drop("shutdown");
          log_(cat("image ", r->image_id, " of series ", r->series, ": dropped (shutdown)"));
          continue;
        }
      }
      if (outputs_->pub) {
        std::array<zmq::const_buffer, 2> parts{zmq::buffer(header), zmq::const_buffer(r->pixels.data(), bytes)};
        zmq::send_multipart(*outputs_->pub, parts, zmq::send_flags::dontwait);
      }
      if (outputs_->writer) outputs_->writer->append(r->series, r->image_id, r->height, r->width, r->pixels.data());
      counters_.latency(std::chrono::duration<double, std::milli>(Clock::now() - r->arrived).count());
      ++counters_.published;
      ++counters_.results;
    }
  } catch (...) {
    failure_ = std::current_exception();
    failed_ = true;
    queue_.cancel();
  }
}

}  // namespace sira::serve
