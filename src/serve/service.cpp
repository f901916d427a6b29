#include "serve/service.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <map>
#include <deque>
#include <future>
#include <memory>
#include <set>
#include <optional>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/input_decoder.hpp"
#include "serve/latest_slot.hpp"
#include "serve/drop_log.hpp"
#include "serve/result_publisher.hpp"
#include "serve/recon_job.hpp"
#include "serve/rejection.hpp"
#include "serve/series_tracker.hpp"
#include "serve/warm_up.hpp"
#include "stream/bounded_queue.hpp"

namespace sira::serve {
namespace {

using Clock = std::chrono::steady_clock;

// What the receiver hands the worker: an image, or the end of its series (so a
// multi-slice model finishes the series' last images).
// Or, in projections mode, a reconstruction.
struct Work {
  bool flush = false;
  Message image;
  Clock::time_point arrived;
  std::shared_ptr<ReconJob> job;
  ImageSize warm{};  // non-zero: a series of this size starts; warm the engine up for it
};

using Result = PublishedImage;

// The two lanes behind one interface.
class Lane {
 public:
  Lane(const std::string& kind, std::size_t capacity, Counters& counters)
      : preview_(kind == "preview"), queue_(capacity), counters_(counters) {}
  void put(Work w) {
    if (!preview_) {
      queue_.push(std::move(w));  // blocks while full: back-pressure
      return;
    }
    // A step of an incremental reconstruction is never displaced (the reconstruction needs every one).
    const bool marker = w.flush || w.warm.height || (w.job && !w.job->publish);
    // A newer reconstruction takes over the frames of the one it displaces (they are in its window).
    auto absorb = [](Work& older, Work& newer) {
      if (older.job && newer.job) newer.job->frames += older.job->frames;
    };
    if (std::optional<Work> d = slot_.put(std::move(w), marker, absorb)) {
      if (d->job) ++counters_.updates_superseded;
      else counters_.drop("superseded");
    }
  }
  std::optional<Work> take() { return preview_ ? slot_.take() : queue_.pop(); }
  std::optional<Work> try_take() { return preview_ ? slot_.try_take() : queue_.try_pop(); }
  void close() {
    if (preview_) slot_.close();
    else queue_.close();
  }
  void cancel() {  // a stage failed: release a receiver blocked on a full queue
    slot_.close();
    queue_.cancel();
  }

