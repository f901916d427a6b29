#include "engine/normalize.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <vector>

#include "sira/error.hpp"

namespace sira {

namespace {

// Order-preserving map of a float's bits to an unsigned key (negative values
// flipped, positive ones offset), so float order is integer order.
std::uint32_t order_key(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

float from_order_key(std::uint32_t key) {
  return std::bit_cast<float>((key & 0x80000000u) ? (key ^ 0x80000000u) : ~key);
}

// The value at position k of the sorted values, by two histogram passes over
// the keys' high and low halves: exact, and no copy of the image (a 4096² slice
// would need 67 MB for one).
float kth_smallest(const float* values, std::size_t n, std::size_t k) {
  std::vector<std::size_t> count(1u << 16);
  for (std::size_t i = 0; i < n; ++i) ++count[order_key(values[i]) >> 16];
  std::uint32_t high = 0;
  for (; k >= count[high]; ++high) k -= count[high];
  std::fill(count.begin(), count.end(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t key = order_key(values[i]);
    if ((key >> 16) == high) ++count[key & 0xffffu];
  }
  std::uint32_t low = 0;
  for (; k >= count[low]; ++low) k -= count[low];
  return from_order_key(high << 16 | low);
}

}  // namespace

double percentile(const float* values, std::size_t n, double q) {
  if (n == 0) fail("percentile of an empty image");
  if (!(q >= 0.0 && q <= 100.0)) fail("percentile ", q, " is outside [0, 100]");
  const double rank = q / 100.0 * double(n - 1);
  const std::size_t lo = std::size_t(std::floor(rank));
  const double below = kth_smallest(values, n, lo);
  if (lo + 1 >= n || rank == double(lo)) return below;
  const double above = kth_smallest(values, n, lo + 1);
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
