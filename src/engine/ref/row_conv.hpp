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

inline constexpr std::size_t kColumns = 32;  // columns per block: a multiple of every variant's span

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
// convert(input), zeros outside the image. `convert` must be inlinable (a lambda
// marked always_inline): called out of line per sample it cost a third of the
// fp32 network's time.
template <class In, class T, class Convert>
[[gnu::always_inline]] inline void gather_rows(const In* in, Shape s, std::size_t kernel, std::size_t y, T* rows,
                                               Convert convert) {
  const std::size_t pad = kernel / 2, stride = row_stride(s.width, kernel);
  for (std::size_t ci = 0; ci < s.channels; ++ci)
    for (std::size_t ky = 0; ky < kernel; ++ky) {
      T* dst = rows + (ci * kernel + ky) * stride;
      const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - std::ptrdiff_t(pad);
      if (sy < 0 || sy >= std::ptrdiff_t(s.height)) {
        std::fill(dst, dst + stride, T(0));
        continue;
      }
      std::fill(dst, dst + pad, T(0));
      std::fill(dst + pad + s.width, dst + stride, T(0));
      const In* src = in + ci * s.plane() + std::size_t(sy) * s.width;
      for (std::size_t x = 0; x < s.width; ++x) dst[pad + x] = convert(src[x]);
    }
}

// acc[r][v] += the taps of output channel r0 + r of this weight block over
// kVectors vectors of columns from x0. Always inlined so it is compiled for the
// caller's ISA variant (vectorize.hpp) and with its floating-point options.
template <std::size_t kRows, std::size_t kVectors, class Vec, class T>
[[gnu::always_inline]] inline void accumulate(const T* rows, std::size_t stride, const T* wblock,
                                              std::size_t in_channels, std::size_t kernel, std::size_t x0,
                                              std::size_t r0, Vec (&acc)[kRows][kVectors]) {
  constexpr std::size_t lanes = sizeof(Vec) / sizeof(T);
  const std::size_t k = kernel;
  for (std::size_t ci = 0; ci < in_channels; ++ci)
    for (std::size_t ky = 0; ky < k; ++ky) {
      const T* src = rows + (ci * k + ky) * stride + x0;
      const T* w = wblock + (ci * k + ky) * k * kConvBlock + r0;
      for (std::size_t kx = 0; kx < k; ++kx, w += kConvBlock) {
        Vec a[kVectors];
        for (std::size_t v = 0; v < kVectors; ++v) std::memcpy(&a[v], src + kx + v * lanes, sizeof(Vec));
#pragma GCC unroll 8
        for (std::size_t r = 0; r < kRows; ++r)
          for (std::size_t v = 0; v < kVectors; ++v) acc[r][v] += w[r] * a[v];
      }
    }
}

// One output row of every output channel, register-blocked: per block of
// kConvBlock channels (the packing) and kRows x kVectors vectors of Vec at a
// time (what the ISA's registers hold: vectorize.hpp), then
// write(co, sums, x0, columns) stores channel co's sums of `columns` columns
// from x0. Every output is the same sum in the same order whatever the blocking,
// so the variants round alike.
template <std::size_t kRows, std::size_t kVectors, class Vec, class T, class Write>
[[gnu::always_inline]] inline void blocked_row(const T* rows, std::size_t stride, const T* weights,
                                               std::size_t in_channels, std::size_t out_channels,
                                               std::size_t kernel, std::size_t width, Write&& write) {
  constexpr std::size_t span = kVectors * sizeof(Vec) / sizeof(T);
  static_assert(kConvBlock % kRows == 0 && kColumns % span == 0, "a sub-block tiles the block");
  const std::size_t block = in_channels * kernel * kernel * kConvBlock;
  for (std::size_t co0 = 0; co0 < out_channels; co0 += kConvBlock) {
    const T* wblock = weights + co0 / kConvBlock * block;
    for (std::size_t x0 = 0; x0 < width; x0 += span) {
      const std::size_t columns = std::min(span, width - x0);
      for (std::size_t r0 = 0; r0 < kConvBlock && co0 + r0 < out_channels; r0 += kRows) {
        Vec acc[kRows][kVectors] = {};
        accumulate(rows, stride, wblock, in_channels, kernel, x0, r0, acc);
        for (std::size_t r = 0; r < kRows && co0 + r0 + r < out_channels; ++r) {
          T sums[span];
          std::memcpy(sums, acc[r], sizeof sums);
          write(co0 + r0 + r, sums, x0, columns);
        }
      }
    }
  }
}

}  // namespace sira::ref::row_conv
