// kxk 'same' convolution as a small register-blocked GEMM per output row: each
// thread copies the k input rows an output row needs (zero padded at the image
// border, so the inner loop has no branches) and accumulates blocks of
// kConvBlock output channels x kColumns columns in vector registers over all
// input channels and taps.
#include <omp.h>

#include <algorithm>

#include "engine/ref/kernels.hpp"
#include "engine/ref/vectorize.hpp"

// a*b+c as one fused multiply-add where the CPU has it (ISO C++ mode turns
// contraction off by default); the tolerance against PyTorch covers either.
#pragma GCC optimize("fp-contract=fast")

namespace sira::ref {
namespace {

constexpr std::size_t kColumns = 32;  // two Vec16 per output channel

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }
std::size_t row_stride(std::size_t width, std::size_t kernel) {
  return round_up(width, kColumns) + kernel - 1;
}

// Copies the k input rows around output row y into `rows` ([ci][ky][x + pad]),
// zeros outside the image.
void gather_rows(const float* in, Shape s, std::size_t kernel, std::size_t y, float* rows) {
  const std::size_t pad = kernel / 2, stride = row_stride(s.width, kernel);
  for (std::size_t ci = 0; ci < s.channels; ++ci) {
    for (std::size_t ky = 0; ky < kernel; ++ky) {
      float* dst = rows + (ci * kernel + ky) * stride;
      std::fill(dst, dst + stride, 0.0f);
      const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - std::ptrdiff_t(pad);
      if (sy < 0 || sy >= std::ptrdiff_t(s.height)) continue;
      const float* src = in + ci * s.plane() + std::size_t(sy) * s.width;
      std::copy(src, src + s.width, dst + pad);
    }
  }
}

// One output row, every output channel: out[co][x] for x < width.
SIRA_REF_CLONES
void conv_row(const float* rows, std::size_t stride, const PackedConv& conv, bool relu,
              std::size_t width, std::size_t plane, float* out_row) {
  const std::size_t k = conv.kernel, cin = conv.in_channels;
  const std::size_t block_floats = cin * k * k * kConvBlock;
  for (std::size_t co0 = 0; co0 < conv.out_channels; co0 += kConvBlock) {
    const float* wblock = conv.weights + co0 / kConvBlock * block_floats;
    const std::size_t co_count = std::min(kConvBlock, conv.out_channels - co0);
    for (std::size_t x0 = 0; x0 < width; x0 += kColumns) {
      Vec16 acc[kConvBlock][2] = {};
      for (std::size_t ci = 0; ci < cin; ++ci) {
        for (std::size_t ky = 0; ky < k; ++ky) {
          const float* src = rows + (ci * k + ky) * stride + x0;
          const float* w = wblock + (ci * k + ky) * k * kConvBlock;
          for (std::size_t kx = 0; kx < k; ++kx, w += kConvBlock) {
            const Vec16 a0 = load16(src + kx), a1 = load16(src + kx + 16);
#pragma GCC unroll 8
            for (std::size_t r = 0; r < kConvBlock; ++r) {
              acc[r][0] += w[r] * a0;
              acc[r][1] += w[r] * a1;
            }
          }
        }
      }
      const std::size_t columns = std::min(kColumns, width - x0);
      for (std::size_t r = 0; r < co_count; ++r) {
        float values[kColumns];
        store16(values, acc[r][0]);
        store16(values + 16, acc[r][1]);
        float* dst = out_row + (co0 + r) * plane + x0;
        const float b = conv.bias[co0 + r];
        for (std::size_t x = 0; x < columns; ++x) {
          const float v = values[x] + b;
          dst[x] = relu ? std::max(v, 0.0f) : v;
        }
      }
    }
  }
}

}  // namespace

std::size_t packed_conv_size(std::size_t out_channels, std::size_t in_channels,
                             std::size_t kernel) {
  return round_up(out_channels, kConvBlock) * in_channels * kernel * kernel;
}

void pack_conv_weights(const float* torch_weights, PackedConv& p) {
  const std::size_t k = p.kernel, cin = p.in_channels;
  const std::size_t blocks = round_up(p.out_channels, kConvBlock) / kConvBlock;
  std::fill(p.weights, p.weights + packed_conv_size(p.out_channels, cin, k), 0.0f);
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t r = 0; r < kConvBlock && b * kConvBlock + r < p.out_channels; ++r) {
      const std::size_t co = b * kConvBlock + r;
      for (std::size_t ci = 0; ci < cin; ++ci)
        for (std::size_t tap = 0; tap < k * k; ++tap)
          p.weights[((b * cin + ci) * k * k + tap) * kConvBlock + r] =
              torch_weights[(co * cin + ci) * k * k + tap];
    }
}

std::size_t conv2d_scratch_per_thread(const PackedConv& conv, std::size_t width) {
  // The micro-kernel reads up to kColumns - 1 + 16 floats past the last column.
  return conv.in_channels * conv.kernel * row_stride(width, conv.kernel) + 16;
}

void conv2d(const float* in, Shape s, const PackedConv& conv, bool relu, float* out,
            float* scratch, int threads) {
  const std::size_t per_thread = conv2d_scratch_per_thread(conv, s.width);
  const std::size_t stride = row_stride(s.width, conv.kernel);
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (worth_threads(s.size() * conv.out_channels * conv.kernel * conv.kernel))
  for (std::size_t y = 0; y < s.height; ++y) {
    float* rows = scratch + std::size_t(omp_get_thread_num()) * per_thread;
    gather_rows(in, s, conv.kernel, y, rows);
    conv_row(rows, stride, conv, relu, s.width, s.plane(), out + y * s.width);
  }
}

}  // namespace sira::ref
