#include "train/fake_quant.hpp"

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/options/upsampling.h>

#include <vector>

#include "sira/quant.hpp"

namespace sira::train {
namespace {

// `value` in the forward pass, the gradient of `surrogate` in the backward
// pass. surrogate - surrogate.detach() is exactly 0 for finite values, so the
// forward value is bit-exact (value + (s - v) - ... would round).
torch::Tensor straight_through(const torch::Tensor& value, const torch::Tensor& surrogate) {
  return value.detach() + (surrogate - surrogate.detach());
}

// Scales shaped to broadcast against a weight whose output channels lie on `dim`.
torch::Tensor broadcast_scales(const torch::Tensor& scales, const torch::Tensor& w, int dim) {
  if (scales.numel() == 1) return scales.reshape({1});
  std::vector<std::int64_t> shape(std::size_t(w.dim()), 1);
  shape[std::size_t(dim)] = scales.numel();
  return scales.reshape(shape);
}

}  // namespace

torch::Tensor activation_codes(const torch::Tensor& x, const ActivationParams& p) {
  // Separate ops, one float rounding each, as quant::quantize: x * inv, + zp, nearbyint.
  const float inv = quant::inverse_scale(p.scale);
  auto t = torch::mul(x.detach(), torch::scalar_tensor(inv, torch::kFloat32));
  t = torch::add(t, torch::scalar_tensor(float(p.zero_point), torch::kFloat32));
  // torch::round is half to even, like nearbyint; + 0 turns a -0 code (from a
  // small negative x) into +0, as the integer code is.
  return torch::round(t).clamp_(0.0, 255.0).add_(0.0);
}

torch::Tensor fake_quantize_activation(const torch::Tensor& x, const ActivationParams& p) {
  const float inv = quant::inverse_scale(p.scale);
  auto unrounded = torch::mul(x.detach(), torch::scalar_tensor(inv, torch::kFloat32));
  unrounded = torch::add(unrounded, torch::scalar_tensor(float(p.zero_point), torch::kFloat32));
  auto codes = torch::round(unrounded).clamp_(0.0, 255.0).add_(0.0);  // no -0 codes
  auto value = torch::mul(torch::sub(codes, float(p.zero_point)), torch::scalar_tensor(p.scale, torch::kFloat32));
  if (!x.requires_grad()) return value;
  const auto inside = torch::logical_and(unrounded >= 0.0, unrounded <= 255.0).to(x.scalar_type());
  return straight_through(value, x * inside);
}

torch::Tensor weight_scales(const torch::Tensor& w, int qmax, bool per_channel, int channel_dim) {
  auto a = w.detach().abs();
  torch::Tensor max_abs;
  if (per_channel) {
    std::vector<std::int64_t> dims;
    for (std::int64_t d = 0; d < w.dim(); ++d)
      if (d != channel_dim) dims.push_back(d);
    max_abs = a.amax(dims);
  } else {
    max_abs = a.max().reshape({1});
  }
  // float(double(max|w|) / qmax), as quant::weight_scale; 1 for a zero channel.
  auto s = (max_abs.to(torch::kFloat64) / double(qmax)).to(torch::kFloat32);
  return torch::where(max_abs > 0, s, torch::ones_like(s));
}

torch::Tensor fake_quantize_weight(const torch::Tensor& w, const torch::Tensor& scales, int qmax, int channel_dim) {
  const auto s = broadcast_scales(scales, w, channel_dim);
  auto q = torch::round(w.detach().to(torch::kFloat64) / s.to(torch::kFloat64)).clamp_(-qmax, qmax);
  auto value = q.to(torch::kFloat32) * s;
  return straight_through(value, w);
}

torch::Tensor fake_quantize_bias(const torch::Tensor& b, float input_scale, const torch::Tensor& scales) {
  const auto s = scales.to(torch::kFloat64);
  const double s_in = input_scale;
  auto q = torch::round(b.detach().to(torch::kFloat64) / (s_in * s)).clamp_(-2147483647.0, 2147483647.0);
  auto value = ((q * s_in) * s).to(torch::kFloat32);  // as dequantize_int8_layers: b_q * s_in * s_w
  return straight_through(value, b);
}

torch::Tensor fake_quantize_bilinear_upsample(const torch::Tensor& x, const ActivationParams& p) {
  namespace F = torch::nn::functional;
  const auto opts = F::InterpolateFuncOptions()
                        .scale_factor(std::vector<double>{2.0, 2.0})
                        .mode(torch::kBilinear)
                        .align_corners(false);
  // The weights are 1/4, 3/4 per axis: every sum of weighted codes is a
  // multiple of 1/16 below 256, exact in float in any order.
  auto codes = F::interpolate(activation_codes(x, p), opts);
  codes = torch::round(codes).clamp_(0.0, 255.0);
  auto value = torch::mul(torch::sub(codes, float(p.zero_point)), torch::scalar_tensor(p.scale, torch::kFloat32));
  if (!x.requires_grad()) return value;
  return straight_through(value, F::interpolate(x, opts));
}

}  // namespace sira::train