 private:
  bool preview_;
  stream::BoundedQueue<Work> queue_;
  LatestSlot<Work> slot_;
  Counters& counters_;
};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

void run_service(Engine& engine, const ServeOptions& options, Counters& counters, const std::atomic<bool>& stop,
                 const std::atomic<bool>& abort, const std::function<void(const std::string&)>& log) {
  const bool preview = options.lane == "preview";
  const bool projections = options.mode == "projections";
  const bool v2 = options.protocol == "stream-v2";
  zmq::context_t context(1);
  zmq::socket_t in(context, options.socket == "sub" ? zmq::socket_type::sub : zmq::socket_type::pull);
  in.set(zmq::sockopt::rcvhwm, std::max(1, options.receive_hwm));
  in.set(zmq::sockopt::linger, 0);
  if (options.socket == "sub") in.set(zmq::sockopt::subscribe, "");

  Lane lane(options.lane, options.queue, counters);
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::atomic<bool> failed{false};
  auto record = [&](std::exception_ptr e) {
    {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = e;
    }
    failed = true;
    lane.cancel();
  };
  // Outputs (PUSH, PUB, live HDF5, live page) on their own thread. The preview
  // lane drops a result the PUSH consumer has no room for; a reconstruction's
  // slices are never dropped.
  PublisherOptions published;
  published.source = "sira serve";
  published.push_bind = options.push_bind;
  published.pub_bind = options.pub_bind;
  published.output = options.output;
  published.swmr = options.swmr;
  published.description = options.description;
  published.drop_when_push_full = preview && !projections;
  published.count_updates = projections;
  published.view = options.view;
  published.queue = 2;
  ResultPublisher results(context, published, counters, abort, log, record);

  // Worker: a model of 2r+1 input slices sees each image with its r neighbours
  // on each side in arrival order, the series' ends repeated (as sira denoise
  // repeats a stack's); a 1-slice model (r = 0) denoises each image at once.
  std::promise<void> warmed;  // the worker has run its --warm-up sizes
  std::thread worker([&] {
    try {
      const std::size_t reach = std::size_t(engine.graph().in_channels) / 2;
      struct Held {
        Message meta;  // samples cleared once converted
        std::vector<float> pixels;
        Clock::time_point arrived;
      };
      std::deque<Held> held;        // images [first, first + held.size()) of the series
      std::size_t first = 0, count = 0, next = 0;  // next: the next image to denoise
      auto emit = [&](std::size_t i) {
        const std::size_t lo = i >= reach ? i - reach : 0, hi = std::min(count - 1, i + reach);
        std::vector<const float*> window;
        for (std::size_t k = lo; k <= hi; ++k) window.push_back(held[k - first].pixels.data());
        const Held& h = held[i - first];
        Result r{h.meta.has_series, h.meta.series_id, h.meta.image_id, h.meta.height, h.meta.width,
                 std::vector<float>(h.meta.height * h.meta.width), h.arrived};
        if (options.view) r.raw = h.pixels;
        engine.denoise_window(window, i - lo, h.meta.height, h.meta.width, r.pixels.data());
        ++counters.denoised;
        results.hand_over(std::move(r));
        while (first + reach < i + 1 && !held.empty()) held.pop_front(), ++first;  // keep i+1-reach onwards
      };
      auto flush = [&] {
        while (next < count) emit(next++);
        held.clear();
        first = count = next = 0;
      };
      // Projections mode: reconstruct the job's rows, then denoise each with its
      // neighbours among them (the ends repeated), as sira denoise does the
      // stack sira recon writes.
      std::set<ImageSize> warm;  // sizes the engine has run
      auto warm_for = [&](ImageSize size) {
        if (warm.insert(size).second) warm_up(engine, size);
      };
      // In this thread, which runs the engine from now on (its OpenMP team and
      // per-thread buffers are this thread's), before the receiver connects.
      for (const ImageSize& size : options.warm_up) {
        const Clock::time_point t = Clock::now();
        warm_for(size);
        log(cat("engine warmed up for ", size.height, "x", size.width, " in ", int(ms_since(t)), " ms"));
      }
      warmed.set_value();
      std::optional<Work> pending;  // taken from the lane while gathering steps, not handled yet
      constexpr std::size_t kMaxSteps = 32;
      auto run_job = [&](const ReconJob& job, Clock::time_point arrived) {
        if (!job.publish) {  // a projection added to the first reconstruction: nothing to publish yet
          // With the steps that wait behind it, in one pass over the sums.
          std::vector<const ReconJob*> steps{&job};
          std::vector<std::shared_ptr<ReconJob>> held_steps;
          while (steps.size() < kMaxSteps && !pending) {
            std::optional<Work> next = lane.try_take();
            if (!next) break;
            if (next->job && !next->job->publish && next->job->incremental == job.incremental) {
              held_steps.push_back(next->job);
              steps.push_back(next->job.get());
            } else {
              pending = std::move(next);  // handled next, after these steps
            }
          }
          accumulate(steps);
          warm_for({job.cols, job.cols});  // while projections arrive, not when the reconstruction is due
          return;
        }
        Stack slices;                                           // a whole-window job's
        const tomo::BackprojectionAccumulator* sums = nullptr;  // an incremental one's: rows finished as needed
        try {
          if (job.incremental) sums = &incremental_sums(job);
          else slices = reconstruct(job);
        } catch (const Error& e) {  // the data (a flat, the centre) do not allow it: this update is lost
          counters.drop("bad_data", job.frames);
          log(cat("series ", job.series, ", update ", job.update, " (images ", job.first_id, "..", job.last_id,
                  "): dropped (bad_data): ", e.what()));
          return;
        }
        const std::size_t size = job.cols, n = job.rows.size();
        counters.reconstructed += n;
        std::vector<std::vector<float>> finished(sums ? n : 0);
        const double weight = sums ? tomo::angular_weight(job.theta) : 0.0;
        auto slice = [&](std::size_t k) -> const float* {
          if (!sums) return slices.slice(k);
          if (finished[k].empty()) {
            finished[k].resize(size * size);
            sums->finish_slice(k, weight, job.circle_mask, finished[k].data());
          }
          return finished[k].data();
        };
        // Row by row: each is published once it and its neighbours are finished and it is denoised.
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t lo = i >= reach ? i - reach : 0, hi = std::min(n - 1, i + reach);
          std::vector<const float*> window;
          for (std::size_t k = lo; k <= hi; ++k) window.push_back(slice(k));
          const bool last = i + 1 == n;
          Result r{true, job.series, job.rows[i], size, size, std::vector<float>(size * size), arrived,
                   cat("{\"row\":", job.rows[i], ",\"update\":", job.update, ",\"projections\":", job.projections,
                       ",\"first_image_id\":", job.first_id, ",\"last_image_id\":", job.last_id, "}")};
          r.frames = last ? job.frames : 0;
          r.last_of_job = last;
          if (options.view) r.raw.assign(slice(i), slice(i) + size * size);
          engine.denoise_window(window, i - lo, size, size, r.pixels.data());
          ++counters.denoised;
          results.hand_over(std::move(r));
          if (sums && i >= reach) std::vector<float>().swap(finished[i - reach]);  // no later row needs it
        }
        warm.insert({size, size});
      };
      for (;;) {
        std::optional<Work> w;
        if (pending) w.swap(pending);
        else w = lane.take();
        if (!w) break;
        if (w->job) {
          run_job(*w->job, w->arrived);
          continue;
        }
        if (w->flush) {
          flush();
          continue;
        }
        if (w->warm.height) {
          warm_for(w->warm);
          continue;
        }
        if (count > 0 && (held.empty() || held.back().meta.series_id != w->image.series_id ||
                          held.back().meta.height != w->image.height || held.back().meta.width != w->image.width))
          flush();
        Held h{std::move(w->image), {}, w->arrived};
        h.pixels.resize(h.meta.height * h.meta.width);
        samples_to_float(h.meta, h.pixels.data());
        h.meta.samples.clear();
        h.meta.samples.shrink_to_fit();
        warm.insert({h.meta.height, h.meta.width});
        held.push_back(std::move(h));
        ++count;
        while (next + reach < count) emit(next++);
      }
      flush();
    } catch (...) {
      record(std::current_exception());
      try {
        warmed.set_value();
      } catch (const std::future_error&) {  // already set
      }
    }
  });

