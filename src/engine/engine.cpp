// The executor around a backend session: turns arbitrary images into the
// padded, normalised, possibly tiled inputs a backend runs (docs/engine.md).
// Compiling (the graph, the backend, the packed weights) is compiled_model.cpp.
#include "sira/engine.hpp"

#include <algorithm>
#include <cmath>

#include "core/thread_limit.hpp"
#include "engine/backend.hpp"
#include "engine/normalize.hpp"
#include "engine/tiling.hpp"
#include "engine/tiling_padding.hpp"
#include "sira/error.hpp"

namespace sira {
namespace {

// Throws naming the first NaN/Inf of one slice.
void check_slice_finite(const Stack& s, std::size_t index) {
  const float* p = s.slice(index);
  for (std::size_t i = 0; i < s.slice_size(); ++i)
    if (!std::isfinite(p[i]))
      fail("input: non-finite value (", p[i], ") at slice ", index, ", row ", i / s.width,
           ", column ", i % s.width, "; the network needs finite samples");
}

// A row sink writing each band into a whole h x w image.
Engine::RowSink copy_rows_into(float* out, std::size_t w) {
  return [out, w](std::size_t first_row, std::size_t rows, const float* band) {
    std::copy(band, band + rows * w, out + first_row * w);
  };
}

// A residual network's output is the backend's plus the centre input plane
// (Graph::residual); `planes` is the backend's planar input of n samples a plane.
void add_residual(const Graph& g, const float* planes, std::size_t n, float* out) {
  if (!g.residual) return;
  const float* centre = planes + std::size_t(g.in_channels / 2) * n;
  for (std::size_t i = 0; i < n; ++i) out[i] += centre[i];
}

}  // namespace

Engine::Engine(std::shared_ptr<const CompiledModel> compiled) : compiled_(std::move(compiled)) {
  if (!compiled_) fail("Engine: no compiled model (compile(model, options) makes one)");
  ThreadLimit limit(compiled_->threads());
  backend_ = compiled_->packed().session();
}

Engine::Engine(const Model& model, const EngineOptions& options) : Engine(compile(model, options)) {}

Engine::~Engine() = default;

std::size_t Engine::min_size() const { return std::size_t(graph().multiple()); }

std::size_t Engine::tile_halo() const {
  const EngineOptions& o = compiled_->options();
  if (o.tile == 0) return 0;
  const long radius = o.halo >= 0 ? o.halo : graph().receptive_radius();
  return sira::tile_halo(int(std::min<long>(radius, graph().receptive_radius())), graph().multiple());
}

void Engine::denoise_slice(const Stack& input, std::size_t index, float* out) {
  if (index >= input.depth)
    fail("slice ", index, " is out of range (the stack has ", input.depth, " slices)");
  const std::size_t reach = std::size_t(graph().in_channels) / 2;
  const std::size_t first = index >= reach ? index - reach : 0;
  const std::size_t last = std::min(input.depth - 1, index + reach);
  std::vector<const float*> window;
  for (std::size_t d = first; d <= last; ++d) {
    check_slice_finite(input, d);
    window.push_back(input.slice(d));
  }
  denoise_window(window, index - first, input.height, input.width, out);
}

void Engine::denoise_window(const std::vector<const float*>& slices, std::size_t centre,
                            std::size_t h, std::size_t w, float* out) {
  denoise_window(slices, centre, h, w, copy_rows_into(out, w));
}

void Engine::denoise_window(const std::vector<const float*>& slices, std::size_t centre,
                            std::size_t h, std::size_t w, const RowSink& sink) {
  if (centre >= slices.size())
    fail("slice ", centre, " is out of range (the window has ", slices.size(), " slices)");
  const std::size_t cin = std::size_t(graph().in_channels);
  const IntensityMap map = intensity_map(compiled_->model().norm, slices[centre], h, w);
  // Channel c holds slice centre + c - cin/2 (a 3-slice model sees [i-1, i, i+1]);
  // the window's ends repeat themselves as their missing neighbour.
  PlanarInput in{std::vector<const float*>(cin), h, w, float(map.offset), float(map.scale)};
  for (std::size_t c = 0; c < cin; ++c) {
    const std::ptrdiff_t wanted = std::ptrdiff_t(centre + c) - std::ptrdiff_t(cin / 2);
    in.planes[c] = slices[std::size_t(
        std::clamp<std::ptrdiff_t>(wanted, 0, std::ptrdiff_t(slices.size()) - 1))];
  }
  run_planes(in, sink, [&](float* band, std::size_t n) { denormalize(band, n, map); });
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
  ThreadLimit limit(threads());
  const std::size_t m = min_size();
  // Already padded and not tiled: the backend reads the caller's buffer as is.
  if (h % m == 0 && w % m == 0 && h >= m && w >= m && !is_tiled(h, w)) {
    backend_->run(input, h, w, out);
    add_residual(graph(), input, h * w, out);
    return;
  }
  const std::size_t cin = std::size_t(graph().in_channels);
  PlanarInput in{std::vector<const float*>(cin), h, w, 0.0f, 1.0f};
  for (std::size_t c = 0; c < cin; ++c) in.planes[c] = input + c * h * w;
  run_planes(in, copy_rows_into(out, w), [](float*, std::size_t) {});
}

bool Engine::is_tiled(std::size_t padded_h, std::size_t padded_w) const {
  const std::size_t edge = round_up_to(compiled_->options().tile, min_size());
  return compiled_->options().tile != 0 && (edge < padded_h || edge < padded_w);
}

void Engine::run_planes(const PlanarInput& in, const RowSink& sink,
                        const std::function<void(float*, std::size_t)>& finish) {
  ThreadLimit limit(threads());
  const std::size_t m = min_size(), h = in.h, w = in.w;
  if (h < m || w < m)
    fail("image ", h, "x", w, " is smaller than the minimum ", m, "x", m,
         " this model accepts (", graph().levels, " pooling levels)");
  const std::size_t ph = round_up_to(h, m), pw = round_up_to(w, m);
  const std::size_t cin = in.planes.size();
  if (!is_tiled(ph, pw)) {
    channels_.resize(cin * ph * pw);
    gather_padded(in.planes, h, w, ph, pw, Rect{0, 0, ph, pw}, in.offset, in.scale,
                  channels_.data());
    padded_out_.resize(ph * pw);
    backend_->run(channels_.data(), ph, pw, padded_out_.data());
    add_residual(graph(), channels_.data(), ph * pw, padded_out_.data());
    if (pw != w) crop_top_left(padded_out_.data(), pw, h, w, padded_out_.data());
    finish(padded_out_.data(), h * w);
    sink(0, h, padded_out_.data());
    return;
  }
  // Each tile is cut, padded and normalised straight from the caller's planes
  // and each finished row of tiles goes to the sink, so memory beyond the
  // caller's input is one tile's and one band's, whatever the image size.
  const std::vector<Tile> tiles = plan_tiles(ph, pw, compiled_->options().tile, tile_halo(), m);
  for (std::size_t i = 0; i < tiles.size();) {
    const std::size_t band_y0 = tiles[i].core.y0;
    const std::size_t band_rows = std::min(tiles[i].core.y1, h) - band_y0;
    band_.resize(band_rows * w);
    for (; i < tiles.size() && tiles[i].core.y0 == band_y0; ++i) {
      const Tile& t = tiles[i];
      const Rect& r = t.input;
      tile_in_.resize(cin * r.height() * r.width());
      tile_out_.resize(r.height() * r.width());
      gather_padded(in.planes, h, w, ph, pw, r, in.offset, in.scale, tile_in_.data());
      backend_->run(tile_in_.data(), r.height(), r.width(), tile_out_.data());
      add_residual(graph(), tile_in_.data(), r.height() * r.width(), tile_out_.data());
      if (t.core.x0 >= w) continue;  // wholly in the padding
      for (std::size_t y = band_y0; y < band_y0 + band_rows; ++y) {
        const float* src = tile_out_.data() + (y - r.y0) * r.width() + (t.core.x0 - r.x0);
        std::copy(src, src + std::min(t.core.x1, w) - t.core.x0,
                  band_.data() + (y - band_y0) * w + t.core.x0);
      }
    }
    finish(band_.data(), band_rows * w);
    sink(band_y0, band_rows, band_.data());
  }
}

}  // namespace sira
