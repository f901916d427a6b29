// Graph -> TFLite FlatBuffer, full integer (docs/tflite.md). The accessors come
// from the pinned TFLite 1.15 schema (third_party/tflite) through Debian's flatc.
#include "sira/tflite_export.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "model/export_metadata.hpp"
#include "model/quant_metadata.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/quant.hpp"
#include "tflite/schema_generated.h"

namespace sira {
namespace {

namespace fb = flatbuffers;
using tflite::BuiltinOperator;
using tflite::BuiltinOptions;
using tflite::TensorType;

// The oldest operator version that has each kernel with these tensor types
// (TFLite's op_version rules): the Edge TPU compiler and old runtimes accept them.
int op_version(BuiltinOperator op, bool int8) {
  switch (op) {
    case BuiltinOperator::CONV_2D: return 3;     // int8 input, weights and output
    case BuiltinOperator::QUANTIZE: return 1;    // float32 -> int8
    case BuiltinOperator::DEQUANTIZE: return 2;  // int8 -> float32
    default: return int8 ? 2 : 1;  // MAX_POOL_2D, CONCATENATION, TRANSPOSE_CONV (no bias), STRIDED_SLICE,
                                   // RESIZE_NEAREST_NEIGHBOR, ADD: 2 is the int8 version
  }
}

// An int8 activation tensor: its index, NHWC extent and sira's uint8 grid.
struct Act {
  int tensor = -1;
  int h = 0, w = 0, c = 0;
  ActivationParams q;
};

class Writer {
 public:
  Writer(const Model& m, const TfliteExportOptions& o) : model_(m), opt_(o), graph_(build_graph(m.config)) {
    buffers_.push_back(tflite::CreateBuffer(fb_));  // buffer 0: the empty sentinel
  }
  std::string run();

 private:
  int buffer(const void* data, std::size_t bytes) {
    fb_.ForceVectorAlignment(bytes, 1, 16);
    auto v = fb_.CreateVector(static_cast<const std::uint8_t*>(data), bytes);
    buffers_.push_back(tflite::CreateBuffer(fb_, v));
    return int(buffers_.size()) - 1;
  }
  int tensor(const std::string& name, std::vector<int> shape, TensorType type, int buf,
             fb::Offset<tflite::QuantizationParameters> q = 0) {
    tensors_.push_back(tflite::CreateTensor(fb_, fb_.CreateVector(shape), type, std::uint32_t(buf),
                                            fb_.CreateString(name), q));
    return int(tensors_.size()) - 1;
  }
  // sira's uint8 code q is the int8 code q - 128 with the zero point moved alike.
  fb::Offset<tflite::QuantizationParameters> act_quant(const ActivationParams& a) {
    return tflite::CreateQuantizationParameters(fb_, 0, 0, fb_.CreateVector(std::vector<float>{a.scale}),
                                                fb_.CreateVector(std::vector<std::int64_t>{a.zero_point - 128}));
  }
  Act activation(const std::string& name, int h, int w, int c, const ActivationParams& q) {
    return {tensor(name, {1, h, w, c}, TensorType::INT8, 0, act_quant(q)), h, w, c, q};
  }
  int int32_constant(const std::string& name, const std::vector<std::int32_t>& v) {
    return tensor(name, {int(v.size())}, TensorType::INT32, buffer(v.data(), v.size() * 4));
  }
  // An operator on int8 tensors (int8 = false: on float32 tensors, the graph's tail).
  void op(BuiltinOperator code, const std::vector<int>& in, const std::vector<int>& out,
          BuiltinOptions type = BuiltinOptions::NONE, fb::Offset<void> options = 0, bool int8 = true) {
    const int version = op_version(code, int8);
    auto it = opcode_index_.find({code, version});
    if (it == opcode_index_.end()) {
      it = opcode_index_.emplace(std::pair{code, version}, int(opcodes_.size())).first;
      opcodes_.push_back(tflite::CreateOperatorCode(fb_, code, 0, version));
    }
    ops_.push_back(tflite::CreateOperator(fb_, std::uint32_t(it->second), fb_.CreateVector(in), fb_.CreateVector(out),
                                          type, options));
  }

