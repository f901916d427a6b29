// Forward projection (Joseph's method) and the input checks every tomo routine shares.
#include "sira/tomo/projector.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "projector_kernels.hpp"
#include "projector_lines.hpp"
#include "sira/error.hpp"

namespace sira::tomo {

namespace {

// Copies slice `src` (size x size) into lines of length size + 3 with a zero margin,
// transposed if `transpose`, so a line is contiguous whichever axis the ray walks.
void pad_lines(const float* src, std::size_t size, bool transpose, float* dst) {
  const std::size_t stride = size + 3;
  for (std::size_t k = 0; k < size; ++k) {
    float* line = dst + k * stride;
    line[0] = 0.0f;
    for (std::size_t m = 0; m < size; ++m) line[m + 1] = transpose ? src[m * size + k] : src[k * size + m];
    line[size + 1] = line[size + 2] = 0.0f;
  }
}

}  // namespace

std::vector<double> uniform_angles(std::size_t n, double arc) {
  if (n == 0) fail("uniform_angles: the number of angles must be at least 1");
  if (!(arc > 0.0) || !std::isfinite(arc)) fail("uniform_angles: arc must be positive, got ", arc);
  std::vector<double> theta(n);
  for (std::size_t k = 0; k < n; ++k) theta[k] = arc * static_cast<double>(k) / static_cast<double>(n);
  return theta;
}

void check_center(double center, std::size_t width, const char* what) {
  if (!std::isfinite(center) || center < 0.0 || center > static_cast<double>(width) - 1.0)
    fail(what, ": rotation centre ", center, " is outside the detector (0 .. ", width - 1,
         " for ", width, " columns)");
}

void check_sinograms(const Sinograms& s, const char* what) {
  const Stack& d = s.data;
  if (d.depth == 0 || d.height == 0 || d.width == 0 || d.data.empty())
    fail(what, ": empty sinograms (", d.depth, " slices x ", d.height, " angles x ", d.width,
         " columns)");
  if (d.data.size() != d.depth * d.height * d.width)
    fail(what, ": sinogram buffer holds ", d.data.size(), " samples, expected ",
         d.depth * d.height * d.width);
  if (s.theta.size() != d.height)
    fail(what, ": ", s.theta.size(), " angles given for sinograms with ", d.height,
         " projections (rows)");
  for (std::size_t k = 0; k < s.theta.size(); ++k)
    if (!std::isfinite(s.theta[k])) fail(what, ": angle ", k, " is not finite (", s.theta[k], ")");
  check_center(s.center_or_default(), d.width, what);
  check_finite(d, std::string(what) + ": projections");
}

Sinograms project(const Stack& images, const std::vector<double>& theta, std::size_t detector_width,
                  double center) {
  if (images.depth == 0 || images.height == 0 || images.width == 0)
    fail("project: empty image stack (", images.depth, "x", images.height, "x", images.width, ")");
  if (images.height != images.width)
    fail("project: images must be square, got ", images.height, " x ", images.width);
  if (theta.empty()) fail("project: no projection angles");
  for (std::size_t k = 0; k < theta.size(); ++k)
    if (!std::isfinite(theta[k])) fail("project: angle ", k, " is not finite (", theta[k], ")");
  check_finite(images, "project: image");
  const std::size_t size = images.width;
  const std::size_t width = detector_width ? detector_width : size;
  const double c = center < 0 ? (static_cast<double>(width) - 1.0) / 2.0 : center;
  check_center(c, width, "project");

  Sinograms out;
  out.data = Stack(images.depth, theta.size(), width);
  out.data.is_2d = images.is_2d && images.depth == 1;
  out.theta = theta;
  out.center = c;

  std::vector<detail::JosephAngle> geometry(theta.size());
  for (std::size_t a = 0; a < theta.size(); ++a) geometry[a] = detail::joseph_angle(theta[a], size, c);

  // Both walk orders of every slice, padded, so each (slice, angle) task reads contiguous lines.
  const std::size_t stride = size + 3, plane = size * stride;
  std::vector<float> rows(images.depth * plane + detail::kKernelSlack), cols(images.depth * plane + detail::kKernelSlack);
  // Small problems run serially: waking threads would cost more than the work.
  const bool parallel = images.depth * theta.size() * size * size > (1u << 18);
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t z = 0; z < static_cast<std::ptrdiff_t>(images.depth); ++z) {
    pad_lines(images.slice(z), size, false, rows.data() + z * plane);
    pad_lines(images.slice(z), size, true, cols.data() + z * plane);
  }

  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(images.depth * theta.size());
#pragma omp parallel for schedule(dynamic, 4) if (parallel)
  for (std::ptrdiff_t task = 0; task < tasks; ++task) {
    const std::size_t z = task / theta.size(), a = task % theta.size();
    const detail::JosephAngle& g = geometry[a];
    const float* lines = (g.along_rows ? rows.data() : cols.data()) + z * plane;
    float* acc = out.data.slice(z) + a * width;
    for (std::size_t k = 0; k < size; ++k) {
      const double alpha = g.alpha0 + g.alpha_per_line * (static_cast<double>(k) - mid);
      // Only detector columns whose ray meets this line, p in (-1, size), contribute.
      double u0 = (-1.0 - alpha) / g.beta, u1 = (static_cast<double>(size) - alpha) / g.beta;
      if (u0 > u1) std::swap(u0, u1);
      const auto u_lo = static_cast<std::ptrdiff_t>(std::max(0.0, std::floor(u0)));
      const auto u_hi = static_cast<std::ptrdiff_t>(
          std::min(static_cast<double>(width), std::max(0.0, std::ceil(u1) + 1.0)));
      if (u_lo >= u_hi) continue;
      // Position along the padded line (pixel m at m + 1), clamped to its zero margins.
      detail::lerp_accumulate(acc + u_lo, lines + k * stride,
                              static_cast<float>(alpha + 1.0 + g.beta * static_cast<double>(u_lo)),
                              static_cast<float>(g.beta), 0.0f, static_cast<float>(size + 1), u_hi - u_lo);
    }
    const float w = static_cast<float>(g.weight);
    for (std::size_t u = 0; u < width; ++u) acc[u] *= w;
  }
  return out;
}

}  // namespace sira::tomo
