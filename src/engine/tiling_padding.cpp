#include "engine/tiling_padding.hpp"

#include <algorithm>
#include <cstring>

#include "sira/error.hpp"

namespace sira {
namespace {

// Mirror index without edge repetition: n-1+k -> n-1-k.
std::size_t reflect(std::size_t i, std::size_t n) { return i < n ? i : 2 * (n - 1) - i; }

}  // namespace

void gather_padded(const std::vector<const float*>& planes, std::size_t h, std::size_t w,
                   std::size_t padded_h, std::size_t padded_w, const Rect& region,
                   float offset, float scale, float* out) {
  if (padded_h < h || padded_w < w || padded_h - h >= h || padded_w - w >= w)
    fail("reflect padding of ", h, "x", w, " to ", padded_h, "x", padded_w,
         ": each pad must be smaller than the image edge");
  if (region.y1 > padded_h || region.x1 > padded_w || region.y0 > region.y1 ||
      region.x0 > region.x1)
    fail("padding: region [", region.y0, ",", region.y1, ")x[", region.x0, ",", region.x1,
         ") is outside the ", padded_h, "x", padded_w, " padded image");
  const std::size_t rw = region.width();
  const std::size_t inside = region.x1 > w ? (region.x0 < w ? w - region.x0 : 0) : rw;
  for (const float* plane : planes)
    for (std::size_t y = region.y0; y < region.y1; ++y) {
      const float* row = plane + reflect(y, h) * w;
      const float* src = row + region.x0;
      for (std::size_t x = 0; x < inside; ++x) out[x] = (src[x] - offset) * scale;
      for (std::size_t x = inside; x < rw; ++x)
        out[x] = (row[reflect(region.x0 + x, w)] - offset) * scale;
      out += rw;
    }
}

void crop_top_left(const float* in, std::size_t padded_w, std::size_t h, std::size_t w,
                   float* out) {
  // memmove: `out` may be `in` (cropping in place moves rows towards the start).
  for (std::size_t y = 0; y < h; ++y) std::memmove(out + y * w, in + y * padded_w, w * sizeof(float));
}

}  // namespace sira
