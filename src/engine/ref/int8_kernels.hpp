// Reference int8 kernels (docs/quantization.md): uint8 activations with a
// per-tensor zero point, int8 weights, int32 accumulation, requantisation with
// the scalar formulas of sira/quant.hpp. They define the int8 results every
// other backend must reproduce within +-1 LSB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <vector>

#include "engine/ref/kernels.hpp"
#include "sira/quant.hpp"

namespace sira::ref {

// An int8 conv (or transposed conv) ready to run: weights as int32 (blocks of
// kConvBlock output channels, [in][ky][kx][out_in_block] like PackedConv), the
// int32 bias and, per output channel, the multiplier of the int32 accumulator:
// M = s_in*s_w/s_out when the output is requantised, D = s_in*s_w when it is
// the network's fp32 output.
struct Int8Conv {
  std::size_t in_channels = 0, out_channels = 0, kernel = 0;
  std::vector<std::int32_t> weights;
  std::vector<std::int32_t> bias;
  std::vector<float> multiplier;
  bool relu = false;
  int input_zero_point = 0;
  int output_zero_point = 0;
  // The same weights for the aarch64 dot-product kernel (builds that have it):
  // blocks of 8 output channels, [ky][kx][in/4][out_in_block][4] int8, input
  // channels padded to 4 with zeros, and each output channel's weight sum.
  std::vector<std::int8_t> dot_weights;
  std::vector<std::int32_t> dot_weight_sums;
};

// The epilogue every int8 conv kernel shares, so that they stay bit-identical:
// output channel co of `columns` consecutive output samples from acc[x * step]
// (sums of w * (q - zero point)) plus `add` (the bias, and any correction a
// kernel owes), requantised into out_u8 or dequantised into out_f32 (one is null).
[[gnu::always_inline]] inline void write_int8_conv_outputs(const Int8Conv& conv, std::size_t co,
                                                           const std::int32_t* acc, std::size_t step,
                                                           std::int32_t add, std::size_t columns,
                                                           std::uint8_t* out_u8, float* out_f32) {
  const float m = conv.multiplier[co];
  if (out_u8) {
    for (std::size_t x = 0; x < columns; ++x)
      out_u8[x] = quant::requantize(acc[x * step] + add, m, conv.relu, conv.output_zero_point);
  } else {
    for (std::size_t x = 0; x < columns; ++x) {
      const float v = quant::dequantize_accumulator(acc[x * step] + add, m);
      out_f32[x] = conv.relu ? std::max(v, 0.0f) : v;
    }
  }
}

// Packs PyTorch-layout int8 weights [out, in, k, k] into conv.weights (and the
// layouts of the ISA-specific kernels the build has: int8_conv_kernels.hpp).
void pack_int8_conv_weights(const std::int8_t* torch_weights, Int8Conv& conv);

// int32 scratch one thread of conv2d_int8 needs for an input of this width.
std::size_t conv2d_int8_scratch_per_thread(const Int8Conv& conv, std::size_t width);

// kxk 'same' conv on uint8 codes; taps in the zero padding contribute nothing.
// Runs the kernel int8_conv_kernel() names; all give identical results.
// Exactly one of out_u8 (requantised, output zero point) and out_f32 (the
// dequantised accumulator) is non-null.
void conv2d_int8(const std::uint8_t* in, Shape in_shape, const Int8Conv& conv, std::uint8_t* out_u8,
                 float* out_f32, std::int32_t* scratch, int threads);

// Transposed conv, kernel 2, stride 2; `torch_weights` is [in, out, 2, 2] int8.
void conv_transpose2x2_int8(const std::uint8_t* in, Shape in_shape, const std::int8_t* torch_weights,
                            const Int8Conv& conv, std::uint8_t* out);

// Operations on codes that keep the input's scale and zero point.
void maxpool2x2_u8(const std::uint8_t* in, Shape in_shape, std::uint8_t* out);
void upsample_nearest2x_u8(const std::uint8_t* in, Shape in_shape, std::uint8_t* out);
// Bilinear x2 (align_corners=False) computed exactly in float, rounded once, half to even.
void upsample_bilinear2x_u8(const std::uint8_t* in, Shape in_shape, std::uint8_t* out);
void concat_channels_u8(const std::uint8_t* a, std::size_t a_channels, const std::uint8_t* b,
                        std::size_t b_channels, std::size_t plane, std::uint8_t* out);

// Elementwise quantise / dequantise of a whole tensor with one (scale, zero point).
void quantize_tensor(const float* in, std::size_t n, float scale, int zero_point, std::uint8_t* out);
void dequantize_tensor(const std::uint8_t* in, std::size_t n, float scale, int zero_point, float* out);

}  // namespace sira::ref
