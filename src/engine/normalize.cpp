#include "engine/normalize.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sira/error.hpp"

namespace sira {

double percentile(const float* values, std::size_t n, double q) {
  if (n == 0) fail("percentile of an empty image");
  if (!(q >= 0.0 && q <= 100.0)) fail("percentile ", q, " is outside [0, 100]");
  std::vector<float> v(values, values + n);
  const double rank = q / 100.0 * double(n - 1);
  const std::size_t lo = std::size_t(std::floor(rank));
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double below = v[lo];
  if (lo + 1 >= n) return below;
  // The next rank is the smallest value above position lo.
  const double above = *std::min_element(v.begin() + lo + 1, v.end());
  return below + (rank - double(lo)) * (above - below);
}

IntensityMap intensity_map(const Normalization& norm, const float* image, std::size_t n) {
  if (norm.mode == "fixed") {
    if (!std::isfinite(norm.offset) || !std::isfinite(norm.scale) || norm.scale == 0.0)
      fail("model normalisation: fixed offset ", norm.offset, " / scale ", norm.scale,
           " is not usable (scale must be finite and non-zero)");
    return {norm.offset, norm.scale};
  }
  if (norm.mode == "per_image") {
    if (!(norm.low_percentile < norm.high_percentile))
      fail("model normalisation: per_image percentiles ", norm.low_percentile, " and ",
           norm.high_percentile, " are not increasing");
    const double low = percentile(image, n, norm.low_percentile);
    const double high = percentile(image, n, norm.high_percentile);
    return {low, high > low ? 1.0 / (high - low) : 1.0};
  }
  fail("model normalisation: unknown mode '", norm.mode, "' (expected fixed or per_image)");
}

void normalize(const float* in, std::size_t n, IntensityMap map, float* out) {
  const float offset = float(map.offset), scale = float(map.scale);
  for (std::size_t i = 0; i < n; ++i) out[i] = (in[i] - offset) * scale;
}

void denormalize(float* values, std::size_t n, IntensityMap map) {
  const float offset = float(map.offset), inverse = float(1.0 / map.scale);
  for (std::size_t i = 0; i < n; ++i) values[i] = values[i] * inverse + offset;
}

}  // namespace sira
