// Graph -> ONNX ModelProto (docs/onnx.md). Field numbers are those of onnx.proto.
#include "sira/onnx_export.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "model/protobuf_writer.hpp"
#include "model/export_metadata.hpp"
#include "model/quant_metadata.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/quant.hpp"

namespace sira {
namespace {

using pb::Message;
enum DataType { kFloat = 1, kUint8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7 };

Message tensor(const std::string& name, int type, const std::vector<std::int64_t>& dims, const void* data,
               std::size_t bytes) {
  Message t;
  for (auto d : dims) t.varint_field(1, std::uint64_t(d));
  t.varint_field(2, std::uint64_t(type));
  t.bytes_field(8, name);
  t.bytes_field(9, std::string(static_cast<const char*>(data), bytes));  // raw_data, little-endian
  return t;
}

Message attr_int(const std::string& name, std::int64_t v) {
  Message a;
  a.bytes_field(1, name);
  a.varint_field(3, std::uint64_t(v));
  a.varint_field(20, 2);  // INT
  return a;
}
Message attr_ints(const std::string& name, const std::vector<std::int64_t>& v) {
  Message a;
  a.bytes_field(1, name);
  for (auto x : v) a.varint_field(8, std::uint64_t(x));
  a.varint_field(20, 7);  // INTS
  return a;
}
Message attr_string(const std::string& name, const std::string& v) {
  Message a;
  a.bytes_field(1, name);
  a.bytes_field(4, v);
  a.varint_field(20, 3);  // STRING
  return a;
}

Message value_info(const std::string& name, const std::vector<std::string>& dims, int channels) {
  Message shape;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    Message d;
    if (i == 1) d.varint_field(1, std::uint64_t(channels));
    else d.bytes_field(2, dims[i]);
    shape.message_field(1, d);
  }
  Message tt;
  tt.varint_field(1, kFloat);
  tt.message_field(2, shape);
  Message type;
  type.message_field(1, tt);
  Message vi;
  vi.bytes_field(1, name);
  vi.message_field(2, type);
  return vi;
}

// sira's bilinear is PyTorch's align_corners=False (half_pixel); its nearest
// copies each sample into a 2x2 block (asymmetric + floor).
std::vector<Message> resize_attrs(const Node& n) {
  if (n.upsample == Upsample::bilinear)
    return {attr_string("mode", "linear"), attr_string("coordinate_transformation_mode", "half_pixel")};
  return {attr_string("mode", "nearest"), attr_string("coordinate_transformation_mode", "asymmetric"),
          attr_string("nearest_mode", "floor")};
}

class Builder {
 public:
  Builder(const Model& m, const OnnxExportOptions& o) : model_(m), opt_(o), graph_(build_graph(m.config)) {}

  std::string run();

 private:
  void node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
            const std::vector<Message>& attrs = {}) {
    Message n;
    for (auto& i : in) n.bytes_field(1, i);
    n.bytes_field(2, out);
    n.bytes_field(3, out + "/" + op);
    n.bytes_field(4, op);
    for (auto& a : attrs) n.message_field(5, a);
    g_.message_field(1, n);
  }
  void init(const Message& t) { g_.message_field(5, t); }
  std::string floats(const std::string& name, const std::vector<float>& v, std::vector<std::int64_t> dims) {
    init(tensor(name, kFloat, dims, v.data(), v.size() * 4));
    return name;
  }
  // QuantizeLinear -> DequantizeLinear of an activation, as sira stores it.
  // The scale and zero point initializers of an activation (per profile).
  std::pair<std::string, std::string> activation_grid(const std::string& x, const ActivationParams& a);
  std::string qdq_activation(const std::string& x, const ActivationParams& a);
  std::string resize_on_codes(const Node& n, const std::string& codes, const std::string& scales,
                                const std::vector<Message>& attrs);
  std::string weight(const Node& n);
  // Profile ort: sira's integer arithmetic node for node (see exact_node).
  std::string exact_node(std::size_t i, const std::vector<std::string>& out);
  std::string exact_input();
  std::string exact_weighted(std::size_t i, const std::string& in_codes, const std::string& y);
  std::string exact_float_layer(std::size_t i, const std::string& in_codes, const std::string& y);
  std::string to_codes(const std::string& v, int zero_point, const std::string& name);
  std::string unit_scale();
  std::string code_zero(int zero_point);
  std::string bias(const Node& n, const std::string& in_name);

