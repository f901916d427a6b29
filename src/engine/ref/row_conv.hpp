// The skeleton conv2d.cpp (fp32) and int8_conv2d.cpp (int32 on codes) share: per
// output row, each thread copies the k input rows it needs into scratch (zero
// padded at the image border, so the tap loop has no branches) and accumulates
// blocks of kConvBlock output channels x kColumns columns in two 16-lane vectors
// over all input channels and taps. Only the element type and the epilogue
// (bias + ReLU, or requantisation) differ between the two.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "engine/ref/kernels.hpp"

namespace sira::ref::row_conv {

inline constexpr std::size_t kColumns = 32;  // two 16-lane vectors per output channel

inline std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }
inline std::size_t row_stride(std::size_t width, std::size_t kernel) {
  return round_up(width, kColumns) + kernel - 1;
}

// Scratch elements one thread needs: the k gathered rows of every input channel,
// plus the 16 the micro-kernel may read past the last column.
inline std::size_t scratch_per_thread(std::size_t in_channels, std::size_t kernel, std::size_t width) {
  return in_channels * kernel * row_stride(width, kernel) + 16;
}

// Repacks PyTorch weights [out, in, k, k] into blocks of kConvBlock output
// channels, [in][ky][kx][out_in_block]; `packed` is zeroed by the caller.
template <class Src, class Dst>
void pack_weights(const Src* torch_weights, std::size_t out_channels, std::size_t in_channels,
                  std::size_t kernel, Dst* packed) {
  const std::size_t taps = kernel * kernel, blocks = round_up(out_channels, kConvBlock) / kConvBlock;
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t r = 0; r < kConvBlock && b * kConvBlock + r < out_channels; ++r) {
      const std::size_t co = b * kConvBlock + r;
      for (std::size_t ci = 0; ci < in_channels; ++ci)
        for (std::size_t tap = 0; tap < taps; ++tap)
          packed[((b * in_channels + ci) * taps + tap) * kConvBlock + r] =
              Dst(torch_weights[(co * in_channels + ci) * taps + tap]);
    }
}

// Copies the k input rows around output row y into `rows` ([ci][ky][x + pad]) as
// convert(input), zeros outside the image.
template <class In, class T, class Convert>
void gather_rows(const In* in, Shape s, std::size_t kernel, std::size_t y, T* rows, Convert convert) {
  const std::size_t pad = kernel / 2, stride = row_stride(s.width, kernel);
  for (std::size_t ci = 0; ci < s.channels; ++ci)
    for (std::size_t ky = 0; ky < kernel; ++ky) {
      T* dst = rows + (ci * kernel + ky) * stride;
      std::fill(dst, dst + stride, T(0));
      const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - std::ptrdiff_t(pad);
      if (sy < 0 || sy >= std::ptrdiff_t(s.height)) continue;
      const In* src = in + ci * s.plane() + std::size_t(sy) * s.width;
      for (std::size_t x = 0; x < s.width; ++x) dst[pad + x] = convert(src[x]);
    }
}

// acc[r][0..1] += the taps of output channel r of this weight block over the
// kColumns columns from x0. Always inlined so it is compiled for the caller's
// SIRA_REF_CLONES target and with the caller's floating-point options.
template <class Vec, class T>
[[gnu::always_inline]] inline void accumulate(const T* rows, std::size_t stride, const T* wblock,
                                              std::size_t in_channels, std::size_t kernel, std::size_t x0,
                                              Vec (&acc)[kConvBlock][2]) {
  const std::size_t k = kernel;
  for (std::size_t ci = 0; ci < in_channels; ++ci)
    for (std::size_t ky = 0; ky < k; ++ky) {
      const T* src = rows + (ci * k + ky) * stride + x0;
      const T* w = wblock + (ci * k + ky) * k * kConvBlock;
      for (std::size_t kx = 0; kx < k; ++kx, w += kConvBlock) {
        Vec a0, a1;  // unaligned loads
        std::memcpy(&a0, src + kx, sizeof a0);
        std::memcpy(&a1, src + kx + 16, sizeof a1);
#pragma GCC unroll 8
        for (std::size_t r = 0; r < kConvBlock; ++r) {
          acc[r][0] += w[r] * a0;
          acc[r][1] += w[r] * a1;
        }
      }
    }
}

}  // namespace sira::ref::row_conv
