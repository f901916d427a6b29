#include "sira/tomo/flux_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sira/error.hpp"

namespace sira::tomo {

double estimate_flux(const Sinograms& s, const char* what) {
  const Stack& p = s.data;
  if (p.width < 3 || p.height < 1 || p.depth < 1)
    fail(what, ": too small to estimate the photon flux from its noise (need 3 or more detector columns)");
  // A strided subsample bounds the cost on large scans (the median needs no more).
  const std::size_t rows = p.depth * p.height, per_row = p.width - 2;
  const std::size_t stride = std::max<std::size_t>(1, rows * per_row / (std::size_t(1) << 22));
  std::vector<double> u;
  u.reserve(rows * per_row / stride + 1);
  std::size_t k = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = p.data.data() + r * p.width;
    for (std::size_t c = 1; c + 1 < p.width; ++c, ++k) {
      if (k % stride) continue;
      const double d = double(row[c - 1]) - 2.0 * row[c] + row[c + 1];
      const double v = d * d * std::exp(-double(row[c]));
      if (std::isfinite(v)) u.push_back(v);
    }
  }
  if (u.empty()) fail(what, ": no finite samples to estimate the photon flux from");
  // The lower quartile: the object's own curvature only ever adds to d^2, so a
  // low quantile is the least disturbed by it.
  auto q = u.begin() + std::ptrdiff_t(u.size() / 4);
  std::nth_element(u.begin(), q, u.end());
  constexpr double kChiSquare1LowerQuartile = 0.1015310;
  if (!(*q > 0))
    fail(what, ": the sinograms show no noise (second differences of 0): give the photon flux explicitly");
  return 6.0 * kChiSquare1LowerQuartile / *q;
}

}  // namespace sira::tomo