  // Receiver. Connected once the engine is warm: until then a sender is held
  // back (its PUSH has no peer) rather than its first images delayed.
  warmed.get_future().wait();
  in.connect(options.input);
  log(cat("ready: connected to ", options.input));
  SeriesTracker tracker;
  DropLog drops;
  std::uint64_t message = 0, ended = 0;
  bool done = false;
  ProjectionAssembler assembler(options.projection);
  bool assembling = false;  // a series is open in the assembler
  auto finish_projections = [&](Clock::time_point arrived) {
    if (!assembling) return;
    assembling = false;
    std::uint64_t lost = 0;
    Absorbed a = assembler.end_series(&lost);
    if (!a.note.empty()) log(a.note);
    if (lost) counters.drop("incomplete", lost);
    if (a.job) lane.put(Work{false, {}, arrived, a.job});
  };
  while (!stop && !done && !failed) {
    zmq::pollitem_t item{in.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: the loop checks `stop`
      throw;
    }
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(in, std::back_inserter(frames), zmq::recv_flags::dontwait)) continue;
    ++message;
    const Clock::time_point arrived = Clock::now();
    Message m;
    try {
      m = decode_input(frames, v2, options.channel);
      if (m.kind == MessageKind::image) {
        const Verdict v = tracker.image(m);  // may reject a size that disagrees with the series
        ++counters.received;
        ++counters.decoded;
        if (v.new_series) ++counters.series;
        if (!v.note.empty()) log(v.note);
        if (!v.accept) {
          counters.drop(v.drop_reason);
          if (drops.should(v.drop_reason))
            log(cat("message ", message, " (image ", m.image_id, " of series ", m.series_id, "): dropped (",
                    v.drop_reason, ")"));
          continue;
        }
        if (v.out_of_order) ++counters.out_of_order;
        if (!projections) {
          lane.put(Work{false, std::move(m), arrived, nullptr});
          continue;
        }
        if (v.new_series) {
          finish_projections(arrived);
          assembler.begin_series(tracker.series(), Message{});
        }
        assembling = true;
        Absorbed a;
        try {
          a = assembler.image(m, tracker.series());
        } catch (const Rejection& r) {  // decoded, but not an image these options can use
          --counters.decoded;
          counters.reject(r.reason());
          if (drops.should(r.reason())) log(cat("message ", message, ": rejected (", r.reason(), "): ", r.what()));
          continue;
        }
        if (!a.note.empty() && (!a.drop_reason || drops.should(a.drop_reason))) log(a.note);
        if (a.drop_reason) counters.drop(a.drop_reason);
        if (a.job) lane.put(Work{false, {}, arrived, a.job});
      } else if (m.kind == MessageKind::start) {
        const bool was_active = tracker.active();
        const Verdict v = tracker.start(m);
        ++counters.control;
        if (v.new_series) {
          ++counters.series;
          if (projections) {
            finish_projections(arrived);
            assembler.begin_series(m.series_id, m);
            assembling = true;
          } else if (was_active) {
            lane.put(Work{true, {}, arrived, nullptr});
          }
          // Ahead of the images (a detector is armed before it is triggered); only
          // for sizes up to 4096^2, so that a forged start cannot make it allocate much.
          if (!projections && m.height && m.width && m.height * m.width <= (std::size_t(1) << 24))
            lane.put(Work{false, {}, arrived, nullptr, {m.height, m.width}});
        }
        log(v.note.empty() ? cat("series ", m.series_id, " started (", m.number_of_images, " images of ", m.height,
                                 "x", m.width, ")")
                           : v.note);
      } else {
        const bool was_active = tracker.active();
        const Verdict v = tracker.end(m);
        ++counters.control;
        if (!v.note.empty()) log(v.note);
        if (was_active && !tracker.active()) {
          log(cat("series ", tracker.series(), " ended"));
          if (projections) finish_projections(arrived);
          else lane.put(Work{true, {}, arrived, nullptr});
          if (options.exit_after_series && ++ended >= options.exit_after_series) done = true;
        }
      }
    } catch (const Rejection& r) {
      ++counters.received;
      counters.reject(r.reason());
      log(cat("message ", message, ": rejected (", r.reason(), "): ", r.what()));
    }
  }
  if (projections && !failed) {  // drain: what the stream gave so far is reconstructed
    finish_projections(Clock::now());
    if (assembler.waiting_references()) counters.drop("incomplete", assembler.waiting_references());
  }
  lane.close();
  worker.join();
  try {
    results.finish();  // publishes what the worker finished, closes the file
  } catch (...) {
    record(std::current_exception());
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace sira::serve
