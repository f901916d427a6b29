// SIRT with the matched Joseph projector / adjoint pair.
#include "sira/tomo/sirt.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::tomo {

namespace {

// 1 / v where v is meaningfully positive, else 0 (rays missing the image, pixels no ray meets).
void invert_sums(std::vector<float>& v) {
  for (float& x : v) x = x > 1e-6f ? 1.0f / x : 0.0f;
}

}  // namespace

SirtResult sirt(const Sinograms& sinograms, const SirtOptions& options) {
  check_sinograms(sinograms, "sirt");
  if (options.iterations < 1) fail("sirt: the number of iterations must be at least 1, got ", options.iterations);
  const Stack& b = sinograms.data;
  const std::size_t size = options.size ? options.size : b.width;
  if (size > kMaxDim) fail("sirt: output size ", size, " exceeds the limit of ", kMaxDim);
  const double center = sinograms.center_or_default();

  // R = 1 / (A 1) per ray and C = 1 / (A^T 1) per pixel; the geometry is the same for
  // every slice, so one slice's sums serve all.
  Stack ones(1, size, size);
  std::fill(ones.data.begin(), ones.data.end(), 1.0f);
  Sinograms row_sums = project(ones, sinograms.theta, b.width, center);
  std::vector<float> inv_row = std::move(row_sums.data.data);
  invert_sums(inv_row);
  Sinograms all_rays{Stack(1, b.height, b.width), sinograms.theta, center};
  std::fill(all_rays.data.data.begin(), all_rays.data.data.end(), 1.0f);
  std::vector<float> inv_col = backproject(all_rays, size).data;
  invert_sums(inv_col);

  SirtResult result;
  result.images = Stack(b.depth, size, size);
  result.images.is_2d = b.is_2d && b.depth == 1;
  Stack& x = result.images;
  const std::size_t ray_count = b.height * b.width, pixel_count = size * size;
  Sinograms weighted{Stack(b.depth, b.height, b.width), sinograms.theta, center};

  const bool parallel = b.data.size() + x.data.size() > (1u << 16);  // else threads cost more than the work
  for (int it = 0; it < options.iterations; ++it) {
    const Sinograms ax = project(x, sinograms.theta, b.width, center);
    double squared = 0.0;
#pragma omp parallel for reduction(+ : squared) schedule(static) if (parallel)
    for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(b.data.size()); ++k) {
      const float r = b.data[k] - ax.data.data[k];
      squared += static_cast<double>(r) * r;
      weighted.data.data[k] = inv_row[k % ray_count] * r;
    }
    const Stack update = backproject(weighted, size);
#pragma omp parallel for schedule(static) if (parallel)
    for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(x.data.size()); ++k) {
      const float v = x.data[k] + inv_col[k % pixel_count] * update.data[k];
      x.data[k] = options.nonnegative ? std::max(v, 0.0f) : v;
    }
    result.residuals.push_back(std::sqrt(squared));
    if (options.on_iteration) options.on_iteration(it, result.residuals.back());
  }

  if (options.circle_mask)
    for (std::size_t z = 0; z < x.depth; ++z)
      for (std::size_t i = 0; i < size; ++i)
        for (std::size_t j = 0; j < size; ++j)
          if (!inside_circle(i, j, size)) x.at(z, i, j) = 0.0f;
  return result;
}

}  // namespace sira::tomo
