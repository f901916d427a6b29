// Quantisation parameters of an int8 model (docs/quantization.md): per-tensor
// uint8 activation scales/zero points by node name, and per weighted layer its
// precision and, for int8 layers, the int8 weights, weight scales and int32 bias.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sira {

// How one weighted layer (conv or transposed upsample) computes.
enum class LayerPrecision { int8, bf16, fp32 };
const char* precision_name(LayerPrecision p);
LayerPrecision parse_precision(const std::string& s);  // throws sira::Error

// A uint8 activation tensor: real value = scale * (q - zero_point).
struct ActivationParams {
  float scale = 1.0f;    // > 0, finite
  int zero_point = 0;    // 0..255
  bool operator==(const ActivationParams&) const = default;
};

struct QuantLayer {
  LayerPrecision precision = LayerPrecision::int8;
  // int8 layers only. weight: the layer's weight tensor in its PyTorch layout
  // (conv [out, in, k, k], transposed [in, out, 2, 2]) as int8 in [-qmax, qmax];
  // weight_scale: one per output channel, or a single per-tensor scale;
  // bias: int32, b_q = round(b / (s_in * s_w[c])).
  std::vector<std::int8_t> weight;
  std::vector<float> weight_scale;
  std::vector<std::int32_t> bias;
  bool per_channel() const { return weight_scale.size() != 1; }
  // Scale of output channel c.
  float scale(std::size_t c) const { return weight_scale.size() == 1 ? weight_scale[0] : weight_scale[c]; }
};

struct QuantParams {
  int weight_bits = 8;  // 8 (qmax 127) or 7 (qmax 63; no int16 saturation on non-VNNI CPUs)
  std::string method = "minmax";  // calibration method (provenance only)
  std::map<std::string, ActivationParams> activations;  // every node's output except the final conv
  std::map<std::string, QuantLayer> layers;             // every weighted node
  int weight_qmax() const { return weight_bits == 7 ? 63 : 127; }
};

}  // namespace sira
