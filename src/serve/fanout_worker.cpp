#include "serve/fanout_worker.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/fanout_link.hpp"
#include "serve/rejection.hpp"
#include "serve/warm_up.hpp"
#include "stream/bounded_queue.hpp"

namespace sira::serve {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Task {
  std::uint64_t seq = 0;
  std::vector<Message> window;  // the image and its neighbours (a multi-slice model), in input order
  std::size_t centre = 0;       // the image's place in `window`
  ImageSize warm{};  // non-zero: a series of this size starts; warm the engine up for it
};

struct Outcome {
  std::uint64_t seq = 0;
  std::string header;  // result: array-1.0 float32 + seq; failed: {"seq", "error"}
  std::vector<float> pixels;
  bool failed = false;
};

}  // namespace

void run_worker(Engine& engine, const WorkerOptions& options, Counters& counters, const std::atomic<bool>& stop,
                const std::function<void(const std::string&)>& log) {
  const std::size_t slices = std::size_t(engine.graph().in_channels);
  const std::size_t credit = std::max<std::size_t>(1, options.credit);
  stream::BoundedQueue<Task> tasks(credit + 8);  // images never exceed the credit; warm-ups are few
  stream::BoundedQueue<Outcome> outbox(credit + 8);
  std::set<ImageSize> warm;
  for (const ImageSize& size : options.warm_up) {
    const Clock::time_point t = Clock::now();
    warm_up(engine, size);
    warm.insert(size);
    log(cat("engine warmed up for ", size.height, "x", size.width, " in ",
            int(std::chrono::duration<double, std::milli>(Clock::now() - t).count()), " ms"));
  }

  // The engine thread: the same call as sira serve's slice mode for a 1-slice model.
  std::exception_ptr failure;  // written by the engine thread before it sets `failed`
  std::atomic<bool> failed{false};
  std::thread engine_thread([&] {
    try {
      while (std::optional<Task> t = tasks.pop()) {
        if (t->warm.height) {
          if (warm.insert(t->warm).second) warm_up(engine, t->warm);
          continue;
        }
        const Message& m = t->window.at(t->centre);
        Outcome o;
        o.seq = t->seq;
        try {
          std::vector<std::vector<float>> in(t->window.size());
          std::vector<const float*> planes;
          for (std::size_t k = 0; k < in.size(); ++k) {
            in[k].resize(m.height * m.width);
            samples_to_float(t->window[k], in[k].data());
            planes.push_back(in[k].data());
          }
          o.pixels.resize(m.height * m.width);
          engine.denoise_window(planes, t->centre, m.height, m.width, o.pixels.data());
          warm.insert({m.height, m.width});
          ++counters.denoised;
          o.header = array_v1_header(m.image_id, m.height, m.width, SampleType::f32, m.has_series, m.series_id,
                                     json{{"seq", t->seq}}.dump());
        } catch (const Error& e) {  // the engine refuses this image (a size the model cannot take)
          o.failed = true;
          o.pixels.clear();
          o.header = json{{"seq", t->seq}, {"error", e.what()}}.dump();
          counters.drop("worker_error");
        }
        outbox.push(std::move(o));
      }
    } catch (...) {
      failure = std::current_exception();
      failed = true;
      outbox.cancel();
    }
    outbox.close();
  });

  zmq::context_t context(1);
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 2000);  // results sent just before stopping still leave
  dealer.set(zmq::sockopt::sndhwm, 64);
  dealer.connect(options.ingest);
  std::size_t held = 0;  // images received, result not sent yet
  auto send = [&](const char* kind, const std::string& body, const void* data = nullptr, std::size_t bytes = 0) {
    std::vector<zmq::const_buffer> parts{zmq::const_buffer(kind, std::strlen(kind)), zmq::buffer(body)};
    if (data) parts.push_back(zmq::const_buffer(data, bytes));
    // A heartbeat may be dropped while the ingest is away; a result waits for it.
    const bool must = std::strcmp(kind, link::kHeartbeat) != 0;
    while (!zmq::send_multipart(dealer, parts, zmq::send_flags::dontwait)) {
      if (!must || stop) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
  auto send_outcome = [&](const Outcome& o) {
    if (o.failed) {
      send(link::kFailed, o.header);
    } else if (send(link::kResult, o.header, o.pixels.data(), o.pixels.size() * sizeof(float))) {
      ++counters.published;
      ++counters.results;
    }
  };
  auto ready = [&] {
    send(link::kReady, json{{"credit", held < credit ? credit - held : 0},
                            {"name", options.name},
                            {"model", options.model},
                            {"slices", slices}}
                           .dump());
  };
  ready();
  log(cat("ready: connected to ", options.ingest, ", credit ", credit));
  Clock::time_point last_beat = Clock::now();
  std::uint64_t ended = 0;
  bool done = false;
  std::string refused;  // the ingest's reason, if it refused this worker
  while (!stop && !done) {
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(held ? 2 : 50));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    for (;;) {
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(dealer, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
      if (frames.size() < 2) continue;
      const std::string kind = frames[0].to_string();
      try {
        if (kind == link::kImage) {
          const json j = json::parse(frames[1].to_string());
          Task t;
          t.seq = j.at("seq").get<std::uint64_t>();
          const std::size_t n = j.value("window", std::size_t(1));
          t.centre = j.value("centre", std::size_t(0));
          ++counters.received;
          ++held;
          try {
            // Every frame of the window has the image's size and sample type (fanout_ingest.cpp, Run).
            if (n < 1 || n > slices || t.centre >= n || frames.size() != 2 + n)
              throw Rejection("malformed", cat("a window of ", n, " image(s) centred at ", t.centre, " in ",
                                               frames.size() - 2, " frame(s), for a ", slices, "-slice model"));
            for (std::size_t k = 0; k < n; ++k)
              t.window.push_back(decode_array_v1({frames[1].to_string(), frames[2 + k].to_string()}));
          } catch (const Rejection& r) {  // the ingest checked it: a broken link
            counters.reject(r.reason());
            --held;
            send(link::kFailed, json{{"seq", t.seq}, {"error", r.what()}}.dump());
            continue;
          }
          tasks.push(std::move(t));
        } else if (kind == link::kStart) {
          const json j = json::parse(frames[1].to_string());
          const ImageSize size{j.value("height", std::size_t(0)), j.value("width", std::size_t(0))};
          log(cat("series ", j.value("series_id", std::uint64_t(0)), " started (", size.height, "x", size.width,
                  ")"));
          if (size.height && size.width && size.height * size.width <= (std::size_t(1) << 24))
            tasks.push(Task{0, {}, 0, size});
        } else if (kind == link::kEnd) {
          const json j = json::parse(frames[1].to_string());
          log(cat("series ", j.value("series_id", std::uint64_t(0)), " ended"));
          if (options.exit_after_series && ++ended >= options.exit_after_series) done = true;
        } else if (kind == link::kWho) {
          ready();
        } else if (kind == link::kRefused) {
          refused = json::parse(frames[1].to_string()).value("error", std::string("no reason given"));
          done = true;
        }
      } catch (const json::exception& e) {
        log(cat("a malformed ", kind, " message from the ingest ignored (", e.what(), ")"));
      }
    }
    while (std::optional<Outcome> o = outbox.try_pop()) {
      send_outcome(*o);
      --held;
    }
    if (Clock::now() - last_beat >= std::chrono::milliseconds(link::kHeartbeatMs)) {
      send(link::kHeartbeat, "{}");
      last_beat = Clock::now();
    }
    if (failed) break;
  }
  // Stopping: the images received are finished and their results sent.
  tasks.close();
  while (std::optional<Outcome> o = outbox.pop()) {
    send_outcome(*o);
  }
  engine_thread.join();
  if (failure) std::rethrow_exception(failure);
  if (!refused.empty()) fail("sira serve --worker: ", options.ingest, " refused this worker: ", refused);
}

}  // namespace sira::serve
