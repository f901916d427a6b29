// int8 'same' convolution, the integer twin of conv2d.cpp: each thread copies
// the k input rows an output row needs as int32 (q - zero_point, 0 in the
// padding, so the padding is the real value 0) and accumulates blocks of
// kConvBlock output channels x kColumns columns in int32 vectors, exactly.
#include <omp.h>

#include <algorithm>

#include "engine/ref/int8_kernels.hpp"
#include "engine/ref/vectorize.hpp"
#include "sira/quant.hpp"

namespace sira::ref {
namespace {

constexpr std::size_t kColumns = 32;  // two Vec16i per output channel
using Vec16i = std::int32_t __attribute__((vector_size(64)));

inline Vec16i load16i(const std::int32_t* p) {
  Vec16i v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }
std::size_t row_stride(std::size_t width, std::size_t kernel) { return round_up(width, kColumns) + kernel - 1; }

void gather_rows(const std::uint8_t* in, Shape s, std::size_t kernel, int zero_point, std::size_t y,
                 std::int32_t* rows) {
  const std::size_t pad = kernel / 2, stride = row_stride(s.width, kernel);
  for (std::size_t ci = 0; ci < s.channels; ++ci)
    for (std::size_t ky = 0; ky < kernel; ++ky) {
      std::int32_t* dst = rows + (ci * kernel + ky) * stride;
      std::fill(dst, dst + stride, 0);
      const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - std::ptrdiff_t(pad);
      if (sy < 0 || sy >= std::ptrdiff_t(s.height)) continue;
      const std::uint8_t* src = in + ci * s.plane() + std::size_t(sy) * s.width;
      for (std::size_t x = 0; x < s.width; ++x) dst[pad + x] = std::int32_t(src[x]) - zero_point;
    }
}

SIRA_REF_CLONES
void conv_row(const std::int32_t* rows, std::size_t stride, const Int8Conv& conv, std::size_t width,
              std::size_t plane, std::uint8_t* out_u8, float* out_f32) {
  const std::size_t k = conv.kernel, cin = conv.in_channels;
  const std::size_t block = cin * k * k * kConvBlock;
  for (std::size_t co0 = 0; co0 < conv.out_channels; co0 += kConvBlock) {
    const std::int32_t* wblock = conv.weights.data() + co0 / kConvBlock * block;
    const std::size_t co_count = std::min(kConvBlock, conv.out_channels - co0);
    for (std::size_t x0 = 0; x0 < width; x0 += kColumns) {
      Vec16i acc[kConvBlock][2] = {};
      for (std::size_t ci = 0; ci < cin; ++ci)
        for (std::size_t ky = 0; ky < k; ++ky) {
          const std::int32_t* src = rows + (ci * k + ky) * stride + x0;
          const std::int32_t* w = wblock + (ci * k + ky) * k * kConvBlock;
          for (std::size_t kx = 0; kx < k; ++kx, w += kConvBlock) {
            const Vec16i a0 = load16i(src + kx), a1 = load16i(src + kx + 16);
#pragma GCC unroll 8
            for (std::size_t r = 0; r < kConvBlock; ++r) {
              acc[r][0] += w[r] * a0;
              acc[r][1] += w[r] * a1;
            }
          }
        }
      const std::size_t columns = std::min(kColumns, width - x0);
      for (std::size_t r = 0; r < co_count; ++r) {
        std::int32_t values[kColumns];
        std::memcpy(values, &acc[r][0], sizeof acc[r][0]);
        std::memcpy(values + 16, &acc[r][1], sizeof acc[r][1]);
        const std::size_t co = co0 + r;
        const std::int32_t b = conv.bias[co];
        const float m = conv.multiplier[co];
        if (out_u8) {
          std::uint8_t* dst = out_u8 + co * plane + x0;
          for (std::size_t x = 0; x < columns; ++x)
            dst[x] = quant::requantize(values[x] + b, m, conv.relu, conv.output_zero_point);
        } else {
          float* dst = out_f32 + co * plane + x0;
          for (std::size_t x = 0; x < columns; ++x) {
            const float v = quant::dequantize_accumulator(values[x] + b, m);
            dst[x] = conv.relu ? std::max(v, 0.0f) : v;
          }
        }
      }
    }
  }
}

}  // namespace

void pack_int8_conv_weights(const std::int8_t* torch_weights, Int8Conv& p) {
  const std::size_t k = p.kernel, cin = p.in_channels;
  const std::size_t blocks = round_up(p.out_channels, kConvBlock) / kConvBlock;
  p.weights.assign(blocks * kConvBlock * cin * k * k, 0);
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t r = 0; r < kConvBlock && b * kConvBlock + r < p.out_channels; ++r) {
      const std::size_t co = b * kConvBlock + r;
      for (std::size_t ci = 0; ci < cin; ++ci)
        for (std::size_t tap = 0; tap < k * k; ++tap)
          p.weights[((b * cin + ci) * k * k + tap) * kConvBlock + r] = torch_weights[(co * cin + ci) * k * k + tap];
    }
}

std::size_t conv2d_int8_scratch_per_thread(const Int8Conv& conv, std::size_t width) {
  return conv.in_channels * conv.kernel * row_stride(width, conv.kernel) + 16;
}

void conv2d_int8(const std::uint8_t* in, Shape s, const Int8Conv& conv, std::uint8_t* out_u8, float* out_f32,
                 std::int32_t* scratch, int threads) {
  const std::size_t per_thread = conv2d_int8_scratch_per_thread(conv, s.width);
  const std::size_t stride = row_stride(s.width, conv.kernel);
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (worth_threads(s.size() * conv.out_channels * conv.kernel * conv.kernel))
  for (std::size_t y = 0; y < s.height; ++y) {
    std::int32_t* rows = scratch + std::size_t(omp_get_thread_num()) * per_thread;
    gather_rows(in, s, conv.kernel, conv.input_zero_point, y, rows);
    conv_row(rows, stride, conv, s.width, s.plane(), out_u8 ? out_u8 + y * s.width : nullptr,
             out_f32 ? out_f32 + y * s.width : nullptr);
  }
}

}  // namespace sira::ref
