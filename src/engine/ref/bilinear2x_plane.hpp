// x2 bilinear upsampling as PyTorch computes it with align_corners=False, shared by
// the fp32 kernel and the int8 kernel (which interpolates codes and rounds once).
// For scale 2 the source coordinate of output o is o / 2 - 0.25, so
//   out[2i]     = 0.25 * in[i-1] + 0.75 * in[i]   (in[0] for i = 0: clamped at 0)
//   out[2i + 1] = 0.75 * in[i]   + 0.25 * in[i+1] (in[n-1] for i = n-1: clamped)
// applied along columns, then along rows (the weights separate exactly). On codes
// every intermediate is a multiple of 1/16 below 256, so float holds it exactly.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/ref/kernels.hpp"

namespace sira::ref {
namespace bilinear2x {

// Upsamples one row of n samples into 2n floats.
template <class In>
void upsample_row(const In* in, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const float cur = float(in[i]);
    out[2 * i] = i == 0 ? cur : 0.25f * float(in[i - 1]) + 0.75f * cur;
    out[2 * i + 1] = i + 1 < n ? 0.75f * cur + 0.25f * float(in[i + 1]) : cur;
  }
}

// out = store(a * ra + b * rb) over n samples (one blended output row).
template <class Out, class Store>
void blend_rows(const float* ra, float a, const float* rb, float b, std::size_t n, Out* out, Store store) {
  for (std::size_t x = 0; x < n; ++x) out[x] = store(a * ra[x] + b * rb[x]);
}

}  // namespace bilinear2x

// Upsamples every channel of `in` (planar CHW) into `out` (2h x 2w per channel);
// `store` turns each interpolated float into an output element.
template <class In, class Out, class Store>
void upsample_bilinear2x_planes(const In* in, Shape s, Out* out, Store store) {
  using bilinear2x::blend_rows;
  const std::size_t h = s.height, w = s.width, ow = 2 * w;
#pragma omp parallel if (worth_threads(4 * s.size()))
  {
    std::vector<float> wide(h * ow);  // this channel's rows, upsampled along x
#pragma omp for schedule(static)
    for (std::size_t c = 0; c < s.channels; ++c) {
      const In* src = in + c * s.plane();
      Out* dst = out + c * 4 * s.plane();
      for (std::size_t y = 0; y < h; ++y) bilinear2x::upsample_row(src + y * w, w, wide.data() + y * ow);
      for (std::size_t i = 0; i < h; ++i) {
        const float* cur = wide.data() + i * ow;
        const float* prev = wide.data() + (i == 0 ? 0 : i - 1) * ow;
        const float* next = wide.data() + (i + 1 < h ? i + 1 : h - 1) * ow;
        if (i == 0)
          blend_rows(cur, 1.0f, cur, 0.0f, ow, dst, store);
        else
          blend_rows(prev, 0.25f, cur, 0.75f, ow, dst + 2 * i * ow, store);
        if (i + 1 < h)
          blend_rows(cur, 0.75f, next, 0.25f, ow, dst + (2 * i + 1) * ow, store);
        else
          blend_rows(cur, 1.0f, cur, 0.0f, ow, dst + (2 * i + 1) * ow, store);
      }
    }
  }
}

}  // namespace sira::ref