  const Model& model_;
  OnnxExportOptions opt_;
  Graph graph_;
  Message g_;
  bool unit_scale_made_ = false;
  std::set<int> code_zeros_;
};

std::pair<std::string, std::string> Builder::activation_grid(const std::string& x, const ActivationParams& a) {
  float scale = a.scale;
  std::vector<std::uint8_t> zp_u8{std::uint8_t(a.zero_point)};
  std::vector<std::int8_t> zp_i8{0};
  const bool trt = opt_.profile == Int8Profile::trt;
  if (trt) {  // symmetric int8 covering sira's uint8 range [s(0 - zp), s(255 - zp)]
    const float lo = a.scale * float(0 - a.zero_point), hi = a.scale * float(255 - a.zero_point);
    scale = std::max(std::fabs(lo), std::fabs(hi)) / 127.0f;
  }
  const std::string s = floats(x + "/act_scale", {scale}, {});
  const std::string z = x + "/act_zero_point";
  if (trt) init(tensor(z, kInt8, {}, zp_i8.data(), 1));
  else init(tensor(z, kUint8, {}, zp_u8.data(), 1));
  return {s, z};
}

std::string Builder::qdq_activation(const std::string& x, const ActivationParams& a) {
  const auto [s, z] = activation_grid(x, a);
  node("QuantizeLinear", {x, s, z}, x + "/q");
  node("DequantizeLinear", {x + "/q", s, z}, x + "/dq");
  return x + "/dq";
}

// sira's int8 bilinear interpolates the codes and rounds once, half to even
// (int8_kernels.hpp); about 5 % of the results are exact ties. Resize on
// dequantised values (q - zp) * s lands a few ulp off each tie, so a plain
// DQ -> Resize -> Q rounds about 1 in 8 of them the other way. With scale 1 the
// floats are the codes themselves, every weight (1/4, 3/4) and sum is exact,
// and QuantizeLinear's half-to-even rounding reproduces sira's codes bit for
// bit. The output keeps the input's scale and zero point, as in sira.
std::string Builder::resize_on_codes(const Node& n, const std::string& codes, const std::string& scales,
                                       const std::vector<Message>& attrs) {
  const bool trt = opt_.profile == Int8Profile::trt;
  const std::string one = floats(n.name + "/code_scale", {1.0f}, {}), zero = n.name + "/code_zero_point";
  const std::int8_t z = 0;
  init(tensor(zero, trt ? kInt8 : kUint8, {}, &z, 1));
  node("DequantizeLinear", {codes, one, zero}, n.name + "/codes_in");
  node("Resize", {n.name + "/codes_in", "", scales}, n.name + "/codes_up", attrs);
  node("QuantizeLinear", {n.name + "/codes_up", one, zero}, n.name + "/q");
  return n.name + "/q";
}

std::string Builder::weight(const Node& n) {
  const ModelTensor& w = model_.tensor(n.name + ".weight");
  const bool transposed = is_transposed_layer(n);
  if (!model_.quant) return floats(n.name + ".weight", w.data, w.shape);
  const QuantLayer& q = model_.quant->layers.at(n.name);
  if (q.precision == LayerPrecision::bf16)
    fail("ONNX export: layer '", n.name, "' is bf16; ONNX QDQ has no bf16 layers (export an int8 or fp32 model)");
  if (q.precision == LayerPrecision::fp32) return floats(n.name + ".weight", w.data, w.shape);
  const std::string qn = n.name + ".weight_int8";
  init(tensor(qn, kInt8, w.shape, q.weight.data(), q.weight.size()));
  const std::string s = n.name + ".weight_scale", z = n.name + ".weight_zero_point";
  std::vector<Message> attrs;
  if (q.per_channel()) {
    floats(s, q.weight_scale, {std::int64_t(q.weight_scale.size())});
    std::vector<std::int8_t> zeros(q.weight_scale.size(), 0);
    init(tensor(z, kInt8, {std::int64_t(zeros.size())}, zeros.data(), zeros.size()));
    // Explicit axis: the output channel (ONNX's default axis is 1).
    attrs.push_back(attr_int("axis", transposed ? 1 : 0));
  } else {
    floats(s, q.weight_scale, {});
    std::int8_t zero = 0;
    init(tensor(z, kInt8, {}, &zero, 1));
  }
  node("DequantizeLinear", {qn, s, z}, n.name + ".weight", attrs);
  return n.name + ".weight";
}

