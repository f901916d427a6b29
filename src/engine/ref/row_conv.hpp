// The skeleton conv2d.cpp (fp32) and int8_conv2d.cpp (int32 on codes) share: each
// thread takes bands of output rows and keeps, in scratch, the k input rows of
// every channel the current output row needs (zero padded at the image
// border, so the tap loop has no branches) as a ring: moving down one row copies
// one new input row per channel, not k. Blocks of kConvBlock output channels x a
// few vectors of columns accumulate in registers over all input channels and
// taps. Only the element type and the epilogue (bias + ReLU, or requantisation)
// differ between the two.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "engine/ref/kernels.hpp"

namespace sira::ref::row_conv {

// Columns a row is padded to: a multiple of every variant's vector (16 lanes at
// most), so the last, partial vector of a row reads padding, never past it.
inline constexpr std::size_t kColumns = 16;

inline std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }
inline std::size_t row_stride(std::size_t width, std::size_t kernel) {
  return round_up(width, kColumns) + kernel - 1;
}

// Scratch elements one thread needs: the ring of k rows of every input channel,
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

// The ring: input row y + ky - k/2 of output row y (ky < k) is in slot (y + ky) % k
// of each channel, [ci][slot][x + pad] with zeros outside the image.
inline std::size_t ring_slot(std::size_t y, std::size_t ky, std::size_t kernel) { return (y + ky) % kernel; }

// Fills the ring for output row y as convert(input): all k rows when `whole`
// (the first row of a band), else only the newest, ky = k - 1 (row y - 1 had the
// others). `convert` must be inlinable (a lambda marked always_inline): called
// out of line per sample it cost a third of the fp32 network's time.
template <class In, class T, class Convert>
[[gnu::always_inline]] inline void gather_rows(const In* in, Shape s, std::size_t kernel, std::size_t y, bool whole,
                                               T* rows, Convert convert) {
  const std::size_t pad = kernel / 2, stride = row_stride(s.width, kernel);
  for (std::size_t ci = 0; ci < s.channels; ++ci)
    for (std::size_t ky = whole ? 0 : kernel - 1; ky < kernel; ++ky) {
      T* dst = rows + (ci * kernel + ring_slot(y, ky, kernel)) * stride;
      const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - std::ptrdiff_t(pad);
      if (sy < 0 || sy >= std::ptrdiff_t(s.height)) {
        std::fill(dst, dst + stride, T(0));
        continue;
      }
      std::fill(dst, dst + pad, T(0));
      std::fill(dst + pad + s.width, dst + stride, T(0));
      const In* src = in + ci * s.plane() + std::size_t(sy) * s.width;
      for (std::size_t x = 0; x < s.width; ++x) dst[pad + x] = convert(src[x]);
      // The row after comes next: fetched into L2 while this row computes, it no
      // longer waits on memory (the activations rarely fit a cache; the plain copy
      // was 12 % of the time, waiting on one short stream per channel).
      if (std::size_t(sy) + 1 < s.height)
        for (std::size_t b = 0; b < s.width * sizeof(In); b += 64)
          __builtin_prefetch(reinterpret_cast<const char*>(src + s.width) + b, 0, 2);
    }
}

// Runs row(y, whole, thread) for every output row, in bands of kBand rows that
// the threads take as they come free (whole = the band's first row, whose ring
// is empty), in parallel only when `parallel`. Bands, not one row each: the ring
// then copies (k - 1 + kBand) / kBand input rows per output row instead of k;
// handed out dynamically, not split evenly: on a shared machine a thread whose
// core is busy with other work takes fewer bands instead of holding up the rest.
inline constexpr std::size_t kBand = 8;
template <class Row>
void for_each_row_in_bands(std::size_t height, int threads, bool parallel, Row&& row) {
  const std::size_t bands = (height + kBand - 1) / kBand;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (parallel)
  for (std::size_t b = 0; b < bands; ++b) {
    const std::size_t y0 = b * kBand, y1 = std::min(height, y0 + kBand);
    for (std::size_t y = y0; y < y1; ++y) row(y, y == y0, omp_get_thread_num());
  }
}

