// FBP's back-projection as an accumulation (include/sira/tomo/backprojection.hpp):
// pixel-driven, tiled, linear interpolation. Per tile, the sums are loaded into a
// small local array, every angle of the call is added in order, and they are
// stored back, so a pixel's sum is the same float additions in the same order
// whether the angles come in one call or many.
#include "sira/tomo/backprojection.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "filter.hpp"
#include "projector_kernels.hpp"
#include "sira/error.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::tomo {

double angular_weight(const std::vector<double>& theta) {
  const std::size_t n = theta.size();
  if (n < 2) return std::numbers::pi / static_cast<double>(n);
  const auto [lo, hi] = std::minmax_element(theta.begin(), theta.end());
  const double arc = (*hi - *lo) * static_cast<double>(n) / static_cast<double>(n - 1);
  if (arc <= 0.0) return std::numbers::pi / static_cast<double>(n);
  return std::min(arc, std::numbers::pi) / static_cast<double>(n);
}

BackprojectionAccumulator::BackprojectionAccumulator(std::size_t depth, std::size_t width, std::size_t size,
                                                     double center)
    : depth_(depth), width_(width), size_(size), center_(center < 0 ? (static_cast<double>(width) - 1) / 2.0 : center) {
  if (depth == 0 || width == 0 || size == 0)
    fail("back-projection: empty geometry (", depth, " slices, ", width, " columns, ", size, " pixels)");
  if (size > kMaxDim || width > kMaxDim) fail("back-projection: size ", std::max(size, width), " exceeds the limit of ", kMaxDim);
  check_center(center_, width, "back-projection");
  // Pixels reach |u - center| <= (size - 1) / sqrt(2), and 0 <= center <= width - 1: with
  // `offset` zeros on both sides every pixel maps inside the row (no bounds checks).
  offset_ = static_cast<std::size_t>(std::ceil((static_cast<double>(size) - 1.0) * std::numbers::sqrt2 / 2)) + 2;
  stride_ = width + 2 * offset_ + 2;
  sums_.assign(depth * size * size, 0.0f);
}

void BackprojectionAccumulator::add(const float* p, const std::vector<double>& theta, Filter f) {
  const std::size_t rows = depth_ * theta.size();
  for (std::size_t i = 0; i < rows * width_; ++i)
    if (!std::isfinite(p[i])) fail("back-projection: projections: non-finite sample");
  std::vector<float> padded(rows * stride_ + detail::kKernelSlack, 0.0f);
  detail::filter_projections(p, rows, width_, f, 1.0f, padded.data(), stride_, offset_);
  accumulate(padded, theta);
}

void BackprojectionAccumulator::add_filtered(const float* p, const std::vector<double>& theta) {
  const std::size_t rows = depth_ * theta.size();
  std::vector<float> padded(rows * stride_ + detail::kKernelSlack, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) std::copy_n(p + r * width_, width_, padded.data() + r * stride_ + offset_);
  accumulate(padded, theta);
}

void BackprojectionAccumulator::accumulate(const std::vector<float>& padded, const std::vector<double>& theta) {
  const std::size_t n_angles = theta.size(), size = size_;
  for (std::size_t k = 0; k < n_angles; ++k)
    if (!std::isfinite(theta[k])) fail("back-projection: angle ", angles_ + k, " is not finite (", theta[k], ")");
  std::vector<float> cos_a(n_angles), sin_a(n_angles);
  std::vector<double> origin(n_angles);  // u + offset at pixel (0, 0)
  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  for (std::size_t a = 0; a < n_angles; ++a) {
    const double c = std::cos(theta[a]), s = std::sin(theta[a]);
    cos_a[a] = static_cast<float>(c);
    sin_a[a] = static_cast<float>(s);
    origin[a] = -mid * c + mid * s + center_ + static_cast<double>(offset_);
  }

  // Tiles small enough that the sums stay in L1 and each angle touches only a
  // short stretch of its projection.
  constexpr std::size_t tile_rows = 16, tile_cols = 64;
  const std::size_t tiles_y = (size + tile_rows - 1) / tile_rows, tiles_x = (size + tile_cols - 1) / tile_cols;
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(depth_ * tiles_y * tiles_x);
  const float last = static_cast<float>(stride_ - 2);  // positions never reach it; a guard only
  const bool parallel = depth_ * n_angles * size * size > (1u << 18);  // else threads cost more than the work
  const std::size_t stride = stride_;
  float* sums = sums_.data();
#pragma omp parallel for schedule(dynamic) if (parallel)
  for (std::ptrdiff_t task = 0; task < tasks; ++task) {
    const std::size_t z = task / (tiles_y * tiles_x);
    const std::size_t i0 = (task / tiles_x) % tiles_y * tile_rows, j0 = task % tiles_x * tile_cols;
    const std::size_t rows = std::min(tile_rows, size - i0), cols = std::min(tile_cols, size - j0);
    float acc[tile_rows][tile_cols];
    for (std::size_t i = 0; i < rows; ++i) std::copy_n(sums + (z * size + i0 + i) * size + j0, cols, acc[i]);
    for (std::size_t a = 0; a < n_angles; ++a) {
      const float* row = padded.data() + (z * n_angles + a) * stride;
      for (std::size_t i = 0; i < rows; ++i) {
        const double u0 = origin[a] + static_cast<double>(j0) * cos_a[a] - static_cast<double>(i0 + i) * sin_a[a];
        detail::lerp_accumulate(acc[i], row, static_cast<float>(u0), cos_a[a], 0.0f, last,
                                static_cast<std::ptrdiff_t>(cols));
      }
    }
    for (std::size_t i = 0; i < rows; ++i) std::copy_n(acc[i], cols, sums + (z * size + i0 + i) * size + j0);
  }
  angles_ += n_angles;
}

void BackprojectionAccumulator::finish_slice(std::size_t z, double weight, bool circle_mask, float* out) const {
  if (z >= depth_) fail("back-projection: slice ", z, " of ", depth_);
  const float w = static_cast<float>(weight);
  const std::size_t size = size_;
  for (std::size_t i = 0; i < size; ++i) {
    std::size_t lo = 0;  // the pixels kept are [lo, size - lo)
    if (circle_mask) {
      // inside_circle depends on |j - mid| only, exactly (mid is a multiple of 1/2), and
      // holds from some column up to the middle: find the first, mirror it.
      const std::size_t h = (size - 1) / 2;
      if (!inside_circle(i, h, size)) {
        lo = size;  // none of the row
      } else {
        std::size_t a = 0, b = h;  // the first inside column is in [a, b]
        while (a < b) {
          const std::size_t m = a + (b - a) / 2;
          if (inside_circle(i, m, size)) b = m;
          else a = m + 1;
        }
        lo = a;
      }
    }
    const float* src = sums_.data() + (z * size + i) * size;
    float* dst = out + i * size;
    std::size_t j = 0;
    for (; j < lo; ++j) dst[j] = 0.0f;
    for (; j < size - lo; ++j) dst[j] = w * src[j];
    for (; j < size; ++j) dst[j] = 0.0f;
  }
}

Stack BackprojectionAccumulator::finish(double weight, bool circle_mask) const {
  Stack out(depth_, size_, size_);
#pragma omp parallel for schedule(static) if (depth_ > 1 && depth_ * size_ * size_ > (1u << 18))
  for (std::ptrdiff_t z = 0; z < static_cast<std::ptrdiff_t>(depth_); ++z)
    finish_slice(static_cast<std::size_t>(z), weight, circle_mask, out.slice(static_cast<std::size_t>(z)));
  return out;
}

}  // namespace sira::tomo
