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
#include <memory>
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

// The slices slice `index` needs, in stack order, with slice `index` at
// `centre`: clamping to this window's ends repeats the stack's edges exactly as
// clamping to the whole stack does, so Engine::denoise_window gives the
// whole-stack result. Neighbouring windows share slices rather than copy them.
struct Neighbourhood {
  std::size_t index = 0;
  std::size_t centre = 0;
  std::vector<std::shared_ptr<const Stack>> window;  // each of depth 1
};

// Finished rows of one output slice (a tiled run hands them over a row of
// tiles at a time, so a whole output slice is never held).
struct Finished {
  std::size_t index = 0;
  std::size_t first_row = 0;
  Stack band;  // depth 1, the slice's width
};

// Throws naming the input, the slice (in the whole stack), row and column of the
// first NaN/Inf, as check_finite does for a whole stack.
void check_slice_finite(const Stack& one, std::size_t index, const std::string& what) {
  for (std::size_t i = 0; i < one.data.size(); ++i)
    if (!std::isfinite(one.data[i]))
      fail(what, ": non-finite value (", one.data[i], ") at slice ", index, ", row ",
           i / one.width, ", column ", i % one.width, "; the network needs finite samples");
}

// Restored float data (attenuation per pixel, say 0.001..0.02) rounded to
// integers would all become 0 or 1. The output keeps the input's units, so a
// float slice that spans fewer than `min_steps` integers is refused before any
// of it is written (counts stored as float, spanning thousands, are fine).
void check_slice_fits_integers(const Stack& one, std::size_t index, const std::string& what, DType as) {
  constexpr double min_steps = 64;
  const auto [lo, hi] = std::minmax_element(one.data.begin(), one.data.end());
  if (double(*hi) - double(*lo) < min_steps)
    fail(what, ": slice ", index, " spans only ", *lo, " .. ", *hi, "; restored as ", dtype_name(as),
         " it would lose its values to rounding. Write float32 (the default) and scale it with "
         "sira convert --range LO:HI --dtype ", dtype_name(as));
}

// Thrown out of the engine's row sink when the writer has stopped, so the
// rest of a slice is not computed for nothing.
struct Cancelled {};

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

void check_fits_model(const Engine& engine, const StackInfo& info, const std::string& input) {
  const std::size_t min = engine.min_size();
  if (info.height < min || info.width < min)
    fail(input, ": image ", info.height, "x", info.width, " is smaller than the minimum ", min,
         "x", min, " this model accepts");
}

}  // namespace

StreamReport denoise_slab(Engine& engine, StackReader& reader, StackWriter& writer, std::size_t first,
                          std::size_t count, const StreamOptions& options, Stack* preview_slice) {
  const Clock::time_point start = Clock::now();
  const StackInfo info = reader.info();
  const std::string& input = reader.spec();
  check_fits_model(engine, info, input);
  const std::size_t depth = info.depth;
  if (first > depth || count > depth - first)
    fail(input, ": slab ", first, "+", count, " lies outside its ", depth, " slices");
  const std::size_t end = first + count;
  const std::size_t reach = std::size_t(engine.graph().in_channels) / 2;  // neighbours each side
  stream::BoundedQueue<Neighbourhood> to_engine(options.read_ahead);
  stream::BoundedQueue<Finished> to_writer(options.write_behind);
  FirstError error;

  std::thread read_thread([&] {
    try {
      std::deque<std::shared_ptr<const Stack>> held;  // slices [held_first, held_first + held.size())
      std::size_t held_first = first >= reach ? first - reach : 0;
      for (std::size_t z = first; z < end; ++z) {
        const std::size_t lo = z >= reach ? z - reach : 0;
        const std::size_t hi = std::min(depth - 1, z + reach);
        while (held_first + held.size() <= hi) {
          const std::size_t next = held_first + held.size();
          auto slice = std::make_shared<const Stack>(reader.read_slices(next, 1));
          check_slice_finite(*slice, next, input);
          if (options.dtype != DType::f32 && info.dtype == DType::f32)
            check_slice_fits_integers(*slice, next, input, options.dtype);
          held.push_back(std::move(slice));
        }
        while (held_first < lo) {
          held.pop_front();
          ++held_first;
        }
        Neighbourhood n{z, z - lo, {held.begin(), held.begin() + std::ptrdiff_t(hi - lo + 1)}};
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
        writer.write_rows(f->index - first, f->first_row, f->band);
        if (preview_slice && f->index == depth / 2) {
          if (f->first_row == 0) *preview_slice = Stack(1, info.height, info.width);
          std::copy(f->band.data.begin(), f->band.data.end(),
                    preview_slice->data.begin() + std::ptrdiff_t(f->first_row * info.width));
        }
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
      std::vector<const float*> window;
      for (const auto& slice : n->window) window.push_back(slice->slice(0));
      t = Clock::now();
      try {
        engine.denoise_window(window, n->centre, info.height, info.width,
                              [&](std::size_t first_row, std::size_t rows, const float* band) {
                                Finished f{n->index, first_row, Stack(1, rows, info.width)};
                                std::copy(band, band + rows * info.width, f.band.data.begin());
                                const Clock::time_point queued = Clock::now();
                                if (!to_writer.push(std::move(f))) throw Cancelled{};
                                report.wait_seconds += seconds_since(queued);
                                report.compute_seconds -= seconds_since(queued);
                              });
      } catch (const Cancelled&) {
        break;  // another stage failed; its error is rethrown below
      }
      report.compute_seconds += seconds_since(t);
      n.reset();  // drop this window's references, so a slice is freed once no window needs it
      if (options.progress) options.progress(++done, count);
    }
    to_writer.close();
  } catch (...) {
    error.record(std::current_exception(), to_engine, to_writer);
  }
  read_thread.join();
  write_thread.join();
  error.rethrow();
  report.seconds = seconds_since(start);
  return report;
}

StreamReport denoise_stream(Engine& engine, const std::string& input, const std::string& output,
                            const StreamOptions& options) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<StackReader> reader = open_stack_reader(input);
  const StackInfo info = reader->info();
  check_fits_model(engine, info, input);
  std::unique_ptr<StackWriter> writer = create_stack_writer(
      output, StackInfo{info.depth, info.height, info.width, options.dtype, info.is_2d},
      options.dtype);
  writer->set_provenance(options.provenance);
  Stack preview_slice;
  StreamReport report = denoise_slab(engine, *reader, *writer, 0, info.depth, options,
                                     options.preview.empty() ? nullptr : &preview_slice);
  // (on failure the writer's destructor has removed the temporary output)
  reader.reset();
  writer->commit();
  if (!options.preview.empty()) write_preview_png(options.preview, preview_slice, 0);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace sira
