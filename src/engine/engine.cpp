// The executor around a backend: builds the graph, picks the backend and the
// thread count, and turns arbitrary images into the padded, normalised,
// possibly tiled inputs a backend runs (docs/engine.md).
#include "sira/engine.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "engine/backend.hpp"
#include "engine/normalize.hpp"
#include "engine/tiling.hpp"
#include "engine/tiling_padding.hpp"
#include "sira/error.hpp"

namespace sira {

#ifndef SIRA_HAVE_ONEDNN
std::unique_ptr<Backend> make_onednn_backend(const Model&, const Graph&, int, LayerPrecision) {
  fail("the oneDNN backend is not available: sira was built without oneDNN "
       "(use --backend ref or auto)");
}
bool onednn_available() { return false; }
std::string onednn_unsupported(const Model&, LayerPrecision) {
  return "sira was built without oneDNN";
}
#endif

namespace {

std::unique_ptr<Backend> make_backend(const EngineOptions& o, const Model& model, const Graph& graph,
                                      int threads) {
  const std::string& name = o.backend;
  if (name != "auto" && name != "ref" && name != "onednn")
    fail("unknown backend '", name, "' (expected auto, ref or onednn)");
  if (o.observer && name == "onednn") fail("node observers need the ref backend");
  const LayerPrecision precision = parse_precision(o.precision);
  // auto: oneDNN where it can run this model at this precision, else the ref kernels.
  const bool onednn = name == "onednn" || (name == "auto" && !o.observer && onednn_available() &&
                                           onednn_unsupported(model, precision).empty());
  if (onednn) return make_onednn_backend(model, graph, threads, precision);
  return make_ref_backend(model, graph, threads, o.precision, o.observer);
}

// Throws naming the first NaN/Inf of one slice.
void check_slice_finite(const Stack& s, std::size_t index) {
  const float* p = s.slice(index);
  for (std::size_t i = 0; i < s.slice_size(); ++i)
    if (!std::isfinite(p[i]))
      fail("input: non-finite value (", p[i], ") at slice ", index, ", row ", i / s.width,
           ", column ", i % s.width, "; the network needs finite samples");
}

}  // namespace

int resolve_threads(int threads) {
  if (threads < 0) fail("thread count ", threads, " is negative (0 means every core)");
  return threads > 0 ? threads : omp_get_num_procs();
}

Engine::Engine(const Model& model, const EngineOptions& options)
    : model_(model), graph_(build_graph(model.config)), options_(options) {
  if (options.precision != "fp32" && options.precision != "bf16" && options.precision != "int8")
    fail("precision '", options.precision, "' is unknown (expected fp32, bf16 or int8)");
  if (options.precision == "int8" && !model.quant)
    fail("precision int8 needs a quantised model (sira quantize makes one); this model is fp32");
  threads_ = resolve_threads(options.threads);
  omp_set_num_threads(threads_);
  backend_ = make_backend(options_, model_, graph_, threads_);
}

Engine::~Engine() = default;

std::string Engine::backend_name() const { return backend_->name(); }
std::string Engine::precision() const { return backend_->precision(); }

std::size_t Engine::min_size() const { return std::size_t(graph_.multiple()); }

std::size_t Engine::tile_halo() const {
  return options_.tile == 0 ? 0
                            : sira::tile_halo(graph_.receptive_radius(), graph_.multiple());
}

void Engine::denoise_slice(const Stack& input, std::size_t index, float* out) {
  if (index >= input.depth)
    fail("slice ", index, " is out of range (the stack has ", input.depth, " slices)");
  const std::size_t n = input.slice_size();
  const std::size_t cin = std::size_t(graph_.in_channels);
  const IntensityMap map = intensity_map(model_.norm, input.slice(index), n);
  channels_.resize(cin * n);
  // Channel c holds slice index + c - cin/2 (a 3-slice model sees [i-1, i, i+1]);
  // the first and last slices repeat themselves as their missing neighbour.
  for (std::size_t c = 0; c < cin; ++c) {
    const std::ptrdiff_t wanted = std::ptrdiff_t(index + c) - std::ptrdiff_t(cin / 2);
    const std::size_t source =
        std::size_t(std::clamp<std::ptrdiff_t>(wanted, 0, std::ptrdiff_t(input.depth) - 1));
    check_slice_finite(input, source);
    normalize(input.slice(source), n, map, channels_.data() + c * n);
  }
  run_normalised(channels_.data(), input.height, input.width, out);
  denormalize(out, n, map);
}

Stack Engine::denoise(const Stack& input, const Progress& progress) {
  check_dims(input.depth, input.height, input.width, "input");
  Stack out(input.depth, input.height, input.width, input.dtype);
  out.is_2d = input.is_2d;
  for (std::size_t d = 0; d < input.depth; ++d) {
    denoise_slice(input, d, out.slice(d));
    if (progress) progress(d + 1, input.depth);
  }
  return out;
}

void Engine::run_normalised(const float* input, std::size_t h, std::size_t w, float* out) {
  const std::size_t m = min_size();
  if (h < m || w < m)
    fail("image ", h, "x", w, " is smaller than the minimum ", m, "x", m,
         " this model accepts (", graph_.levels, " pooling levels)");
  const std::size_t ph = round_up_to(h, m), pw = round_up_to(w, m);
  if (ph == h && pw == w) {
    run_padded(input, h, w, out);
    return;
  }
  const std::size_t cin = std::size_t(graph_.in_channels);
  padded_in_.resize(cin * ph * pw);
  padded_out_.resize(ph * pw);
  reflect_pad(input, cin, h, w, ph, pw, padded_in_.data());
  run_padded(padded_in_.data(), ph, pw, padded_out_.data());
  crop_top_left(padded_out_.data(), pw, h, w, out);
}

void Engine::run_padded(const float* input, std::size_t h, std::size_t w, float* out) {
  const std::size_t m = min_size();
  const std::size_t edge = round_up_to(options_.tile, m);
  if (options_.tile == 0 || (edge >= h && edge >= w)) {
    backend_->run(input, h, w, out);
    return;
  }
  const std::size_t cin = std::size_t(graph_.in_channels);
  for (const Tile& t : plan_tiles(h, w, edge, tile_halo(), m)) {
    const Rect& r = t.input;
    tile_in_.resize(cin * r.height() * r.width());
    tile_out_.resize(r.height() * r.width());
    for (std::size_t c = 0; c < cin; ++c)
      for (std::size_t y = r.y0; y < r.y1; ++y) {
        const float* src = input + (c * h + y) * w + r.x0;
        std::copy(src, src + r.width(), tile_in_.data() + (c * r.height() + y - r.y0) * r.width());
      }
    backend_->run(tile_in_.data(), r.height(), r.width(), tile_out_.data());
    for (std::size_t y = t.core.y0; y < t.core.y1; ++y) {
      const float* src = tile_out_.data() + (y - r.y0) * r.width() + (t.core.x0 - r.x0);
      std::copy(src, src + t.core.width(), out + y * w + t.core.x0);
    }
  }
}

}  // namespace sira
