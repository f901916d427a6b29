// int8 'same' convolution, the integer twin of conv2d.cpp (shared skeleton:
// row_conv.hpp): the gathered rows hold q - zero_point as int32 (0 in the
// padding, so the padding is the real value 0) and accumulate exactly in int32.
#include <omp.h>

#include <algorithm>

#include "engine/ref/int8_conv_kernels.hpp"
#include "engine/ref/int8_kernels.hpp"
#include "engine/ref/row_conv.hpp"
#include "engine/ref/vectorize.hpp"
#include "sira/quant.hpp"

#if defined(SIRA_HAVE_AARCH64_DOTPROD)
#include "engine/ref/aarch64/int8_conv2d_dotprod.hpp"
#endif

namespace sira::ref {
namespace {

using row_conv::row_stride;

template <std::size_t kRows, std::size_t kVectors, class Vec>
[[gnu::always_inline]] inline void conv_row(const std::int32_t* rows, std::size_t stride, std::size_t y,
                                            const Int8Conv& conv, std::size_t width, std::size_t plane,
                                            std::uint8_t* out_u8, float* out_f32) {
  row_conv::blocked_row<kRows, kVectors, Vec>(
      rows, stride, y, conv.weights.data(), conv.in_channels, conv.out_channels, conv.kernel, width,
      [&](std::size_t co, const std::int32_t* sums, std::size_t x0, std::size_t columns)
          __attribute__((always_inline)) {
            const std::size_t at = co * plane + x0;
            write_int8_conv_outputs(conv, co, sums, 1, conv.bias[co], columns, out_u8 ? out_u8 + at : nullptr,
                                    out_f32 ? out_f32 + at : nullptr);
          });
}

// The row kernel for each ISA level (vectorize.hpp); all give the same integers.
using ConvRow = void (*)(const std::int32_t*, std::size_t, std::size_t, const Int8Conv&, std::size_t,
                         std::size_t, std::uint8_t*, float*);
// Blocked as the fp32 kernel is (conv2d.cpp), for the same registers.
#define SIRA_INT8_CONV_ROW_VARIANT(NAME, ROWS, VECTORS, VEC, ...)                                      \
  __VA_ARGS__ void NAME(const std::int32_t* rows, std::size_t stride, std::size_t y, const Int8Conv& conv, \
                        std::size_t width, std::size_t plane, std::uint8_t* out_u8, float* out_f32) {       \
    conv_row<ROWS, VECTORS, VEC>(rows, stride, y, conv, width, plane, out_u8, out_f32);                     \
  }
SIRA_INT8_CONV_ROW_VARIANT(conv_row_portable, kPortableRows, 2, Vec4i)
#if defined(SIRA_REF_X86_VARIANTS)
SIRA_INT8_CONV_ROW_VARIANT(conv_row_x86_64_v3, 4, 2, Vec8i, [[gnu::target("arch=x86-64-v3")]])
SIRA_INT8_CONV_ROW_VARIANT(conv_row_x86_64_v4, 8, 2, Vec16i, [[gnu::target("arch=x86-64-v4")]])
#endif

}  // namespace

#if defined(SIRA_HAVE_AARCH64_DOTPROD)
// Plain C++, here rather than in the dot-product translation unit: it runs on
// every CPU (that unit is compiled for ARMv8.2).
void pack_dotprod_weights(const std::int8_t* torch_weights, Int8Conv& p) {
  using aarch64::kDotBlock;
  const std::size_t k = p.kernel, taps = k * k, groups = row_conv::round_up(p.in_channels, 4) / 4;
  const std::size_t blocks = row_conv::round_up(p.out_channels, kDotBlock) / kDotBlock;
  p.dot_weights.assign(blocks * taps * groups * kDotBlock * 4, 0);
  p.dot_weight_sums.assign(p.out_channels, 0);
  for (std::size_t co = 0; co < p.out_channels; ++co)
    for (std::size_t ci = 0; ci < p.in_channels; ++ci)
      for (std::size_t tap = 0; tap < taps; ++tap) {
        const std::int8_t w = torch_weights[(co * p.in_channels + ci) * taps + tap];
        const std::size_t b = co / kDotBlock, r = co % kDotBlock, g = ci / 4, j = ci % 4;
        p.dot_weights[(((b * taps + tap) * groups + g) * kDotBlock + r) * 4 + j] = w;
        p.dot_weight_sums[co] += w;
      }
}
#endif

void pack_int8_conv_weights(const std::int8_t* torch_weights, Int8Conv& p) {
  p.weights.assign(row_conv::round_up(p.out_channels, kConvBlock) * p.in_channels * p.kernel * p.kernel, 0);
  row_conv::pack_weights(torch_weights, p.out_channels, p.in_channels, p.kernel, p.weights.data());
#if defined(SIRA_HAVE_AARCH64_DOTPROD)
  pack_dotprod_weights(torch_weights, p);
#endif
}

std::size_t conv2d_int8_scratch_per_thread(const Int8Conv& conv, std::size_t width) {
  std::size_t n = row_conv::scratch_per_thread(conv.in_channels, conv.kernel, width);
#if defined(SIRA_HAVE_AARCH64_DOTPROD)
  n = std::max(n, (aarch64::conv2d_int8_dotprod_scratch_bytes(conv, width) + 3) / 4);
#endif
  return n;
}

void conv2d_int8(const std::uint8_t* in, Shape s, const Int8Conv& conv, std::uint8_t* out_u8, float* out_f32,
                 std::int32_t* scratch, int threads) {
  ConvRow row_kernel = conv_row_portable;
  switch (int8_conv_kernel()) {
#if defined(SIRA_HAVE_AARCH64_DOTPROD)
    case Int8ConvKernel::aarch64_dotprod:
      return aarch64::conv2d_int8_dotprod(in, s, conv, out_u8, out_f32, reinterpret_cast<std::int8_t*>(scratch),
                                          threads);
#endif
#if defined(SIRA_REF_X86_VARIANTS)
    case Int8ConvKernel::x86_64_v4: row_kernel = conv_row_x86_64_v4; break;
    case Int8ConvKernel::x86_64_v3: row_kernel = conv_row_x86_64_v3; break;
#endif
    default: break;
  }
  const std::size_t per_thread = conv2d_int8_scratch_per_thread(conv, s.width);
  const std::size_t stride = row_stride(s.width, conv.kernel);
  const int zp = conv.input_zero_point;
  row_conv::for_each_row_in_bands(
      s.height, threads, worth_threads(s.size() * conv.out_channels * conv.kernel * conv.kernel),
      [&](std::size_t y, bool whole, int thread) {
        std::int32_t* rows = scratch + std::size_t(thread) * per_thread;
        row_conv::gather_rows(in, s, conv.kernel, y, whole, rows,
                              [zp](std::uint8_t q) __attribute__((always_inline)) { return std::int32_t(q) - zp; });
        row_kernel(rows, stride, y, conv, s.width, s.plane(), out_u8 ? out_u8 + y * s.width : nullptr,
                   out_f32 ? out_f32 + y * s.width : nullptr);
      });
}

}  // namespace sira::ref
