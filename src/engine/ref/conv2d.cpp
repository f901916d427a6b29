// kxk 'same' convolution as a small register-blocked GEMM per output row, in
// fp32 (the gather/tap skeleton it shares with int8_conv2d.cpp: row_conv.hpp).
#include <omp.h>

#include <algorithm>

#include "engine/ref/kernels.hpp"
#include "engine/ref/row_conv.hpp"
#include "engine/ref/vectorize.hpp"

// a*b+c as one fused multiply-add where the CPU has it (ISO C++ mode turns
// contraction off by default); the tolerance against PyTorch covers either.
#pragma GCC optimize("fp-contract=fast")

namespace sira::ref {
namespace {

using row_conv::kColumns;
using row_conv::row_stride;

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
      row_conv::accumulate(rows, stride, wblock, cin, k, x0, acc);
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
  return row_conv::round_up(out_channels, kConvBlock) * in_channels * kernel * kernel;
}

void pack_conv_weights(const float* torch_weights, PackedConv& p) {
  std::fill(p.weights, p.weights + packed_conv_size(p.out_channels, p.in_channels, p.kernel), 0.0f);
  row_conv::pack_weights(torch_weights, p.out_channels, p.in_channels, p.kernel, p.weights);
}

std::size_t conv2d_scratch_per_thread(const PackedConv& conv, std::size_t width) {
  return row_conv::scratch_per_thread(conv.in_channels, conv.kernel, width);
}

void conv2d(const float* in, Shape s, const PackedConv& conv, bool relu, float* out,
            float* scratch, int threads) {
  const std::size_t per_thread = conv2d_scratch_per_thread(conv, s.width);
  const std::size_t stride = row_stride(s.width, conv.kernel);
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (worth_threads(s.size() * conv.out_channels * conv.kernel * conv.kernel))
  for (std::size_t y = 0; y < s.height; ++y) {
    float* rows = scratch + std::size_t(omp_get_thread_num()) * per_thread;
    row_conv::gather_rows(in, s, conv.kernel, y, rows, [](float v) { return v; });
    conv_row(rows, stride, conv, relu, s.width, s.plane(), out + y * s.width);
  }
}

}  // namespace sira::ref