  Act conv(const Node& n, const Act& in, const ActivationParams& out_q);
  Act slice(const std::string& name, const Act& in, std::array<int, 4> begin, std::array<int, 4> end);
  Act concat(const std::string& name, const std::vector<Act>& parts, int axis);
  Act bilinear(const Node& n, const Act& in);
  Act nearest(const Node& n, const Act& in);
  const ActivationParams& activation_of(const std::string& name) const {
    auto a = model_.quant->activations.find(name);
    if (a == model_.quant->activations.end())
      fail("TFLite export: node '", name, "' has no activation quantisation parameters");
    return a->second;
  }
  std::vector<fb::Offset<tflite::Metadata>> metadata(const ActivationParams& out_q);
  ActivationParams reachable_output_grid() const;

  const Model& model_;
  TfliteExportOptions opt_;
  Graph graph_;
  fb::FlatBufferBuilder fb_{1 << 20};
  std::vector<fb::Offset<tflite::Buffer>> buffers_;
  std::vector<fb::Offset<tflite::Tensor>> tensors_;
  std::vector<fb::Offset<tflite::Operator>> ops_;
  std::vector<fb::Offset<tflite::OperatorCode>> opcodes_;
  std::map<std::pair<BuiltinOperator, int>, int> opcode_index_;  // (code, version) -> index
};

// int8 conv, 'same' padding (TFLite pads with the input's zero point, the real
// 0 sira pads with), weights OHWI per output channel, int32 bias at s_in * s_w.
Act Writer::conv(const Node& n, const Act& in, const ActivationParams& out_q) {
  const QuantLayer& q = model_.quant->layers.at(n.name);
  const int co = n.channels, ci = in.c, k = n.kernel;
  std::vector<std::int8_t> w(q.weight.size());
  for (int o = 0; o < co; ++o)
    for (int i = 0; i < ci; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          w[std::size_t(((o * k + y) * k + x) * ci + i)] = q.weight[std::size_t(((o * ci + i) * k + y) * k + x)];
  std::vector<float> ws(static_cast<std::size_t>(co)), bs(static_cast<std::size_t>(co));
  for (int o = 0; o < co; ++o) {
    ws[std::size_t(o)] = q.scale(std::size_t(o));
    bs[std::size_t(o)] = quant::output_multiplier(in.q.scale, ws[std::size_t(o)]);  // float(s_in * s_w)
  }
  const std::vector<std::int64_t> zeros(std::size_t(co), 0);
  const int wt = tensor(n.name + ".weight", {co, k, k, ci}, TensorType::INT8, buffer(w.data(), w.size()),
                        tflite::CreateQuantizationParameters(fb_, 0, 0, fb_.CreateVector(ws), fb_.CreateVector(zeros),
                                                             tflite::QuantizationDetails::NONE, 0, 0));
  const int bt = tensor(n.name + ".bias", {co}, TensorType::INT32, buffer(q.bias.data(), q.bias.size() * 4),
                        tflite::CreateQuantizationParameters(fb_, 0, 0, fb_.CreateVector(bs), fb_.CreateVector(zeros)));
  const Act out = activation(n.name, in.h, in.w, co, out_q);
  const auto act = n.relu ? tflite::ActivationFunctionType::RELU : tflite::ActivationFunctionType::NONE;
  op(BuiltinOperator::CONV_2D, {in.tensor, wt, bt}, {out.tensor}, BuiltinOptions::Conv2DOptions,
     tflite::CreateConv2DOptions(fb_, tflite::Padding::SAME, 1, 1, act).Union());
  return out;
}

// A byte copy of a box of `in` (same grid).
Act Writer::slice(const std::string& name, const Act& in, std::array<int, 4> begin, std::array<int, 4> end) {
  const int b = int32_constant(name + "/begin", {begin.begin(), begin.end()});
  const int e = int32_constant(name + "/end", {end.begin(), end.end()});
  const int s = int32_constant(name + "/strides", {1, 1, 1, 1});
  const Act out = activation(name, end[1] - begin[1], end[2] - begin[2], end[3] - begin[3], in.q);
  op(BuiltinOperator::STRIDED_SLICE, {in.tensor, b, e, s}, {out.tensor}, BuiltinOptions::StridedSliceOptions,
     tflite::CreateStridedSliceOptions(fb_).Union());
  return out;
}

// Concatenation of tensors on one grid is a byte copy (sira's shared scales).
Act Writer::concat(const std::string& name, const std::vector<Act>& parts, int axis) {
  Act out = parts[0];
  std::vector<int> in;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!(parts[i].q == parts[0].q))
      fail("TFLite export: '", name, "' joins tensors of different scales (sira shares one scale through a concat)");
    in.push_back(parts[i].tensor);
    if (i == 0) continue;
    if (axis == 1) out.h += parts[i].h;
    if (axis == 2) out.w += parts[i].w;
    if (axis == 3) out.c += parts[i].c;
  }
  out = activation(name, out.h, out.w, out.c, out.q);
  op(BuiltinOperator::CONCATENATION, in, {out.tensor}, BuiltinOptions::ConcatenationOptions,
     tflite::CreateConcatenationOptions(fb_, axis).Union());
  return out;
}

// sira's x2 bilinear (PyTorch align_corners=False: out[2i] = in[i-1]/4 + 3 in[i]/4,
// out[2i+1] = 3 in[i]/4 + in[i+1]/4, edges clamped). TFLite 1.15's
// RESIZE_BILINEAR has no half-pixel mode, so it is a TRANSPOSE_CONV, stride 2,
// with the separable kernel [1, 3, 3, 1]/4 per axis, one-hot across channels:
// int8 weights 1, 3, 9 at scale 1/16 (exact), output on the input's grid
// (multiplier exactly 1/16). The edge clamp is a one-pixel replicate pad
// (slices + concat, exact) and the 2 extra output pixels per side are cropped.
Act Writer::bilinear(const Node& n, const Act& in) {
  const int h = in.h, w = in.w, c = in.c;
  const std::string p = n.name + "/pad";
  const Act rows = concat(p + "_rows", {slice(p + "_top", in, {0, 0, 0, 0}, {1, 1, w, c}), in,
                                        slice(p + "_bottom", in, {0, h - 1, 0, 0}, {1, h, w, c})}, 1);
  const Act padded = concat(p, {slice(p + "_left", rows, {0, 0, 0, 0}, {1, h + 2, 1, c}), rows,
                                slice(p + "_right", rows, {0, 0, w - 1, 0}, {1, h + 2, w, c})}, 2);
  static constexpr int taps[4] = {1, 3, 3, 1};
  std::vector<std::int8_t> k(std::size_t(c) * 16 * std::size_t(c), 0);
  for (int o = 0; o < c; ++o)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) k[std::size_t(((o * 4 + y) * 4 + x) * c + o)] = std::int8_t(taps[y] * taps[x]);
  const std::vector<float> sixteenth(std::size_t(c), 1.0f / 16.0f);
  const std::vector<std::int64_t> zeros(std::size_t(c), 0);
  const int kt = tensor(n.name + "/bilinear_kernel", {c, 4, 4, c}, TensorType::INT8, buffer(k.data(), k.size()),
                        tflite::CreateQuantizationParameters(fb_, 0, 0, fb_.CreateVector(sixteenth),
                                                             fb_.CreateVector(zeros)));
  const int H = 2 * (h + 2), W = 2 * (w + 2);
  const int shape = int32_constant(n.name + "/output_shape", {1, H, W, c});
  const Act wide = activation(n.name + "/padded_up", H, W, c, in.q);
  // SAME: TFLite pads the transposed conv by 1 here, so padded input row i
  // reaches output rows 2i - 1 .. 2i + 2; original row j's outputs start at 2j + 2.
  op(BuiltinOperator::TRANSPOSE_CONV, {shape, kt, padded.tensor}, {wide.tensor}, BuiltinOptions::TransposeConvOptions,
     tflite::CreateTransposeConvOptions(fb_, tflite::Padding::SAME, 2, 2).Union());
  return slice(n.name, wide, {0, 2, 2, 0}, {1, 2 + 2 * h, 2 + 2 * w, c});
}

