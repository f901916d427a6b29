// 2x2 max pooling, stride 2.
#include <algorithm>

#include "engine/ref/kernels.hpp"

namespace sira::ref {

void maxpool2x2(const float* in, Shape s, float* out) {
  const std::size_t oh = s.height / 2, ow = s.width / 2;
#pragma omp parallel for schedule(static) if (worth_threads(s.size()))
  for (std::size_t c = 0; c < s.channels; ++c) {
    const float* src = in + c * s.plane();
    float* dst = out + c * oh * ow;
    for (std::size_t y = 0; y < oh; ++y) {
      const float* r0 = src + 2 * y * s.width;
      const float* r1 = r0 + s.width;
      for (std::size_t x = 0; x < ow; ++x)
        dst[y * ow + x] = std::max(std::max(r0[2 * x], r0[2 * x + 1]),
                                   std::max(r1[2 * x], r1[2 * x + 1]));
    }
  }
}

}  // namespace sira::ref