// acc[r][v] += the taps of output channel r0 + r of this weight block over
// kVectors vectors of columns from x0, for output row y (its ring slots).
// Always inlined so it is compiled for the caller's ISA variant (vectorize.hpp)
// and with its floating-point options; fully unrolled over r and v so the
// accumulators stay in registers.
template <std::size_t kRows, std::size_t kVectors, class Vec, class T>
[[gnu::always_inline]] inline void accumulate(const T* rows, std::size_t stride, std::size_t y, const T* wblock,
                                              std::size_t in_channels, std::size_t kernel, std::size_t x0,
                                              std::size_t r0, Vec (&acc)[kRows][kVectors]) {
  constexpr std::size_t lanes = sizeof(Vec) / sizeof(T);
  const std::size_t k = kernel, first_slot = ring_slot(y, 0, k);
  for (std::size_t ci = 0; ci < in_channels; ++ci)
    // The slot steps with ky and wraps: no division per row of taps.
    for (std::size_t ky = 0, slot = first_slot; ky < k; ++ky, slot = slot + 1 == k ? 0 : slot + 1) {
      const T* src = rows + (ci * k + slot) * stride + x0;
      const T* w = wblock + (ci * k + ky) * k * kConvBlock + r0;
      for (std::size_t kx = 0; kx < k; ++kx, w += kConvBlock) {
        Vec a[kVectors];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < kVectors; ++v) std::memcpy(&a[v], src + kx + v * lanes, sizeof(Vec));
#pragma GCC unroll 8
        for (std::size_t r = 0; r < kRows; ++r)
#pragma GCC unroll 8
          for (std::size_t v = 0; v < kVectors; ++v) acc[r][v] += w[r] * a[v];
      }
    }
}

// Channels r0.. of one weight block over kVectors vectors of columns from x0, then
// write(co, sums, x0, columns) stores each channel's first `columns` sums.
template <std::size_t kRows, std::size_t kVectors, class Vec, class T, class Write>
[[gnu::always_inline]] inline void sub_block(const T* rows, std::size_t stride, std::size_t y, const T* wblock,
                                             std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
                                             std::size_t co0, std::size_t r0, std::size_t x0, std::size_t columns,
                                             Write& write) {
  Vec acc[kRows][kVectors] = {};
  accumulate(rows, stride, y, wblock, in_channels, kernel, x0, r0, acc);
  for (std::size_t r = 0; r < kRows && co0 + r0 + r < out_channels; ++r) {
    T sums[kVectors * sizeof(Vec) / sizeof(T)];
    std::memcpy(sums, acc[r], sizeof sums);
    write(co0 + r0 + r, sums, x0, columns);
  }
}

// One output row y of every output channel, register-blocked: per block of
// kConvBlock channels (the packing), kRows channels x kVectors vectors of Vec at
// a time (what the ISA's registers hold: vectorize.hpp); the columns past the
// last whole span take one sub-block of as few vectors as cover them. Every
// output is the same sum in the same order whatever the blocking, so the
// variants round alike.
template <std::size_t kRows, std::size_t kVectors, class Vec, class T, class Write>
[[gnu::always_inline]] inline void blocked_row(const T* rows, std::size_t stride, std::size_t y, const T* weights,
                                               std::size_t in_channels, std::size_t out_channels,
                                               std::size_t kernel, std::size_t width, Write&& write) {
  constexpr std::size_t lanes = sizeof(Vec) / sizeof(T), span = kVectors * lanes;
  static_assert(kConvBlock % kRows == 0 && kColumns % lanes == 0 && kVectors <= 3, "a sub-block tiles the block");
  const std::size_t block = in_channels * kernel * kernel * kConvBlock;
  const std::size_t whole_spans = width / span * span, rest = width - whole_spans;
  for (std::size_t co0 = 0; co0 < out_channels; co0 += kConvBlock) {
    const T* wblock = weights + co0 / kConvBlock * block;
    for (std::size_t x0 = 0; x0 < whole_spans; x0 += span)
      for (std::size_t r0 = 0; r0 < kConvBlock && co0 + r0 < out_channels; r0 += kRows)
        sub_block<kRows, kVectors, Vec>(rows, stride, y, wblock, in_channels, out_channels, kernel, co0, r0, x0,
                                        span, write);
    if (rest == 0) continue;
    for (std::size_t r0 = 0; r0 < kConvBlock && co0 + r0 < out_channels; r0 += kRows) {
      if (rest > 2 * lanes && kVectors > 2)
        sub_block<kRows, (kVectors > 2 ? 3 : 1), Vec>(rows, stride, y, wblock, in_channels, out_channels, kernel,
                                                      co0, r0, whole_spans, rest, write);
      else if (rest > lanes && kVectors > 1)
        sub_block<kRows, (kVectors > 1 ? 2 : 1), Vec>(rows, stride, y, wblock, in_channels, out_channels, kernel,
                                                      co0, r0, whole_spans, rest, write);
      else
        sub_block<kRows, 1, Vec>(rows, stride, y, wblock, in_channels, out_channels, kernel, co0, r0, whole_spans,
                                 rest, write);
    }
  }
}

}  // namespace sira::ref::row_conv
