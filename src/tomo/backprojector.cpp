// The exact adjoint of project(): every weight Joseph's forward walk gives pixel m of
// line k for ray u is max(0, 1 - |alpha_k + beta u - m|) / max(|cos|, |sin|); here each
// pixel gathers those same weights from the (at most two) rays that reach it.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "projector_kernels.hpp"
#include "projector_lines.hpp"
#include "sira/error.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::tomo {

Stack backproject(const Sinograms& sinograms, std::size_t size) {
  check_sinograms(sinograms, "backproject");
  const Stack& sino = sinograms.data;
  const std::size_t width = sino.width, n_angles = sino.height, depth = sino.depth;
  if (size == 0) size = width;
  const double c = sinograms.center_or_default();

  std::vector<detail::JosephAngle> geometry(n_angles);
  for (std::size_t a = 0; a < n_angles; ++a) geometry[a] = detail::joseph_angle(sinograms.theta[a], size, c);

  // Rays padded with zeros and pre-multiplied by the ray length per line.
  const std::size_t ray_stride = width + 3;
  std::vector<float> rays(depth * n_angles * ray_stride + detail::kKernelSlack, 0.0f);
  // Small problems run serially: waking threads would cost more than the work.
  const bool parallel = depth * n_angles * size * size > (1u << 18);
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(depth * n_angles); ++r) {
    const float w = static_cast<float>(geometry[r % n_angles].weight);
    const float* src = sino.data.data() + r * width;
    float* dst = rays.data() + r * ray_stride;
    for (std::size_t u = 0; u < width; ++u) dst[u + 1] = w * src[u];
  }

  // Lines along rows accumulate into `out`, lines along columns into `transposed`.
  Stack out(depth, size, size);
  out.is_2d = sino.is_2d && depth == 1;
  std::vector<float> transposed(depth * size * size, 0.0f);
  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(2 * depth * size);
#pragma omp parallel for schedule(dynamic, 8) if (parallel)
  for (std::ptrdiff_t task = 0; task < tasks; ++task) {
    const bool along_rows = task % 2 == 0;
    const std::size_t z = (task / 2) / size, k = (task / 2) % size;
    float* line = along_rows ? out.slice(z) + k * size : transposed.data() + (z * size + k) * size;
    for (std::size_t a = 0; a < n_angles; ++a) {
      const detail::JosephAngle& g = geometry[a];
      if (g.along_rows != along_rows) continue;
      const double alpha = g.alpha0 + g.alpha_per_line * (static_cast<double>(k) - mid);
      detail::lerp_gather(line, rays.data() + (z * n_angles + a) * ray_stride, static_cast<float>(alpha),
                          static_cast<float>(g.beta), static_cast<float>(1.0 / g.beta),
                          static_cast<float>(width), static_cast<std::ptrdiff_t>(size));
    }
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t zi = 0; zi < static_cast<std::ptrdiff_t>(depth * size); ++zi) {
    const std::size_t z = zi / size, i = zi % size;
    float* row = out.slice(z) + i * size;
    const float* t = transposed.data() + z * size * size;
    for (std::size_t j = 0; j < size; ++j) row[j] += t[j * size + i];
  }
  return out;
}

}  // namespace sira::tomo