// sira's nearest copies sample floor(o / 2): TFLite's legacy (asymmetric) nearest.
Act Writer::nearest(const Node& n, const Act& in) {
  const int size = int32_constant(n.name + "/size", {2 * in.h, 2 * in.w});
  const Act out = activation(n.name, 2 * in.h, 2 * in.w, in.c, in.q);
  op(BuiltinOperator::RESIZE_NEAREST_NEIGHBOR, {in.tensor, size}, {out.tensor},
     BuiltinOptions::ResizeNearestNeighborOptions, tflite::CreateResizeNearestNeighborOptions(fb_, false).Union());
  return out;
}

// sira keeps no range for its fp32 network output. The grid of every value the
// final conv can produce from its int8 input grid: no output is ever clipped
// (--output-range trades that for a finer step).
ActivationParams Writer::reachable_output_grid() const {
  const Node& n = graph_.nodes[std::size_t(graph_.output)];
  const QuantLayer& q = model_.quant->layers.at(n.name);
  const ActivationParams& in = activation_of(graph_.nodes[std::size_t(n.inputs[0])].name);
  const std::size_t taps = q.weight.size() / q.bias.size();
  double lo = 0.0, hi = 0.0;
  for (std::size_t c = 0; c < q.bias.size(); ++c) {
    double acc_lo = q.bias[c], acc_hi = q.bias[c];
    for (std::size_t t = 0; t < taps; ++t) {  // padding taps add 0: included by min/max with 0
      const double w = q.weight[c * taps + t], a = w * (0 - in.zero_point), b = w * (255 - in.zero_point);
      acc_lo += std::min({a, b, 0.0});
      acc_hi += std::max({a, b, 0.0});
    }
    const double unit = double(quant::output_multiplier(in.scale, q.scale(c)));
    lo = std::min(lo, acc_lo * unit);
    hi = std::max(hi, acc_hi * unit);
  }
  return quant::activation_params(lo, hi);
}