std::string Builder::bias(const Node& n, const std::string& in_name) {
  const ModelTensor& b = model_.tensor(n.name + ".bias");
  const bool int8_layer = model_.quant && model_.quant->layers.at(n.name).precision == LayerPrecision::int8;
  if (!int8_layer || opt_.profile == Int8Profile::trt) return floats(n.name + ".bias", b.data, b.shape);
  // ort: int32 bias b_q with scale s_in * s_w[c], zero point 0, axis 0.
  const QuantLayer& q = model_.quant->layers.at(n.name);
  const float s_in = model_.quant->activations.at(in_name).scale;
  std::vector<float> scale(q.bias.size());
  for (std::size_t c = 0; c < scale.size(); ++c) scale[c] = s_in * q.scale(c);
  const std::string qn = n.name + ".bias_int32", s = n.name + ".bias_scale", z = n.name + ".bias_zero_point";
  const std::int64_t c = std::int64_t(q.bias.size());
  init(tensor(qn, kInt32, {c}, q.bias.data(), q.bias.size() * 4));
  floats(s, scale, {c});
  std::vector<std::int32_t> zeros(q.bias.size(), 0);
  init(tensor(z, kInt32, {c}, zeros.data(), zeros.size() * 4));
  node("DequantizeLinear", {qn, s, z}, n.name + ".bias", {attr_int("axis", 0)});
  return n.name + ".bias";
}

// ---- profile ort: sira's int8 arithmetic, exactly ----
// Canonical QDQ (Q/DQ with the real scales around fp32 operators) leaves ORT's
// results a few ulp from sira's wherever a value sits near a rounding
// boundary; each flipped code then spreads through the following layers (on
// the shipped models 5 % of output pixels end up > 1 LSB off, up to ~400 LSB).
// So the ort profile carries the codes themselves: DequantizeLinear with scale
// 1 turns uint8/int8/int32 codes into integer-valued floats, Conv sums them
// exactly (|partial sums| < 2^24), Mul applies sira's float multiplier
// (quant.hpp), and Add(zero point) -> QuantizeLinear(scale 1) is sira's
// clamp(nearbyint(v + zp), 0, 255). MaxPool and Concat run on the uint8 codes.

std::string Builder::unit_scale() {
  if (!unit_scale_made_) floats("unit_scale", {1.0f}, {});
  unit_scale_made_ = true;
  return "unit_scale";
}

std::string Builder::code_zero(int zero_point) {
  const std::string name = "code_zero_point_" + std::to_string(zero_point);
  if (code_zeros_.insert(zero_point).second) {
    const std::uint8_t z = std::uint8_t(zero_point);
    init(tensor(name, kUint8, {}, &z, 1));
  }
  return name;
}

// sira's quantize of an fp32 value v already multiplied by 1/s (or M).
std::string Builder::to_codes(const std::string& v, int zero_point, const std::string& name) {
  std::string t = v;
  if (zero_point != 0) {
    node("Add", {v, floats(name + "/zero_point_float", {float(zero_point)}, {})}, name + "/shifted");
    t = name + "/shifted";
  }
  node("QuantizeLinear", {t, unit_scale(), code_zero(0)}, name + "/q");
  return name + "/q";
}

const ActivationParams& activation_of(const QuantParams& q, const std::string& name) {
  auto a = q.activations.find(name);
  if (a == q.activations.end()) fail("ONNX export: node '", name, "' has no activation quantisation parameters");
  return a->second;
}

std::string Builder::exact_input() {
  const ActivationParams& a = activation_of(*model_.quant, graph_.nodes[0].name);
  node("Mul", {"x", floats("x/inverse_scale", {quant::inverse_scale(a.scale)}, {})}, "x/scaled");
  return to_codes("x/scaled", a.zero_point, "x");
}

