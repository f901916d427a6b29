#include "engine/tiling_padding.hpp"

#include <algorithm>

#include "sira/error.hpp"

namespace sira {
namespace {

// Mirror index without edge repetition: n-1+k -> n-1-k.
std::size_t reflect(std::size_t i, std::size_t n) { return i < n ? i : 2 * (n - 1) - i; }

}  // namespace

void reflect_pad(const float* in, std::size_t channels, std::size_t h, std::size_t w,
                 std::size_t padded_h, std::size_t padded_w, float* out) {
  if (padded_h < h || padded_w < w || padded_h - h >= h || padded_w - w >= w)
    fail("reflect padding of ", h, "x", w, " to ", padded_h, "x", padded_w,
         ": each pad must be smaller than the image edge");
  for (std::size_t c = 0; c < channels; ++c) {
    const float* src = in + c * h * w;
    float* dst = out + c * padded_h * padded_w;
    for (std::size_t y = 0; y < padded_h; ++y) {
      const float* row = src + reflect(y, h) * w;
      float* drow = dst + y * padded_w;
      std::copy(row, row + w, drow);
      for (std::size_t x = w; x < padded_w; ++x) drow[x] = row[reflect(x, w)];
    }
  }
}

void crop_top_left(const float* in, std::size_t padded_w, std::size_t h, std::size_t w,
                   float* out) {
  for (std::size_t y = 0; y < h; ++y) std::copy(in + y * padded_w, in + y * padded_w + w, out + y * w);
}

}  // namespace sira
