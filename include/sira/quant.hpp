// The scalar reference formulas of int8 and bf16 inference
// (docs/quantization.md). Every backend uses these, or reproduces them bit for
// bit, so they are the specification: change one and the doc changes with it.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "sira/quant_params.hpp"

namespace sira::quant {

// ---- activations (uint8, per-tensor scale and zero point) ----

// 1/s rounded to float once; quantize() multiplies by it.
inline float inverse_scale(float scale) { return float(1.0 / double(scale)); }

// clamp(nearbyint(x * inv + zp), 0, 255): the zero point is added in float
// before rounding (ties: nearbyint(0.5 + 3) = 4), half to even.
inline std::uint8_t quantize(float x, float inv_scale, int zero_point) {
  const float t = x * inv_scale;
  const float v = std::nearbyint(t + float(zero_point));
  return std::uint8_t(std::clamp(v, 0.0f, 255.0f));
}
inline std::uint8_t quantize(float x, const ActivationParams& p) {
  return quantize(x, inverse_scale(p.scale), p.zero_point);
}

inline float dequantize(std::uint8_t q, const ActivationParams& p) {
  return float(int(q) - p.zero_point) * p.scale;
}

// Scale and zero point of a calibrated range [lo, hi] (widened to include 0).
inline ActivationParams activation_params(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (!(hi - lo > 0.0)) return {1.0f, 0};
  if (lo == 0.0) return {float(hi / 255.0), 0};
  const double s = (hi - lo) / 255.0;
  const double zp = std::clamp(std::nearbyint(-lo / s), 0.0, 255.0);
  return {float(s), int(zp)};
}

// ---- weights (int8 symmetric) and bias (int32) ----

// max|w| / qmax as float; 1 for an all-zero channel.
inline float weight_scale(double max_abs, int qmax) {
  return max_abs > 0.0 ? float(max_abs / qmax) : 1.0f;
}

inline std::int8_t quantize_weight(float w, float scale, int qmax) {
  const double v = std::nearbyint(double(w) / double(scale));
  return std::int8_t(std::clamp(v, double(-qmax), double(qmax)));
}

inline std::int32_t quantize_bias(float b, float input_scale, float weight_scale) {
  const double v = std::nearbyint(double(b) / (double(input_scale) * double(weight_scale)));
  return std::int32_t(std::clamp(v, -2147483647.0, 2147483647.0));
}

// ---- requantisation of an int32 accumulator (bias already added) ----

// M = s_in * s_w / s_out, rounded to float once per output channel.
inline float requant_multiplier(float input_scale, float weight_scale, float output_scale) {
  return float(double(input_scale) * double(weight_scale) / double(output_scale));
}

// clamp(nearbyint(relu?(float(acc) * M) + zp_out), 0, 255)
inline std::uint8_t requantize(std::int32_t acc, float multiplier, bool relu, int zero_point) {
  float v = float(acc) * multiplier;
  if (relu) v = std::max(v, 0.0f);
  v = std::nearbyint(v + float(zero_point));
  return std::uint8_t(std::clamp(v, 0.0f, 255.0f));
}

// The final (linear) layer's fp32 output: float(acc) * D, D = s_in * s_w.
inline float output_multiplier(float input_scale, float weight_scale) {
  return float(double(input_scale) * double(weight_scale));
}
inline float dequantize_accumulator(std::int32_t acc, float multiplier) {
  return float(acc) * multiplier;
}

// ---- bf16 ----

// float32 -> bf16 bits, round to nearest even (NaN kept quiet).
inline std::uint16_t bf16_bits(float x) {
  std::uint32_t b = std::bit_cast<std::uint32_t>(x);
  if (std::isnan(x)) return std::uint16_t((b >> 16) | 0x0040u);
  b += 0x7FFFu + ((b >> 16) & 1u);
  return std::uint16_t(b >> 16);
}
inline float bf16_to_float(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t(h) << 16); }
// x rounded to the nearest bf16 value, as a float.
inline float round_bf16(float x) { return bf16_to_float(bf16_bits(x)); }

}  // namespace sira::quant
