// Fake quantisation for quantisation-aware training (sira train --qat): torch
// ops whose forward values are exactly the int8 semantics of
// docs/quantization.md (the scalar formulas of sira/quant.hpp, bit for bit),
// with straight-through gradients so the fp32 weights keep learning.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

#include "sira/quant_params.hpp"

namespace sira::train {

// What the generator's forward simulates: FIXED activation parameters (one per
// node output except the final conv) and the weight quantiser that
// quantize_weights will apply at export.
struct FakeQuantConfig {
  std::map<std::string, ActivationParams> activations;
  int weight_qmax = 127;    // 127 (8-bit weights) or 63 (7-bit)
  bool per_channel = true;  // one weight scale per output channel, else one per tensor
};

// Value: dequantize(quantize(x; s, zp)) = (clamp(nearbyint(float(x * inv(s)) + zp), 0, 255) - zp) * s.
// Gradient: identity where the unrounded code lies in [0, 255], zero outside
// (clipped values do not move with x).
torch::Tensor fake_quantize_activation(const torch::Tensor& x, const ActivationParams& p);

// The uint8 codes of x (exact integers as float): clamp(nearbyint(float(x * inv(s)) + zp), 0, 255).
torch::Tensor activation_codes(const torch::Tensor& x, const ActivationParams& p);

// Symmetric weight scales: float(max|w| / qmax) per output channel (dimension
// `channel_dim`: 0 for conv [out, in, k, k], 1 for transposed [in, out, 2, 2]),
// or one over the whole tensor; 1 for an all-zero channel. A 1-D float tensor
// of the output channel count (per tensor: 1 element).
torch::Tensor weight_scales(const torch::Tensor& w, int qmax, bool per_channel, int channel_dim);

// Value: float(clamp(nearbyint(w / s_w), -qmax, qmax)) * s_w (w / s_w in double).
// Gradient: identity (with s_w = max|w| / qmax nothing is ever clipped).
torch::Tensor fake_quantize_weight(const torch::Tensor& w, const torch::Tensor& scales, int qmax, int channel_dim);

// Value: float(nearbyint(b / (s_in * s_w[c])) * s_in * s_w[c]) (in double), the
// dequantised int32 bias. Gradient: identity. `scales` as from weight_scales.
torch::Tensor fake_quantize_bias(const torch::Tensor& b, float input_scale, const torch::Tensor& scales);

// Bilinear 2x upsample (align_corners = false) of a fake-quantised tensor as
// the int8 engine does it: on the codes, q_out = clamp(nearbyint(sum of
// weights * q_in), 0, 255) (exact in float: multiples of 1/16), same (s, zp).
// Gradient: that of the fp32 bilinear upsample of x.
torch::Tensor fake_quantize_bilinear_upsample(const torch::Tensor& x, const ActivationParams& p);

}  // namespace sira::train
