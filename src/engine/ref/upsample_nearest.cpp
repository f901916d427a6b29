// x2 nearest-neighbour upsampling: every input sample becomes a 2x2 block.
#include <algorithm>

#include "engine/ref/kernels.hpp"

namespace sira::ref {

void upsample_nearest2x(const float* in, Shape s, float* out) {
  const std::size_t w = s.width, ow = 2 * w;
#pragma omp parallel for schedule(static) if (worth_threads(4 * s.size()))
  for (std::size_t c = 0; c < s.channels; ++c) {
    const float* src = in + c * s.plane();
    float* dst = out + c * 4 * s.plane();
    for (std::size_t y = 0; y < s.height; ++y) {
      float* row = dst + 2 * y * ow;
      for (std::size_t x = 0; x < w; ++x) row[2 * x] = row[2 * x + 1] = src[y * w + x];
      std::copy(row, row + ow, row + ow);
    }
  }
}

}  // namespace sira::ref
