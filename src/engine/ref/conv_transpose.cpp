// Transposed convolution with kernel 2 and stride 2: the output 2x2 blocks do
// not overlap, so each output sample gets exactly one tap per input channel.
#include <algorithm>

#include "engine/ref/kernels.hpp"

namespace sira::ref {

void conv_transpose2x2(const float* in, Shape s, const float* weights, const float* bias,
                       std::size_t out_channels, bool relu, float* out) {
  const std::size_t w = s.width, ow = 2 * w, out_plane = 4 * s.plane();
#pragma omp parallel for schedule(static) \
    if (worth_threads(4 * s.size() * out_channels))
  for (std::size_t co = 0; co < out_channels; ++co) {
    float* dst = out + co * out_plane;
    std::fill(dst, dst + out_plane, bias[co]);
    for (std::size_t ci = 0; ci < s.channels; ++ci) {
      const float* src = in + ci * s.plane();
      const float* tap = weights + (ci * out_channels + co) * 4;  // [ci][co][dy][dx]
      for (std::size_t y = 0; y < s.height; ++y)
        for (std::size_t dy = 0; dy < 2; ++dy) {
          float* row = dst + (2 * y + dy) * ow;
          const float t0 = tap[dy * 2], t1 = tap[dy * 2 + 1];
          for (std::size_t x = 0; x < w; ++x) {
            row[2 * x] += src[y * w + x] * t0;
            row[2 * x + 1] += src[y * w + x] * t1;
          }
        }
    }
    if (relu)
      for (std::size_t i = 0; i < out_plane; ++i) dst[i] = std::max(dst[i], 0.0f);
  }
}

}  // namespace sira::ref
