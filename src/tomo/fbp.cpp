// Filtered back-projection: filter every projection (filter.cpp), then a pixel-driven,
// tiled back-projection with linear interpolation.
#include "sira/tomo/fbp.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "filter.hpp"
#include "projector_kernels.hpp"
#include "sira/error.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::tomo {

namespace {

// Filtered projections stored with `offset` zeros on both sides, so every pixel of
// the output maps inside the row and the inner loop needs no bounds checks.
struct PaddedProjections {
  std::size_t stride = 0, offset = 0;
  std::vector<float> values;  // (slice * n_angles + angle) * stride + offset + u
};

PaddedProjections make_padded(std::size_t rows, std::size_t width, std::size_t size) {
  PaddedProjections p;
  // Pixels reach |u - center| <= (size - 1) / sqrt(2), and 0 <= center <= width - 1.
  p.offset = static_cast<std::size_t>(std::ceil((static_cast<double>(size) - 1.0) * std::numbers::sqrt2 / 2)) + 2;
  p.stride = width + 2 * p.offset + 2;
  p.values.assign(rows * p.stride + detail::kKernelSlack, 0.0f);
  return p;
}

// Weight of one projection: the angular range it stands for. A 180-degree scan covers
// each line once and a 360-degree scan twice, hence min(arc, pi) / n.
double angular_weight(const std::vector<double>& theta) {
  const std::size_t n = theta.size();
  if (n < 2) return std::numbers::pi / static_cast<double>(n);
  const auto [lo, hi] = std::minmax_element(theta.begin(), theta.end());
  const double arc = (*hi - *lo) * static_cast<double>(n) / static_cast<double>(n - 1);
  if (arc <= 0.0) return std::numbers::pi / static_cast<double>(n);
  return std::min(arc, std::numbers::pi) / static_cast<double>(n);
}

void backproject_padded(const PaddedProjections& proj, const std::vector<double>& theta, double center,
                        std::size_t depth, std::size_t size, bool circle_mask, Stack& out) {
  const std::size_t n_angles = theta.size();
  std::vector<float> cos_a(n_angles), sin_a(n_angles);
  std::vector<double> origin(n_angles);  // u + offset at pixel (0, 0)
  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  for (std::size_t a = 0; a < n_angles; ++a) {
    const double c = std::cos(theta[a]), s = std::sin(theta[a]);
    cos_a[a] = static_cast<float>(c);
    sin_a[a] = static_cast<float>(s);
    origin[a] = -mid * c + mid * s + center + static_cast<double>(proj.offset);
  }

  // Tiles small enough that the accumulators stay in L1 and each angle touches only a
  // short stretch of its projection.
  constexpr std::size_t tile_rows = 16, tile_cols = 64;
  const std::size_t tiles_y = (size + tile_rows - 1) / tile_rows, tiles_x = (size + tile_cols - 1) / tile_cols;
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(depth * tiles_y * tiles_x);
  const float last = static_cast<float>(proj.stride - 2);  // positions never reach it; a guard only
  const bool parallel = depth * n_angles * size * size > (1u << 18);  // else threads cost more than the work
#pragma omp parallel for schedule(dynamic) if (parallel)
  for (std::ptrdiff_t task = 0; task < tasks; ++task) {
    const std::size_t z = task / (tiles_y * tiles_x);
    const std::size_t i0 = (task / tiles_x) % tiles_y * tile_rows, j0 = task % tiles_x * tile_cols;
    const std::size_t rows = std::min(tile_rows, size - i0), cols = std::min(tile_cols, size - j0);
    float acc[tile_rows][tile_cols] = {};
    for (std::size_t a = 0; a < n_angles; ++a) {
      const float* row = proj.values.data() + (z * n_angles + a) * proj.stride;
      for (std::size_t i = 0; i < rows; ++i) {
        const double u0 = origin[a] + static_cast<double>(j0) * cos_a[a] - static_cast<double>(i0 + i) * sin_a[a];
        detail::lerp_accumulate(acc[i], row, static_cast<float>(u0), cos_a[a], 0.0f, last,
                                static_cast<std::ptrdiff_t>(cols));
      }
    }
    for (std::size_t i = 0; i < rows; ++i) {
      float* dst = out.slice(z) + (i0 + i) * size + j0;
      for (std::size_t j = 0; j < cols; ++j)
        dst[j] = circle_mask && !inside_circle(i0 + i, j0 + j, size) ? 0.0f : acc[i][j];
    }
  }
}

std::size_t output_size(const Sinograms& s, std::size_t size, const char* what) {
  if (size == 0) return s.data.width;
  if (size > kMaxDim) fail(what, ": output size ", size, " exceeds the limit of ", kMaxDim);
  return size;
}

}  // namespace

bool inside_circle(std::size_t i, std::size_t j, std::size_t size) {
  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  const double y = static_cast<double>(i) - mid, x = static_cast<double>(j) - mid;
  return x * x + y * y <= mid * mid;
}

Stack backproject_linear(const Sinograms& filtered, std::size_t size, bool circle_mask) {
  check_sinograms(filtered, "backproject_linear");
  const Stack& sino = filtered.data;
  size = output_size(filtered, size, "backproject_linear");
  const std::size_t rows = sino.depth * sino.height;
  PaddedProjections proj = make_padded(rows, sino.width, size);
  const float weight = static_cast<float>(angular_weight(filtered.theta));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t u = 0; u < sino.width; ++u)
      proj.values[r * proj.stride + proj.offset + u] = weight * sino.data[r * sino.width + u];
  Stack out(sino.depth, size, size);
  out.is_2d = sino.is_2d && sino.depth == 1;
  backproject_padded(proj, filtered.theta, filtered.center_or_default(), sino.depth, size, circle_mask, out);
  return out;
}

Stack fbp(const Sinograms& sinograms, const FbpOptions& options) {
  check_sinograms(sinograms, "fbp");
  const Stack& sino = sinograms.data;
  const std::size_t size = output_size(sinograms, options.size, "fbp");
  const std::size_t rows = sino.depth * sino.height;
  PaddedProjections proj = make_padded(rows, sino.width, size);
  detail::filter_projections(sino.data.data(), rows, sino.width, options.filter,
                             static_cast<float>(angular_weight(sinograms.theta)), proj.values.data(),
                             proj.stride, proj.offset);
  Stack out(sino.depth, size, size);
  out.is_2d = sino.is_2d && sino.depth == 1;
  backproject_padded(proj, sinograms.theta, sinograms.center_or_default(), sino.depth, size,
                     options.circle_mask, out);
  return out;
}

}  // namespace sira::tomo