std::string Writer::run() {
  if (model_.arch != "tomogan") fail("TFLite export: architecture '", model_.arch, "' is not supported (tomogan only)");
  if (!model_.quant)
    fail("TFLite export: the model is fp32 and has no int8 ranges; quantise it first (sira quantize), "
         "TFLite full-integer export needs int8 weights and activation ranges");
  for (const auto& [name, layer] : model_.quant->layers)
    if (layer.precision != LayerPrecision::int8)
      fail("TFLite export: layer '", name, "' is ", precision_name(layer.precision),
           "; full-integer TFLite needs every layer int8 (quantise without mixed precision)");
  const int mult = graph_.multiple();
  if (opt_.tile_height <= 0 || opt_.tile_width <= 0 || opt_.tile_height % mult || opt_.tile_width % mult)
    fail("TFLite export: tile ", opt_.tile_height, "x", opt_.tile_width, " is not a multiple of ", mult,
         " (the network's stride: ", graph_.levels, " levels of 2x2 pooling)");

  const ActivationParams& in_q = activation_of(graph_.nodes[0].name);
  ActivationParams out_q = reachable_output_grid();
  if (opt_.output_range) {
    const auto [lo, hi] = *opt_.output_range;
    if (!(lo < hi)) fail("TFLite export: output range [", lo, ", ", hi, "] is empty");
    out_q = quant::activation_params(lo, hi);
  }
  const int H = opt_.tile_height, W = opt_.tile_width, C = graph_.in_channels;
  const int x_f = tensor("x", {1, H, W, C}, TensorType::FLOAT32, 0);
  std::vector<Act> out(graph_.nodes.size());
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
    const Node& n = graph_.nodes[i];
    auto in = [&](int k) { return out[std::size_t(n.inputs[std::size_t(k)])]; };
    const bool final_layer = int(i) == graph_.output;
    switch (n.op) {
      case OpKind::input:
        out[i] = activation(n.name, H, W, C, in_q);
        op(BuiltinOperator::QUANTIZE, {x_f}, {out[i].tensor});
        break;
      case OpKind::conv:
        out[i] = conv(n, in(0), final_layer ? out_q : activation_of(n.name));
        break;
      case OpKind::maxpool: {
        if (n.kernel != 2) fail("TFLite export: maxpool '", n.name, "' has kernel ", n.kernel, " (2 only)");
        const Act a = in(0);
        out[i] = activation(n.name, a.h / 2, a.w / 2, a.c, a.q);
        op(BuiltinOperator::MAX_POOL_2D, {a.tensor}, {out[i].tensor}, BuiltinOptions::Pool2DOptions,
           tflite::CreatePool2DOptions(fb_, tflite::Padding::VALID, 2, 2, 2, 2).Union());
        break;
      }
      case OpKind::upsample:
        if (n.upsample == Upsample::transposed)
          fail("TFLite export: '", n.name, "' is a transposed upsample; its bias needs TRANSPOSE_CONV version 3, "
               "newer than the pinned TFLite 1.15 schema (bilinear and nearest models export)");
        out[i] = n.upsample == Upsample::bilinear ? bilinear(n, in(0)) : nearest(n, in(0));
        break;
      case OpKind::concat:
        out[i] = concat(n.name, {in(0), in(1)}, 3);  // [skip, upsampled], as sira
        break;
    }
  }
  // The network's int8 output, dequantised; the global residual adds the float
  // centre input slice as sira does (y = network + x[centre]), in a float tail
  // that the Edge TPU compiler leaves to the CPU. An int8 ADD would add the
  // *quantised* input, up to half an input step (0.019 on the shipped models) off.
  const Act net = out[std::size_t(graph_.output)];
  const int y_f = tensor("y", {1, H, W, 1}, TensorType::FLOAT32, 0);
  if (graph_.residual) {
    const int net_f = tensor("network", {1, H, W, 1}, TensorType::FLOAT32, 0);
    op(BuiltinOperator::DEQUANTIZE, {net.tensor}, {net_f});
    int centre = x_f;
    if (C > 1) {
      const std::vector<std::int32_t> b{0, 0, 0, C / 2}, e{1, H, W, C / 2 + 1};
      centre = tensor("residual/centre", {1, H, W, 1}, TensorType::FLOAT32, 0);
      op(BuiltinOperator::STRIDED_SLICE,
         {x_f, int32_constant("residual/begin", b), int32_constant("residual/end", e),
          int32_constant("residual/strides", {1, 1, 1, 1})},
         {centre}, BuiltinOptions::StridedSliceOptions, tflite::CreateStridedSliceOptions(fb_).Union(), false);
    }
    op(BuiltinOperator::ADD, {net_f, centre}, {y_f}, BuiltinOptions::AddOptions, tflite::CreateAddOptions(fb_).Union(),
       false);
  } else {
    op(BuiltinOperator::DEQUANTIZE, {net.tensor}, {y_f});
  }

  const auto metas = metadata(out_q);
  const auto subgraph = tflite::CreateSubGraph(fb_, fb_.CreateVector(tensors_), fb_.CreateVector(std::vector<int>{x_f}),
                                               fb_.CreateVector(std::vector<int>{y_f}), fb_.CreateVector(ops_),
                                               fb_.CreateString("sira_tomogan"));
  const auto model = tflite::CreateModel(fb_, 3, fb_.CreateVector(opcodes_), fb_.CreateVector(&subgraph, 1),
                                         fb_.CreateString(std::string("sira ") + SIRA_VERSION_STRING),
                                         fb_.CreateVector(buffers_), 0, fb_.CreateVector(metas));
  fb_.Finish(model, tflite::ModelIdentifier());
  return {reinterpret_cast<const char*>(fb_.GetBufferPointer()), fb_.GetSize()};
}

