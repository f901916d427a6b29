// kxk 'same' convolution as a small register-blocked GEMM per output row, in
// fp32 (the ring/tap skeleton it shares with int8_conv2d.cpp: row_conv.hpp);
// the row kernel is compiled once per ISA level (fp32_conv_kernels.hpp).
#include <algorithm>

#include "engine/ref/fp32_conv_kernels.hpp"
#include "engine/ref/kernels.hpp"
#include "engine/ref/row_conv.hpp"
#include "engine/ref/vectorize.hpp"

// a*b+c as one fused multiply-add where the CPU has it (ISO C++ mode turns
// contraction off by default); the tolerance against PyTorch covers either.
#pragma GCC optimize("fp-contract=fast")

namespace sira::ref {
namespace {

using row_conv::row_stride;

// One output row, every output channel: out[co][x] for x < width, in
// sub-blocks of kRows channels x kVectors vectors of Vec (row_conv.hpp).
template <std::size_t kRows, std::size_t kVectors, class Vec>
[[gnu::always_inline]] inline void conv_row(const float* rows, std::size_t stride, std::size_t y,
                                            const PackedConv& conv, bool relu, std::size_t width, std::size_t plane,
                                            float* out_row) {
  row_conv::blocked_row<kRows, kVectors, Vec>(
      rows, stride, y, conv.weights, conv.in_channels, conv.out_channels, conv.kernel, width,
      [&](std::size_t co, const float* sums, std::size_t x0, std::size_t columns) __attribute__((always_inline)) {
        float* dst = out_row + co * plane + x0;
        const float b = conv.bias[co];
        for (std::size_t x = 0; x < columns; ++x) {
          const float v = sums[x] + b;
          dst[x] = relu ? std::max(v, 0.0f) : v;
        }
      });
}

// The row kernel for each ISA level (vectorize.hpp).
using ConvRow = void (*)(const float*, std::size_t, std::size_t, const PackedConv&, bool, std::size_t, std::size_t,
                         float*);
// The blocking fills each register file without spilling, with enough
// independent accumulators to cover the FMA latency (4 cycles x 2 pipes = 8 in
// flight, with room to spare): AVX-512 8 x 3 zmm of its 32 (+ 3 inputs; the
// weights are embedded broadcasts), AVX2 4 x 3 ymm of 16 (+ 3 inputs + 1
// broadcast weight: all 16). AVX2 at 4 x 2 (8 accumulators) left the FMA pipes
// waiting; 8 x 2 spilled (2 % of the peak).
#define SIRA_CONV_ROW_VARIANT(NAME, ROWS, VECTORS, VEC, ...)                                                 \
  __VA_ARGS__ void NAME(const float* rows, std::size_t stride, std::size_t y, const PackedConv& conv,        \
                        bool relu, std::size_t width, std::size_t plane, float* out_row) {                   \
    conv_row<ROWS, VECTORS, VEC>(rows, stride, y, conv, relu, width, plane, out_row);                        \
  }
SIRA_CONV_ROW_VARIANT(conv_row_portable, kPortableRows, 2, Vec4)
#if defined(SIRA_REF_X86_VARIANTS)
SIRA_CONV_ROW_VARIANT(conv_row_x86_64_v3, 4, 3, Vec8, [[gnu::target("arch=x86-64-v3")]])
SIRA_CONV_ROW_VARIANT(conv_row_x86_64_v4, 8, 3, Vec16, [[gnu::target("arch=x86-64-v4")]])
#endif

ConvRow chosen_conv_row() {
  switch (fp32_conv_kernel()) {
#if defined(SIRA_REF_X86_VARIANTS)
    case Fp32ConvKernel::x86_64_v4: return conv_row_x86_64_v4;
    case Fp32ConvKernel::x86_64_v3: return conv_row_x86_64_v3;
#endif
    default: return conv_row_portable;
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
  const ConvRow row_kernel = chosen_conv_row();
  row_conv::for_each_row_in_bands(
      s.height, threads, worth_threads(s.size() * conv.out_channels * conv.kernel * conv.kernel),
      [&](std::size_t y, bool whole, int thread) {
        float* rows = scratch + std::size_t(thread) * per_thread;
        row_conv::gather_rows(in, s, conv.kernel, y, whole, rows,
                              [](float v) __attribute__((always_inline)) { return v; });
        row_kernel(rows, stride, y, conv, relu, s.width, s.plane(), out + y * s.width);
      });
}

}  // namespace sira::ref
