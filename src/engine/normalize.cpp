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

// The values at sorted positions `ranks` (each < n), exactly, by two passes
// over the keys whatever the number of ranks: a histogram of the high halves
// finds each rank's bin, then histograms of the low halves within those bins
// (at most one per rank) find the value. No copy of the image (a 4096² slice
// would need 67 MB for one), and two reads of it for both percentiles.
std::vector<float> order_statistics(const float* values, std::size_t n,
                                    const std::vector<std::size_t>& ranks) {
  if (n >= (std::size_t(1) << 32)) fail("percentile of ", n, " values: more than 2^32");
  constexpr std::size_t bins = 1u << 16;
  std::vector<std::uint32_t> count(bins);
  for (std::size_t i = 0; i < n; ++i) ++count[order_key(values[i]) >> 16];
  // Each rank's high bin and its rank within that bin; one low histogram per bin.
  std::vector<std::uint32_t> high(ranks.size());
  std::vector<std::size_t> within(ranks.size());
  std::vector<std::uint8_t> slot_of(bins, 0);  // 1 + slot of a wanted bin, 0 = not wanted
  std::size_t slots = 0;
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    std::size_t k = ranks[r];
    std::uint32_t b = 0;
    for (; k >= count[b]; ++b) k -= count[b];
    high[r] = b;
    within[r] = k;
    if (slot_of[b] == 0) slot_of[b] = std::uint8_t(++slots);
  }
  std::vector<std::uint32_t> low(slots * bins);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t key = order_key(values[i]);
    if (const std::uint8_t s = slot_of[key >> 16]) ++low[(s - 1) * bins + (key & 0xffffu)];
  }
  std::vector<float> out(ranks.size());
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const std::uint32_t* c = low.data() + (slot_of[high[r]] - 1) * bins;
    std::size_t k = within[r];
    std::uint32_t l = 0;
    for (; k >= c[l]; ++l) k -= c[l];
    out[r] = from_order_key(high[r] << 16 | l);
  }
  return out;
}

}  // namespace

std::vector<double> percentiles(const float* values, std::size_t n, const std::vector<double>& qs) {
  if (n == 0) fail("percentile of an empty image");
  std::vector<std::size_t> ranks;
  for (double q : qs) {
    if (!(q >= 0.0 && q <= 100.0)) fail("percentile ", q, " is outside [0, 100]");
    const std::size_t lo = std::size_t(std::floor(q / 100.0 * double(n - 1)));
    ranks.push_back(lo);
    ranks.push_back(std::min(lo + 1, n - 1));
  }
  const std::vector<float> at = order_statistics(values, n, ranks);
  std::vector<double> out;
  for (std::size_t i = 0; i < qs.size(); ++i) {
    const double rank = qs[i] / 100.0 * double(n - 1);
    const double below = at[2 * i], above = at[2 * i + 1];
    const double frac = rank - std::floor(rank);
    out.push_back(frac == 0.0 ? below : below + frac * (above - below));
  }
  return out;
}

double percentile(const float* values, std::size_t n, double q) {
  return percentiles(values, n, {q})[0];
}

std::vector<float> block_means(const float* image, std::size_t h, std::size_t w, std::size_t b) {
  if (b == 0 || b > h || b > w) fail("block ", b, " does not fit a ", h, "x", w, " image");
  const std::size_t bh = h / b, bw = w / b;
  std::vector<double> sums(bw);
  std::vector<float> out(bh * bw);
  for (std::size_t by = 0; by < bh; ++by) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (std::size_t y = by * b; y < (by + 1) * b; ++y) {
      const float* row = image + y * w;
      for (std::size_t bx = 0; bx < bw; ++bx)
        for (std::size_t x = bx * b; x < (bx + 1) * b; ++x) sums[bx] += row[x];
    }
    for (std::size_t bx = 0; bx < bw; ++bx) out[by * bw + bx] = float(sums[bx] / double(b * b));
  }
  return out;
}

IntensityMap intensity_map(const Normalization& norm, const float* image, std::size_t h, std::size_t w) {
  const std::size_t n = h * w;
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
    if (norm.block < 1) fail("model normalisation: block ", norm.block, " is not positive");
    const std::size_t b = std::min({std::size_t(norm.block), h, w});
    std::vector<double> range;
    if (b > 1) {
      const std::vector<float> means = block_means(image, h, w, b);
      range = percentiles(means.data(), means.size(), {norm.low_percentile, norm.high_percentile});
    } else {
      range = percentiles(image, n, {norm.low_percentile, norm.high_percentile});
    }
    const double low = range[0], high = range[1];
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