// Provenance and the facts a caller needs, one Metadata entry (UTF-8 text in a
// buffer) per key, as ONNX's metadata_props.
std::vector<fb::Offset<tflite::Metadata>> Writer::metadata(const ActivationParams& out_q) {
  const nlohmann::json norm = normalization_metadata(model_.norm);
  std::vector<std::pair<std::string, std::string>> props = {
      {"sira_version", SIRA_VERSION_STRING},
      {"normalization", norm.dump()},
      {"input", "normalised slices, 1 x " + std::to_string(opt_.tile_height) + " x " + std::to_string(opt_.tile_width) +
                    " x " + std::to_string(graph_.in_channels) + " float32 (NHWC), quantised in the graph"},
      {"residual", graph_.residual ? "included (output = network + centre input slice)" : "none"},
      {"precision", "int8 full integer (int8 activations, per-axis int8 weights, int32 bias)"},
      {"output", nlohmann::json{{"scale", out_q.scale},
                                {"zero_point", out_q.zero_point - 128},
                                {"range", opt_.output_range ? "--output-range" : "every value the final conv can reach"},
                                {"layout", "1 x H x W x 1 float32: the int8 network output dequantised"
                                           " (+ the float centre input slice if residual)"}}
                     .dump()},
      {"source_model", opt_.source_name},
      {"source_model_hash", opt_.source_hash}};
  for (const auto& [k, v] : opt_.provenance)
    if (k != "sira_version") props.emplace_back(k, v);
  std::vector<fb::Offset<tflite::Metadata>> out;
  for (const auto& [k, v] : props) {
    const int buf = buffer(v.data(), v.size());
    out.push_back(tflite::CreateMetadata(fb_, fb_.CreateString(k), std::uint32_t(buf)));
  }
  return out;
}

}  // namespace

std::string export_tflite(const Model& model, const TfliteExportOptions& options) {
  return Writer(model, options).run();
}

}  // namespace sira
