// The three-stage pipeline behind sira denoise: reader thread -> engine (the
// calling thread, whose OpenMP team does the arithmetic) -> writer thread. The
// I/O threads mostly sleep on the disk or on a full/empty queue, so they take
// little from the compute cores.
#include "sira/denoise_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "sira/error.hpp"
#include "sira/stack_stream.hpp"
#include "stream/bounded_queue.hpp"

namespace sira {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The slices slice `index` needs, as a small stack in which it is slice `centre`:
// clamping to this window's ends repeats the stack's edges exactly as clamping
// to the whole stack does, so Engine::denoise_slice gives the whole-stack result.
struct Neighbourhood {
  std::size_t index = 0;
  std::size_t centre = 0;
  Stack window;
};

struct Finished {
  std::size_t index = 0;
  Stack slice;  // depth 1
};

// Throws naming the input, the slice (in the whole stack), row and column of the
// first NaN/Inf, as check_finite does for a whole stack.
void check_slice_finite(const Stack& one, std::size_t index, const std::string& what) {
  for (std::size_t i = 0; i < one.data.size(); ++i)
    if (!std::isfinite(one.data[i]))
      fail(what, ": non-finite value (", one.data[i], ") at slice ", index, ", row ",
           i / one.width, ", column ", i % one.width, "; the network needs finite samples");
}

// The first failure of any stage; it cancels both queues so every stage stops.
class FirstError {
 public:
  template <typename A, typename B>
  void record(std::exception_ptr e, A& a, B& b) {
    {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = e;
    }
    a.cancel();
    b.cancel();
  }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

}  // namespace

StreamReport denoise_stream(Engine& engine, const std::string& input, const std::string& output,
                            const StreamOptions& options) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<StackReader> reader = open_stack_reader(input);
  const StackInfo info = reader->info();
  const std::size_t min = engine.min_size();
  if (info.height < min || info.width < min)
    fail(input, ": image ", info.height, "x", info.width, " is smaller than the minimum ", min,
         "x", min, " this model accepts");
  std::unique_ptr<StackWriter> writer = create_stack_writer(
      output, StackInfo{info.depth, info.height, info.width, options.dtype, info.is_2d},
      options.dtype);

  const std::size_t depth = info.depth;
  const std::size_t reach = std::size_t(engine.graph().in_channels) / 2;  // neighbours each side
  stream::BoundedQueue<Neighbourhood> to_engine(options.read_ahead);
  stream::BoundedQueue<Finished> to_writer(options.write_behind);
  FirstError error;
  Stack preview_slice;

  std::thread read_thread([&] {
    try {
      std::deque<Stack> held;  // slices [held_first, held_first + held.size())
      std::size_t held_first = 0;
      for (std::size_t z = 0; z < depth; ++z) {
        const std::size_t lo = z >= reach ? z - reach : 0;
        const std::size_t hi = std::min(depth - 1, z + reach);
        while (held_first + held.size() <= hi) {
          const std::size_t next = held_first + held.size();
          held.push_back(reader->read_slices(next, 1));
          check_slice_finite(held.back(), next, input);
        }
        while (held_first < lo) {
          held.pop_front();
          ++held_first;
        }
        Neighbourhood n{z, z - lo, {}};
        if (reach == 0) {
          n.window = std::move(held.front());
          held.pop_front();
          ++held_first;
        } else {
          n.window = Stack(hi - lo + 1, info.height, info.width);
          for (std::size_t d = 0; d < n.window.depth; ++d)
            std::copy(held[d].data.begin(), held[d].data.end(), n.window.slice(d));
        }
        if (!to_engine.push(std::move(n))) return;
      }
      to_engine.close();
    } catch (...) {
      error.record(std::current_exception(), to_engine, to_writer);
    }
  });

  std::thread write_thread([&] {
    try {
      while (std::optional<Finished> f = to_writer.pop()) {
        writer->write_slices(f->index, f->slice);
        if (!options.preview.empty() && f->index == depth / 2) preview_slice = std::move(f->slice);
      }
    } catch (...) {
      error.record(std::current_exception(), to_engine, to_writer);
    }
  });

  StreamReport report;
  report.input = info;
  try {
    for (std::size_t done = 0;;) {
      Clock::time_point t = Clock::now();
      std::optional<Neighbourhood> n = to_engine.pop();
      report.wait_seconds += seconds_since(t);
      if (!n) break;
      Finished f{n->index, Stack(1, info.height, info.width)};
      t = Clock::now();
      engine.denoise_slice(n->window, n->centre, f.slice.data.data());
      report.compute_seconds += seconds_since(t);
      t = Clock::now();
      if (!to_writer.push(std::move(f))) break;
      report.wait_seconds += seconds_since(t);
      if (options.progress) options.progress(++done, depth);
    }
    to_writer.close();
  } catch (...) {
    error.record(std::current_exception(), to_engine, to_writer);
  }
  read_thread.join();
  write_thread.join();
  error.rethrow();  // the writer's destructor removes the temporary output
  reader.reset();
  writer->commit();
  if (!options.preview.empty()) write_preview_png(options.preview, preview_slice, 0);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace sira