std::string Builder::exact_weighted(std::size_t i, const std::string& in_codes, const std::string& y) {
  const Node& n = graph_.nodes[i];
  const bool transposed = is_transposed_layer(n), final_layer = int(i) == graph_.output;
  const QuantLayer& q = model_.quant->layers.at(n.name);
  const ActivationParams& in = activation_of(*model_.quant, graph_.nodes[std::size_t(n.inputs[0])].name);
  const std::int64_t c = std::int64_t(q.bias.size());
  const std::vector<float> ones(q.bias.size(), 1.0f);
  node("DequantizeLinear", {in_codes, unit_scale(), code_zero(in.zero_point)}, n.name + "/input_codes");
  // int8 weights, per output channel with an explicit axis; their scales are in the multiplier.
  const ModelTensor& wt = model_.tensor(n.name + ".weight");
  init(tensor(n.name + ".weight_int8", kInt8, wt.shape, q.weight.data(), q.weight.size()));
  const std::vector<std::int8_t> zeros8(q.bias.size(), 0);
  init(tensor(n.name + ".weight_zero_point", kInt8, {c}, zeros8.data(), zeros8.size()));
  node("DequantizeLinear", {n.name + ".weight_int8", floats(n.name + ".weight_unit_scale", ones, {c}), n.name + ".weight_zero_point"},
       n.name + ".weight", {attr_int("axis", transposed ? 1 : 0)});
  init(tensor(n.name + ".bias_int32", kInt32, {c}, q.bias.data(), q.bias.size() * 4));
  const std::vector<std::int32_t> zeros32(q.bias.size(), 0);
  init(tensor(n.name + ".bias_zero_point", kInt32, {c}, zeros32.data(), zeros32.size() * 4));
  node("DequantizeLinear", {n.name + ".bias_int32", floats(n.name + ".bias_unit_scale", ones, {c}), n.name + ".bias_zero_point"},
       n.name + ".bias", {attr_int("axis", 0)});
  const std::string acc = n.name + "/accumulator";
  if (transposed) {
    node("ConvTranspose", {n.name + "/input_codes", n.name + ".weight", n.name + ".bias"}, acc,
         {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
  } else {
    const std::int64_t p = n.kernel / 2;
    node("Conv", {n.name + "/input_codes", n.name + ".weight", n.name + ".bias"}, acc,
         {attr_ints("kernel_shape", {n.kernel, n.kernel}), attr_ints("pads", {p, p, p, p}), attr_ints("strides", {1, 1}),
          attr_ints("dilations", {1, 1}), attr_int("group", 1)});
  }
  std::vector<float> mult(q.bias.size());
  const ActivationParams* out = final_layer ? nullptr : &activation_of(*model_.quant, n.name);
  for (std::size_t k = 0; k < mult.size(); ++k)
    mult[k] = final_layer ? quant::output_multiplier(in.scale, q.scale(k))
                          : quant::requant_multiplier(in.scale, q.scale(k), out->scale);
  const std::string m = floats(n.name + "/multiplier", mult, {c, 1, 1});
  if (final_layer) {  // the network's fp32 output: float(acc) * s_in * s_w
    node("Mul", {acc, m}, y);
    return y;
  }
  node("Mul", {acc, m}, n.name + "/scaled");
  std::string v = n.name + "/scaled";
  if (n.relu) {
    node("Relu", {v}, n.name + "/relu");
    v = n.name + "/relu";
  }
  return to_codes(v, out->zero_point, n.name);
}

// A layer the model keeps in fp32: sira dequantises its input, runs the float
// kernel and quantises the result (its float sums may round differently from ORT's).
std::string Builder::exact_float_layer(std::size_t i, const std::string& in_codes, const std::string& y) {
  const Node& n = graph_.nodes[i];
  const bool transposed = is_transposed_layer(n), final_layer = int(i) == graph_.output;
  const ActivationParams& in = activation_of(*model_.quant, graph_.nodes[std::size_t(n.inputs[0])].name);
  node("DequantizeLinear", {in_codes, floats(n.name + "/input_scale", {in.scale}, {}), code_zero(in.zero_point)},
       n.name + "/input");
  const std::string w = weight(n), b = bias(n, "");
  const std::string z = final_layer && !n.relu ? y : n.name + "/float";
  if (transposed) {
    node("ConvTranspose", {n.name + "/input", w, b}, n.relu ? n.name + "/linear" : z,
         {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
  } else {
    const std::int64_t p = n.kernel / 2;
    node("Conv", {n.name + "/input", w, b}, n.relu ? n.name + "/linear" : z,
         {attr_ints("kernel_shape", {n.kernel, n.kernel}), attr_ints("pads", {p, p, p, p}), attr_ints("strides", {1, 1}),
          attr_ints("dilations", {1, 1}), attr_int("group", 1)});
  }
  if (n.relu) node("Relu", {n.name + "/linear"}, final_layer ? y : z);
  if (final_layer) return y;
  const ActivationParams& out = activation_of(*model_.quant, n.name);
  node("Mul", {z, floats(n.name + "/inverse_scale", {quant::inverse_scale(out.scale)}, {})}, n.name + "/scaled");
  return to_codes(n.name + "/scaled", out.zero_point, n.name);
}

// One node of the ort profile: returns its uint8 codes (the final conv: its fp32 output).
std::string Builder::exact_node(std::size_t i, const std::vector<std::string>& out) {
  const Node& n = graph_.nodes[i];
  const std::string y = int(i) == graph_.output && !graph_.residual ? "y" : n.name;
  auto in = [&](int k) { return out[std::size_t(n.inputs[std::size_t(k)])]; };
  switch (n.op) {
    case OpKind::input: return exact_input();
    case OpKind::maxpool:
      if (n.kernel != 2) fail("ONNX export: maxpool '", n.name, "' has kernel ", n.kernel, " (2 only)");
      node("MaxPool", {in(0)}, n.name + "/q", {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
      return n.name + "/q";
    case OpKind::concat:
      node("Concat", {in(0), in(1)}, n.name + "/q", {attr_int("axis", 1)});  // [skip, upsampled], as sira
      return n.name + "/q";
    case OpKind::upsample:
      if (n.upsample != Upsample::transposed)
        return resize_on_codes(n, in(0), floats(n.name + "/scales", {1.0f, 1.0f, 2.0f, 2.0f}, {4}), resize_attrs(n));
      [[fallthrough]];
    case OpKind::conv:
      if (model_.quant->layers.at(n.name).precision == LayerPrecision::int8) return exact_weighted(i, in(0), y);
      return exact_float_layer(i, in(0), y);
  }
  fail("ONNX export: node '", n.name, "' has an unknown operation");
}

std::string Builder::run() {
  if (model_.arch != "tomogan") fail("ONNX export: architecture '", model_.arch, "' is not supported (tomogan only)");
  if (opt_.opset != 13 && opt_.opset != 17) fail("ONNX export: opset ", opt_.opset, " is not supported (13 or 17)");
  const bool int8 = model_.quant.has_value();
  if (int8 && model_.quant->weight_bits != 8 && model_.quant->weight_bits != 7)
    fail("ONNX export: ", model_.quant->weight_bits, "-bit weights are not supported");
  std::vector<std::string> out(graph_.nodes.size());  // value name each node's consumers read
  // int8: a consumer's input "<v>/dq" is DequantizeLinear of the codes "<v>/q".
  auto codes_of = [](const std::string& dq) { return dq.substr(0, dq.size() - 3) + "/q"; };
  const bool exact = int8 && opt_.profile == Int8Profile::ort;
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (exact) {
      out[i] = exact_node(i, out);
      continue;
    }
    const Node& n = graph_.nodes[i];
    auto in = [&](int k) { return out[std::size_t(n.inputs[std::size_t(k)])]; };
    // Without a residual the final conv writes the graph output directly.
    std::string y = int(i) == graph_.output && !graph_.residual ? "y" : n.name;
    std::string codes;  // set when the node computes on integer codes (int8 bilinear)
    switch (n.op) {
      case OpKind::input: y = "x"; break;
      case OpKind::conv: {
        const std::string in_node = graph_.nodes[std::size_t(n.inputs[0])].name;
        const std::string w = weight(n), b = bias(n, in_node);
        const std::int64_t p = n.kernel / 2;
        node("Conv", {in(0), w, b}, n.relu ? n.name + "/conv" : y,
             {attr_ints("kernel_shape", {n.kernel, n.kernel}), attr_ints("pads", {p, p, p, p}),
              attr_ints("strides", {1, 1}), attr_ints("dilations", {1, 1}), attr_int("group", 1)});
        if (n.relu) node("Relu", {n.name + "/conv"}, y);
        break;
      }
      case OpKind::maxpool:
        if (n.kernel != 2) fail("ONNX export: maxpool '", n.name, "' has kernel ", n.kernel, " (2 only)");
        node("MaxPool", {in(0)}, y, {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
        break;
      case OpKind::upsample:
        if (n.upsample == Upsample::transposed) {
          const std::string in_node = graph_.nodes[std::size_t(n.inputs[0])].name;
          const std::string w = weight(n), b = bias(n, in_node);
          node("ConvTranspose", {in(0), w, b}, n.relu ? n.name + "/convT" : y,
               {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
          if (n.relu) node("Relu", {n.name + "/convT"}, y);
        } else {
          const std::string scales = floats(n.name + "/scales", {1.0f, 1.0f, 2.0f, 2.0f}, {4});
          const std::vector<Message> attrs = resize_attrs(n);
          if (int8 && n.upsample == Upsample::bilinear) {
            codes = resize_on_codes(n, codes_of(in(0)), scales, attrs);
          } else {
            node("Resize", {in(0), "", scales}, y, attrs);
          }
        }
        break;
      case OpKind::concat:
        node("Concat", {in(0), in(1)}, y, {attr_int("axis", 1)});  // [skip, upsampled], as sira
        break;
    }
    out[i] = y;
    if (int8 && int(i) != graph_.output) {
      auto a = model_.quant->activations.find(n.name);
      if (a == model_.quant->activations.end())
        fail("ONNX export: node '", n.name, "' has no activation quantisation parameters");
      if (codes.empty()) {
        out[i] = qdq_activation(y, a->second);
      } else {  // the node produced codes: only dequantise them
        const auto [s, z] = activation_grid(n.name, a->second);
        node("DequantizeLinear", {codes, s, z}, n.name + "/dq");
        out[i] = n.name + "/dq";
      }
    }
  }
  std::string y = out[std::size_t(graph_.output)];
  if (graph_.residual) {
    // Global residual: + the centre input slice (Graph::residual). A 1x1 conv
    // with a one-hot weight selects it exactly (0 * a + 1 * b + 0 * c = b).
    std::string centre = "x";
    if (graph_.in_channels > 1) {
      std::vector<float> pick(std::size_t(graph_.in_channels), 0.0f);
      pick[std::size_t(graph_.in_channels / 2)] = 1.0f;
      const std::string w = floats("residual/select_centre", pick, {1, graph_.in_channels, 1, 1});
      node("Conv", {"x", w}, "residual/centre", {attr_ints("kernel_shape", {1, 1})});
      centre = "residual/centre";
    }
    node("Add", {y, centre}, "y");
  }
  g_.bytes_field(2, "sira_tomogan");
  g_.message_field(11, value_info("x", {"N", "C", "H", "W"}, graph_.in_channels));
  g_.message_field(12, value_info("y", {"N", "C", "H", "W"}, 1));

  Message m;
  m.varint_field(1, opt_.opset == 17 ? 8 : 7);  // IR version of the opset's ONNX release
  m.bytes_field(2, "sira");
  m.bytes_field(3, SIRA_VERSION_STRING);
  m.message_field(7, g_);
  Message op;
  op.bytes_field(1, "");
  op.varint_field(2, std::uint64_t(opt_.opset));
  m.message_field(8, op);
  const nlohmann::json norm = normalization_metadata(model_.norm);
  std::vector<std::pair<std::string, std::string>> props = {
      {"sira_version", SIRA_VERSION_STRING},
      {"normalization", norm.dump()},
      {"input", "normalised slices, N x C x H x W, H and W multiples of " + std::to_string(graph_.multiple())},
      {"residual", graph_.residual ? "included (output = network + centre input slice)" : "none"},
      {"precision", int8 ? (opt_.profile == Int8Profile::ort ? "int8, sira's integer arithmetic (profile ort)"
                                                          : "int8 QDQ (profile trt)")
                         : "fp32"},
      {"source_model", opt_.source_name},
      {"source_model_hash", opt_.source_hash}};
  for (const auto& [k, v] : opt_.provenance)
    if (k != "sira_version") props.emplace_back(k, v);
  for (auto& [k, v] : props) {
    Message e;
    e.bytes_field(1, k);
    e.bytes_field(2, v);
    m.message_field(14, e);
  }
  return m.bytes();
}

}  // namespace

std::string export_onnx(const Model& model, const OnnxExportOptions& options) {
  return Builder(model, options).run();
}

}  // namespace sira
