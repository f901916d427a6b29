// SDOT int8 convolution (see the header). Per output row, each thread gathers the
// k input rows as int8 q - 128 in groups of 4 channels, [ky][group][x][4], and
// accumulates 8 output channels x 8 columns in 16 int32x4 registers: one SDOT-by-
// lane adds 4 channels x 4 products for 4 output channels of one column.
#include "engine/ref/aarch64/int8_conv2d_dotprod.hpp"

#include <arm_neon.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "engine/ref/row_conv.hpp"

namespace sira::ref::aarch64 {
namespace {

using row_conv::round_up;

std::size_t groups_of(const Int8Conv& c) { return round_up(c.in_channels, 4) / 4; }
std::size_t row_stride(std::size_t width, std::size_t kernel) { return round_up(width, kDotColumns) + kernel - 1; }

void gather_rows(const std::uint8_t* in, Shape s, const Int8Conv& conv, std::size_t y, std::int8_t* rows) {
  const std::size_t k = conv.kernel, pad = k / 2, groups = groups_of(conv), stride = row_stride(s.width, k);
  const std::int8_t zero = std::int8_t(conv.input_zero_point - 128);  // the real 0
  for (std::size_t ky = 0; ky < k; ++ky) {
    const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - std::ptrdiff_t(pad);
    const bool inside = sy >= 0 && sy < std::ptrdiff_t(s.height);
    for (std::size_t g = 0; g < groups; ++g) {
      std::int8_t* dst = rows + (ky * groups + g) * stride * 4;
      for (std::size_t j = 0; j < 4; ++j) {
        const std::size_t c = g * 4 + j;
        const std::int8_t fill = c < s.channels ? zero : 0;  // channels past the last: zero weights
        for (std::size_t x = 0; x < stride; ++x) dst[x * 4 + j] = fill;
        if (!inside || c >= s.channels) continue;
        const std::uint8_t* src = in + c * s.plane() + std::size_t(sy) * s.width;
        for (std::size_t x = 0; x < s.width; ++x) dst[(pad + x) * 4 + j] = std::int8_t(int(src[x]) - 128);
      }
    }
  }
}

#define SIRA_DOT_COLUMN(p, a, lane)                          \
  acc[p][0] = vdotq_laneq_s32(acc[p][0], w0, a, lane); \
  acc[p][1] = vdotq_laneq_s32(acc[p][1], w1, a, lane)

#define SIRA_DOTPROD_TARGET __attribute__((target("arch=armv8.2-a+dotprod")))

SIRA_DOTPROD_TARGET
void conv_row(const std::int8_t* rows, std::size_t stride, const Int8Conv& conv, std::size_t width,
              std::size_t plane, std::uint8_t* out_u8, float* out_f32) {
  const std::size_t k = conv.kernel, groups = groups_of(conv), taps = k * k;
  const std::size_t block_bytes = taps * groups * kDotBlock * 4;
  const std::int32_t shift = 128 - conv.input_zero_point;
  for (std::size_t co0 = 0; co0 < conv.out_channels; co0 += kDotBlock) {
    const std::int8_t* wblock = conv.dot_weights.data() + co0 / kDotBlock * block_bytes;
    const std::size_t co_count = std::min(kDotBlock, conv.out_channels - co0);
    for (std::size_t x0 = 0; x0 < width; x0 += kDotColumns) {
      int32x4_t acc[kDotColumns][2];
      for (auto& a : acc) a[0] = a[1] = vdupq_n_s32(0);
      for (std::size_t ky = 0; ky < k; ++ky)
        for (std::size_t g = 0; g < groups; ++g) {
          const std::int8_t* src = rows + ((ky * groups + g) * stride + x0) * 4;
          const std::int8_t* w = wblock + (ky * k * groups + g) * kDotBlock * 4;
          for (std::size_t kx = 0; kx < k; ++kx, w += groups * kDotBlock * 4) {
            const int8x16_t a0 = vld1q_s8(src + kx * 4), a1 = vld1q_s8(src + kx * 4 + 16);
            const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16);
            SIRA_DOT_COLUMN(0, a0, 0);
            SIRA_DOT_COLUMN(1, a0, 1);
            SIRA_DOT_COLUMN(2, a0, 2);
            SIRA_DOT_COLUMN(3, a0, 3);
            SIRA_DOT_COLUMN(4, a1, 0);
            SIRA_DOT_COLUMN(5, a1, 1);
            SIRA_DOT_COLUMN(6, a1, 2);
            SIRA_DOT_COLUMN(7, a1, 3);
          }
        }
      std::int32_t v[kDotColumns * kDotBlock];  // [column][output channel]
      for (std::size_t p = 0; p < kDotColumns; ++p) {
        vst1q_s32(v + p * kDotBlock, acc[p][0]);
        vst1q_s32(v + p * kDotBlock + 4, acc[p][1]);
      }
      const std::size_t columns = std::min(kDotColumns, width - x0);
      for (std::size_t r = 0; r < co_count; ++r) {
        const std::size_t co = co0 + r, at = co * plane + x0;
        // The portable kernel's accumulator (sum of w * (q - zero point)) plus the bias.
        write_int8_conv_outputs(conv, co, v + r, kDotBlock, conv.bias[co] + shift * conv.dot_weight_sums[co],
                                columns, out_u8 ? out_u8 + at : nullptr, out_f32 ? out_f32 + at : nullptr);
      }
    }
  }
}

#undef SIRA_DOT_COLUMN

}  // namespace

std::size_t conv2d_int8_dotprod_scratch_bytes(const Int8Conv& conv, std::size_t width) {
  return conv.kernel * groups_of(conv) * row_stride(width, conv.kernel) * 4 + 64;
}

void conv2d_int8_dotprod(const std::uint8_t* in, Shape s, const Int8Conv& conv, std::uint8_t* out_u8,
                         float* out_f32, std::int8_t* scratch, int threads) {
  const std::size_t per_thread = conv2d_int8_dotprod_scratch_bytes(conv, s.width);
  const std::size_t stride = row_stride(s.width, conv.kernel);
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (worth_threads(s.size() * conv.out_channels * conv.kernel * conv.kernel))
  for (std::size_t y = 0; y < s.height; ++y) {
    std::int8_t* rows = scratch + std::size_t(omp_get_thread_num()) * per_thread;
    gather_rows(in, s, conv, y, rows);
    conv_row(rows, stride, conv, s.width, s.plane(), out_u8 ? out_u8 + y * s.width : nullptr,
             out_f32 ? out_f32 + y * s.width : nullptr);
  }
}

}  // namespace sira::ref::aarch64
