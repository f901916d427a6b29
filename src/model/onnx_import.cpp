// ONNX ModelProto -> sira Model (docs/onnx.md, "Import"). Field numbers are
// those of onnx.proto. Three steps: decode the protobuf (onnx_import's own
// small structs), turn the nodes into sira-level layers (Conv+Relu, MaxPool,
// upsample, Concat, centre-slice selection, Add) with every attribute checked,
// then match the TomoGAN structure backwards from the output.
#include "sira/onnx_import.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "model/model_metadata.hpp"
#include "model/protobuf_reader.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"

namespace sira {
namespace {

using pb::Reader;

// ---- the decoded protobuf ----

enum DataType { kFloat = 1, kInt32 = 6, kInt64 = 7 };

const char* dtype_name(int t) {
  static const char* names[] = {"UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",
                                "INT32",     "INT64",  "STRING", "BOOL",      "FLOAT16",    "DOUBLE",
                                "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  return t >= 0 && t < int(std::size(names)) ? names[t] : "unknown";
}

struct Tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  int data_type = 0;
  std::string_view raw;
  bool has_raw = false;
  std::vector<float> float_data;
  std::vector<std::int64_t> int_data;  // int32_data or int64_data
  bool external = false, segmented = false;
};

struct Attr {
  std::string name;
  int type = 0;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  Tensor t;
  bool has_t = false;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
};

struct OnnxNode {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;
  std::vector<Attr> attrs;
  int index = 0;

  const Attr* attr(const std::string& n) const {
    for (const Attr& a : attrs)
      if (a.name == n) return &a;
    return nullptr;
  }
  std::string where() const {
    const std::string id = name.empty() ? cat("#", index, outputs.empty() ? "" : " -> '" + outputs[0] + "'") : "'" + name + "'";
    return cat("node ", id, " (", op_type, ")");
  }
};

struct ValueInfo {
  std::string name;
  int elem_type = 0;
  bool has_shape = false;
  std::vector<std::int64_t> dims;  // -1: symbolic or unknown
};

struct OnnxGraph {
  std::vector<OnnxNode> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct OnnxModel {
  std::int64_t ir_version = 0;
  std::int64_t opset = -1;  // of the default domain
  std::string producer_name, producer_version;
  OnnxGraph graph;
  bool has_graph = false;
  std::map<std::string, std::string> metadata;
};

Tensor parse_tensor(Reader r) {
  Tensor t;
  while (r.next()) {
    switch (r.field()) {
      case 1: r.append_int64s(t.dims); break;
      case 2: t.data_type = int(r.int64()); break;
      case 3: t.segmented = true; r.skip(); break;
      case 4: r.append_floats(t.float_data); break;
      case 5: r.append_int64s(t.int_data); break;  // int32_data (varints)
      case 7: r.append_int64s(t.int_data); break;  // int64_data
      case 8: t.name = r.string(); break;
      case 9: t.raw = r.bytes(); t.has_raw = true; break;
      case 13: t.external = true; r.skip(); break;
      case 14: if (r.int64() == 1) t.external = true; break;
      default: r.skip();
    }
  }
  return t;
}

Attr parse_attr(Reader r) {
  Attr a;
  while (r.next()) {
    switch (r.field()) {
      case 1: a.name = r.string(); break;
      case 2: a.f = r.float32(); break;
      case 3: a.i = r.int64(); break;
      case 4: a.s = r.string(); break;
      case 5: a.t = parse_tensor(r.message()); a.has_t = true; break;
      case 7: r.append_floats(a.floats); break;
      case 8: r.append_int64s(a.ints); break;
      case 20: a.type = int(r.int64()); break;
      default: r.skip();
    }
  }
  return a;
}

OnnxNode parse_node(Reader r) {
  OnnxNode n;
  while (r.next()) {
    switch (r.field()) {
      case 1: n.inputs.push_back(r.string()); break;
      case 2: n.outputs.push_back(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.op_type = r.string(); break;
      case 5: n.attrs.push_back(parse_attr(r.message())); break;
      case 7: n.domain = r.string(); break;
      default: r.skip();
    }
  }
  return n;
}

ValueInfo parse_value_info(Reader r) {
  ValueInfo v;
  while (r.next()) {
    if (r.field() == 1) {
      v.name = r.string();
    } else if (r.field() == 2) {  // TypeProto
      Reader type = r.message();
      while (type.next()) {
        if (type.field() != 1) {  // not a tensor type (sequence, map, ...)
          type.skip();
          v.elem_type = -1;
          continue;
        }
        Reader tt = type.message();
        while (tt.next()) {
          if (tt.field() == 1) {
            v.elem_type = int(tt.int64());
          } else if (tt.field() == 2) {
            v.has_shape = true;
            Reader shape = tt.message();
            while (shape.next()) {
              if (shape.field() != 1) {
                shape.skip();
                continue;
              }
              Reader dim = shape.message();
              std::int64_t d = -1;
              while (dim.next()) {
                if (dim.field() == 1) d = dim.int64();
                else dim.skip();
              }
              v.dims.push_back(d);
            }
          } else {
            tt.skip();
          }
        }
      }
    } else {
      r.skip();
    }
  }
  return v;
}

OnnxGraph parse_graph(Reader r) {
  OnnxGraph g;
  while (r.next()) {
    switch (r.field()) {
      case 1: g.nodes.push_back(parse_node(r.message())); g.nodes.back().index = int(g.nodes.size()) - 1; break;
      case 5: g.initializers.push_back(parse_tensor(r.message())); break;
      case 11: g.inputs.push_back(parse_value_info(r.message())); break;
      case 12: g.outputs.push_back(parse_value_info(r.message())); break;
      case 15: fail("the graph has sparse initializers (not supported)");
      default: r.skip();
    }
  }
  return g;
}

OnnxModel parse_model(std::string_view bytes) {
  OnnxModel m;
  Reader r(bytes);
  while (r.next()) {
    switch (r.field()) {
      case 1: m.ir_version = r.int64(); break;
      case 2: m.producer_name = r.string(); break;
      case 3: m.producer_version = r.string(); break;
      case 7: m.graph = parse_graph(r.message()); m.has_graph = true; break;
      case 8: {
        Reader op = r.message();
        std::string domain;
        std::int64_t version = -1;
        while (op.next()) {
          if (op.field() == 1) domain = op.string();
          else if (op.field() == 2) version = op.int64();
          else op.skip();
        }
        if (domain.empty() || domain == "ai.onnx") m.opset = version;
        break;
      }
      case 14: {
        Reader e = r.message();
        std::string k, v;
        while (e.next()) {
          if (e.field() == 1) k = e.string();
          else if (e.field() == 2) v = e.string();
          else e.skip();
        }
        m.metadata[k] = v;
        break;
      }
      default: r.skip();
    }
  }
  if (!m.has_graph) fail("not an ONNX model: no graph (field 7 of ModelProto)");
  if (m.ir_version < 3) fail("not an ONNX model or one too old: IR version ", m.ir_version, " (3 or newer)");
  if (m.opset < 0) fail("the model imports no default-domain (ai.onnx) opset");
  return m;
}

// ---- tensor values ----

std::size_t element_count(const Tensor& t, const std::string& where) {
  std::size_t n = 1;
  for (auto d : t.dims) {
    if (d < 0) fail(where, ": tensor '", t.name, "' has a negative dimension ", d);
    if (d > 0 && n > (std::size_t(1) << 32) / std::size_t(d))
      fail(where, ": tensor '", t.name, "' has more than 2^32 elements");
    n *= std::size_t(d);
  }
  return n;
}

void check_stored(const Tensor& t, const std::string& where) {
  if (t.external) fail(where, ": tensor '", t.name, "' keeps its data in an external file (not supported)");
  if (t.segmented) fail(where, ": tensor '", t.name, "' is segmented (not supported)");
}

std::vector<float> float_values(const Tensor& t, const std::string& where) {
  check_stored(t, where);
  if (t.data_type != kFloat)
    fail(where, ": tensor '", t.name, "' has data type ", dtype_name(t.data_type), " (", t.data_type,
         "); only FLOAT (fp32) tensors are imported");
  const std::size_t n = element_count(t, where);
  std::vector<float> v;
  if (t.has_raw) {
    if (t.raw.size() != n * 4)
      fail(where, ": tensor '", t.name, "' has ", t.raw.size(), " bytes of raw data, expected ", n * 4);
    v.resize(n);
    if (n) std::memcpy(v.data(), t.raw.data(), n * 4);  // little-endian, as ONNX's raw_data
  } else {
    if (t.float_data.size() != n)
      fail(where, ": tensor '", t.name, "' has ", t.float_data.size(), " values, its dimensions say ", n);
    v = t.float_data;
  }
  for (float x : v)
    if (!std::isfinite(x)) fail(where, ": tensor '", t.name, "' holds a non-finite value");
  return v;
}

std::vector<std::int64_t> int_values(const Tensor& t, const std::string& where) {
  check_stored(t, where);
  if (t.data_type != kInt64 && t.data_type != kInt32)
    fail(where, ": tensor '", t.name, "' has data type ", dtype_name(t.data_type), ", expected INT64 or INT32");
  const std::size_t n = element_count(t, where);
  if (n > 64) fail(where, ": tensor '", t.name, "' has ", n, " integers, expected a few");
  std::vector<std::int64_t> v;
  if (t.has_raw) {
    const std::size_t size = t.data_type == kInt64 ? 8 : 4;
    if (t.raw.size() != n * size)
      fail(where, ": tensor '", t.name, "' has ", t.raw.size(), " bytes of raw data, expected ", n * size);
    for (std::size_t i = 0; i < n; ++i) {
      if (size == 8) {
        std::int64_t x;
        std::memcpy(&x, t.raw.data() + 8 * i, 8);
        v.push_back(x);
      } else {
        std::int32_t x;
        std::memcpy(&x, t.raw.data() + 4 * i, 4);
        v.push_back(x);
      }
    }
  } else {
    if (t.int_data.size() != n)
      fail(where, ": tensor '", t.name, "' has ", t.int_data.size(), " values, its dimensions say ", n);
    v = t.int_data;
  }
  return v;
}

// A constant as fp32 (dims kept): the folded form of initializers and Constant nodes.
struct Constant {
  Tensor proto;  // as stored (for integer parameters and dtype errors)
  std::vector<std::int64_t> dims;
  std::vector<float> folded;  // set for a transposed constant
  bool is_folded = false;
};

// ---- sira-level layers ----

enum class Kind { input, conv, pool, up, concat, centre, add };

struct Layer {
  Kind kind = Kind::input;
  const OnnxNode* node = nullptr;  // the producing node (none for the input)
  std::vector<int> in;             // layer indices
  // conv / transposed upsample
  std::vector<std::int64_t> wshape;
  std::vector<float> w, b;
  bool has_bias = false;
  bool relu = false;
  const OnnxNode* relu_node = nullptr;
  Upsample upsample = Upsample::bilinear;
  int centre_begin = -1, centre_end = -1;  // centre: the input channels [begin, end) it selects
  bool visited = false;

  std::string where() const { return node ? node->where() : "the graph input"; }
  int kernel() const { return wshape.size() == 4 ? int(wshape[2]) : 0; }
  std::int64_t out_channels() const { return wshape.empty() ? 0 : wshape[0]; }
};

class Importer {
 public:
  explicit Importer(const OnnxModel& m) : m_(m) {}
  OnnxImportResult run();

 private:
  // graph -> layers
  void add_node(const OnnxNode& n);
  int activation(const OnnxNode& n, std::size_t k, const char* what);
  const Constant& constant(const OnnxNode& n, std::size_t k, const char* what);
  bool is_constant(const std::string& name) const { return !name.empty() && constants_.count(name); }
  std::vector<float> floats_of(const Constant& c, const std::string& where) const;
  std::vector<std::int64_t> ints_of(const Constant& c, const std::string& where) const;
  void set_output(const OnnxNode& n, std::size_t k, int layer);
  int add_layer(Layer l) {
    layers_.push_back(std::move(l));
    return int(layers_.size()) - 1;
  }
  void conv(const OnnxNode& n);
  void conv_transpose(const OnnxNode& n);
  void maxpool(const OnnxNode& n);
  void resize(const OnnxNode& n);
  void slice(const OnnxNode& n);
  void fold_transpose(const OnnxNode& n);
  void constant_node(const OnnxNode& n);
  std::vector<float> upsample_scales(const OnnxNode& n, std::size_t k);

  // layers -> TomoGAN
  Layer& at(int i) {
    layers_[std::size_t(i)].visited = true;
    return layers_[std::size_t(i)];
  }
  int input_of(int i, const char* expected);
  void expect_conv(int i, int kernel, bool relu, const std::string& role);
  int centre_channel(int i);

  const OnnxModel& m_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, int> value_layer_;  // activation value name -> layer
  std::map<std::string, int> uses_;         // value name -> consumers
  std::vector<Layer> layers_;
  int input_layer_ = -1;
  std::string input_name_;
};

int Importer::activation(const OnnxNode& n, std::size_t k, const char* what) {
  if (k >= n.inputs.size() || n.inputs[k].empty()) fail(n.where(), ": its ", what, " input is missing");
  const std::string& v = n.inputs[k];
  const auto it = value_layer_.find(v);
  if (it != value_layer_.end()) return it->second;
  if (constants_.count(v)) fail(n.where(), ": its ", what, " input '", v, "' is a constant, expected an activation");
  fail(n.where(), ": its ", what, " input '", v, "' is not produced by an earlier node nor a graph input");
}

const Constant& Importer::constant(const OnnxNode& n, std::size_t k, const char* what) {
  if (k >= n.inputs.size() || n.inputs[k].empty()) fail(n.where(), ": its ", what, " input is missing");
  const auto it = constants_.find(n.inputs[k]);
  if (it == constants_.end())
    fail(n.where(), ": its ", what, " '", n.inputs[k], "' is not a constant (an initializer or a Constant node); ",
         "sira imports fixed weights and parameters only");
  return it->second;
}

std::vector<float> Importer::floats_of(const Constant& c, const std::string& where) const {
  if (c.is_folded) return c.folded;
  return float_values(c.proto, where);
}

std::vector<std::int64_t> Importer::ints_of(const Constant& c, const std::string& where) const {
  if (c.is_folded) fail(where, ": tensor '", c.proto.name, "' is a transposed float, expected integers");
  return int_values(c.proto, where);
}

void Importer::set_output(const OnnxNode& n, std::size_t k, int layer) {
  if (k >= n.outputs.size() || n.outputs[k].empty()) fail(n.where(), ": it has no output");
  if (value_layer_.count(n.outputs[k]) || constants_.count(n.outputs[k]))
    fail(n.where(), ": its output '", n.outputs[k], "' is already defined (the graph is not in SSA form)");
  value_layer_[n.outputs[k]] = layer;
  for (std::size_t j = 0; j < n.outputs.size(); ++j)
    if (j != k && !n.outputs[j].empty() && uses_.count(n.outputs[j]))
      fail(n.where(), ": its output ", j, " ('", n.outputs[j], "') is used, which sira cannot compute");
}

std::int64_t int_attr(const OnnxNode& n, const char* name, std::int64_t dflt) {
  const Attr* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != 2 && a->type != 0) fail(n.where(), ": attribute '", name, "' is not an INT");
  return a->i;
}

std::vector<std::int64_t> ints_attr(const OnnxNode& n, const char* name, std::vector<std::int64_t> dflt) {
  const Attr* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != 7 && a->type != 0) fail(n.where(), ": attribute '", name, "' is not INTS");
  return a->ints;
}

std::string string_attr(const OnnxNode& n, const char* name, const std::string& dflt) {
  const Attr* a = n.attr(name);
  if (!a) return dflt;
  if (a->type != 3 && a->type != 0) fail(n.where(), ": attribute '", name, "' is not a STRING");
  return a->s;
}

std::string list(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

void Importer::constant_node(const OnnxNode& n) {
  if (n.outputs.size() != 1 || n.outputs[0].empty()) fail(n.where(), ": expected one output");
  Constant c;
  if (const Attr* a = n.attr("value"); a && a->has_t) {
    c.proto = a->t;
  } else if (const Attr* f = n.attr("value_float")) {
    c.proto.data_type = kFloat;
    c.proto.float_data = {f->f};
  } else if (const Attr* fs = n.attr("value_floats")) {
    c.proto.data_type = kFloat;
    c.proto.float_data = fs->floats;
    c.proto.dims = {std::int64_t(fs->floats.size())};
  } else if (const Attr* i = n.attr("value_int")) {
    c.proto.data_type = kInt64;
    c.proto.int_data = {i->i};
  } else if (const Attr* is = n.attr("value_ints")) {
    c.proto.data_type = kInt64;
    c.proto.int_data = is->ints;
    c.proto.dims = {std::int64_t(is->ints.size())};
  } else {
    fail(n.where(), ": a Constant without a value, value_float(s) or value_int(s) attribute (not supported)");
  }
  c.proto.name = n.outputs[0];
  c.dims = c.proto.dims;
  if (value_layer_.count(n.outputs[0]) || constants_.count(n.outputs[0]))
    fail(n.where(), ": its output '", n.outputs[0], "' is already defined");
  constants_[n.outputs[0]] = std::move(c);
}

// Keras / tf2onnx weights are HWIO and reach Conv through a Transpose: folded here.
void Importer::fold_transpose(const OnnxNode& n) {
  if (n.inputs.empty() || !is_constant(n.inputs[0]))
    fail(n.where(), ": Transpose of an activation is not supported (a channels-last graph such as tf2onnx's NHWC; ",
         "export the network channels-first, N x C x H x W)");
  const Constant& c = constant(n, 0, "data");
  const std::vector<float> v = floats_of(c, n.where());
  const std::size_t rank = c.dims.size();
  std::vector<std::int64_t> perm = ints_attr(n, "perm", {});
  if (perm.empty())
    for (std::size_t i = 0; i < rank; ++i) perm.push_back(std::int64_t(rank - 1 - i));
  std::vector<bool> seen(rank, false);
  if (perm.size() != rank) fail(n.where(), ": perm ", list(perm), " does not match the rank ", rank);
  for (auto p : perm) {
    if (p < 0 || std::size_t(p) >= rank || seen[std::size_t(p)]) fail(n.where(), ": perm ", list(perm), " is invalid");
    seen[std::size_t(p)] = true;
  }
  Constant out;
  out.proto = c.proto;
  out.proto.name = n.outputs.empty() ? "" : n.outputs[0];
  out.is_folded = true;
  for (auto p : perm) out.dims.push_back(c.dims[std::size_t(p)]);
  out.proto.dims = out.dims;
  std::vector<std::size_t> in_stride(rank, 1);
  for (std::size_t i = rank; i-- > 1;) in_stride[i - 1] = in_stride[i] * std::size_t(c.dims[i]);
  out.folded.resize(v.size());
  std::vector<std::size_t> idx(rank, 0);  // index in the output
  for (std::size_t o = 0; o < v.size(); ++o) {
    std::size_t src = 0;
    for (std::size_t d = 0; d < rank; ++d) src += idx[d] * in_stride[std::size_t(perm[d])];
    out.folded[o] = v[src];
    for (std::size_t d = rank; d-- > 0;) {
      if (++idx[d] < std::size_t(out.dims[d])) break;
      idx[d] = 0;
    }
  }
  if (n.outputs.size() != 1 || n.outputs[0].empty()) fail(n.where(), ": expected one output");
  if (value_layer_.count(n.outputs[0]) || constants_.count(n.outputs[0]))
    fail(n.where(), ": its output '", n.outputs[0], "' is already defined");
  constants_[n.outputs[0]] = std::move(out);
}

void Importer::conv(const OnnxNode& n) {
  Layer l;
  l.kind = Kind::conv;
  l.node = &n;
  l.in = {activation(n, 0, "data")};
  const Constant& w = constant(n, 1, "weight");
  l.w = floats_of(w, n.where());
  l.wshape = w.dims;
  if (l.wshape.size() != 4) fail(n.where(), ": weight '", w.proto.name, "' has shape ", list(l.wshape), ", expected 4-D (2-D convolution)");
  const std::int64_t k = l.wshape[2];
  if (l.wshape[3] != k || (k != 1 && k != 3))
    fail(n.where(), ": kernel ", l.wshape[2], "x", l.wshape[3], " (sira's convolutions are 1x1 or 3x3)");
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Constant& b = constant(n, 2, "bias");
    l.b = floats_of(b, n.where());
    l.has_bias = true;
    if (b.dims.size() != 1 || b.dims[0] != l.wshape[0])
      fail(n.where(), ": bias '", b.proto.name, "' has shape ", list(b.dims), ", expected [", l.wshape[0], "]");
  } else {
    l.b.assign(std::size_t(l.wshape[0]), 0.0f);
  }
  const auto ks = ints_attr(n, "kernel_shape", {k, k});
  if (ks != std::vector<std::int64_t>{k, k}) fail(n.where(), ": kernel_shape ", list(ks), " does not match the weight");
  if (ints_attr(n, "strides", {1, 1}) != std::vector<std::int64_t>{1, 1})
    fail(n.where(), ": strides ", list(ints_attr(n, "strides", {})), " (sira's convolutions have stride 1)");
  if (ints_attr(n, "dilations", {1, 1}) != std::vector<std::int64_t>{1, 1})
    fail(n.where(), ": dilations ", list(ints_attr(n, "dilations", {})), " (sira's convolutions are not dilated)");
  if (int_attr(n, "group", 1) != 1) fail(n.where(), ": group ", int_attr(n, "group", 1), " (sira's convolutions are dense)");
  const std::string auto_pad = string_attr(n, "auto_pad", "NOTSET");
  const std::int64_t p = k / 2;
  if (auto_pad == "NOTSET") {
    const auto pads = ints_attr(n, "pads", {0, 0, 0, 0});
    if (pads != std::vector<std::int64_t>{p, p, p, p})
      fail(n.where(), ": pads ", list(pads), ", expected ", list({p, p, p, p}), " (sira's 'same' zero padding)");
  } else if (auto_pad == "VALID") {
    if (p != 0) fail(n.where(), ": auto_pad VALID on a ", k, "x", k, " kernel (sira pads 'same')");
  } else if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    fail(n.where(), ": auto_pad '", auto_pad, "' is unknown");
  }
  set_output(n, 0, add_layer(std::move(l)));
}

void Importer::conv_transpose(const OnnxNode& n) {
  Layer l;
  l.kind = Kind::up;
  l.upsample = Upsample::transposed;
  l.node = &n;
  l.in = {activation(n, 0, "data")};
  const Constant& w = constant(n, 1, "weight");
  l.w = floats_of(w, n.where());
  l.wshape = w.dims;  // [in, out, kH, kW]
  if (l.wshape.size() != 4 || l.wshape[2] != 2 || l.wshape[3] != 2)
    fail(n.where(), ": weight shape ", list(l.wshape), ", expected [in, out, 2, 2] (sira's transposed upsampling is 2x2 stride 2)");
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Constant& b = constant(n, 2, "bias");
    l.b = floats_of(b, n.where());
    l.has_bias = true;
    if (b.dims.size() != 1 || b.dims[0] != l.wshape[1])
      fail(n.where(), ": bias '", b.proto.name, "' has shape ", list(b.dims), ", expected [", l.wshape[1], "]");
  } else {
    l.b.assign(std::size_t(l.wshape[1]), 0.0f);
  }
  auto need = [&](const char* attr, std::vector<std::int64_t> dflt, std::vector<std::int64_t> want) {
    const auto v = ints_attr(n, attr, dflt);
    if (v != want) fail(n.where(), ": ", attr, " ", list(v), ", expected ", list(want), " (sira's transposed upsampling is 2x2 stride 2, unpadded)");
  };
  need("kernel_shape", {2, 2}, {2, 2});
  need("strides", {1, 1}, {2, 2});
  need("dilations", {1, 1}, {1, 1});
  need("pads", {0, 0, 0, 0}, {0, 0, 0, 0});
  need("output_padding", {0, 0}, {0, 0});
  if (n.attr("output_shape")) fail(n.where(), ": output_shape is set (not supported)");
  if (int_attr(n, "group", 1) != 1) fail(n.where(), ": group ", int_attr(n, "group", 1), " (dense only)");
  const std::string auto_pad = string_attr(n, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") fail(n.where(), ": auto_pad '", auto_pad, "' (not supported)");
  set_output(n, 0, add_layer(std::move(l)));
}

void Importer::maxpool(const OnnxNode& n) {
  Layer l;
  l.kind = Kind::pool;
  l.node = &n;
  l.in = {activation(n, 0, "data")};
  auto need = [&](const char* attr, std::vector<std::int64_t> dflt, std::vector<std::int64_t> want) {
    const auto v = ints_attr(n, attr, dflt);
    if (v != want) fail(n.where(), ": ", attr, " ", list(v), ", expected ", list(want), " (sira pools 2x2, stride 2)");
  };
  need("kernel_shape", {}, {2, 2});
  need("strides", {1, 1}, {2, 2});
  need("pads", {0, 0, 0, 0}, {0, 0, 0, 0});
  need("dilations", {1, 1}, {1, 1});
  // ceil_mode: the same on the even sizes sira runs; storage_order: of the unused indices only.
  const std::string auto_pad = string_attr(n, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") fail(n.where(), ": auto_pad '", auto_pad, "' (not supported)");
  set_output(n, 0, add_layer(std::move(l)));
}

std::vector<float> Importer::upsample_scales(const OnnxNode& n, std::size_t k) {
  if (k >= n.inputs.size() || n.inputs[k].empty()) return {};
  const Constant& c = constant(n, k, "scales");
  return floats_of(c, n.where());
}

// Resize (opset 10+) and Upsample (opset 7-9). sira's bilinear is PyTorch's
// align_corners=False (half_pixel); its nearest copies sample floor(x / 2).
void Importer::resize(const OnnxNode& n) {
  Layer l;
  l.kind = Kind::up;
  l.node = &n;
  l.in = {activation(n, 0, "data")};
  const bool upsample_op = n.op_type == "Upsample";
  const bool v10 = upsample_op || m_.opset < 11;  // only (X, scales), asymmetric coordinates
  std::vector<float> scales;
  if (upsample_op && n.attr("scales")) scales = n.attr("scales")->floats;
  else scales = upsample_scales(n, v10 ? 1 : 2);
  if (scales.empty()) {
    if (!v10 && n.inputs.size() > 3 && !n.inputs[3].empty())
      fail(n.where(), ": the output size is given by 'sizes' (it fixes the image size); sira upsamples by a scale ",
           "of 2 (export with scale_factor=2)");
    fail(n.where(), ": no constant scales");
  }
  if (scales != std::vector<float>{1.0f, 1.0f, 2.0f, 2.0f}) {
    std::string s;
    for (float f : scales) {
      if (!s.empty()) s += ',';
      s += cat(f);
    }
    fail(n.where(), ": scales [", s, "], expected [1,1,2,2] (sira upsamples H and W by 2)");
  }
  const std::string mode = string_attr(n, "mode", "nearest");
  const std::string ctm = v10 ? "asymmetric" : string_attr(n, "coordinate_transformation_mode", "half_pixel");
  const std::string nearest = v10 ? "floor" : string_attr(n, "nearest_mode", "round_prefer_floor");
  if (!v10 && int_attr(n, "exclude_outside", 0) != 0) fail(n.where(), ": exclude_outside 1 (not supported)");
  if (mode == "linear" || mode == "bilinear") {
    if (ctm != "half_pixel" && ctm != "pytorch_half_pixel")
      fail(n.where(), ": ", n.op_type, " mode '", mode, "' with coordinate_transformation_mode '", ctm,
           "': sira's bilinear is half_pixel (PyTorch align_corners=False) and cannot reproduce it");
    l.upsample = Upsample::bilinear;
  } else if (mode == "nearest") {
    // Output x reads input floor(x / 2) for a scale of 2 in these combinations only.
    const bool half = ctm == "half_pixel" || ctm == "pytorch_half_pixel";
    const bool ok = (ctm == "asymmetric" && (nearest == "floor" || nearest == "round_prefer_floor")) ||
                    (half && (nearest == "round_prefer_floor" || nearest == "round_prefer_ceil")) ||
                    (ctm == "tf_half_pixel_for_nn" && nearest == "floor");
    if (!ok)
      fail(n.where(), ": mode 'nearest' with coordinate_transformation_mode '", ctm, "' and nearest_mode '", nearest,
           "' does not copy each sample into a 2x2 block as sira's nearest upsampling does");
    l.upsample = Upsample::nearest;
  } else {
    fail(n.where(), ": mode '", mode, "' (sira upsamples bilinear or nearest)");
  }
  set_output(n, 0, add_layer(std::move(l)));
}

// x[:, c:c+1] of the graph input: the centre slice for the global residual.
void Importer::slice(const OnnxNode& n) {
  Layer l;
  l.kind = Kind::centre;
  l.node = &n;
  l.in = {activation(n, 0, "data")};
  std::vector<std::int64_t> starts, ends, axes, steps;
  if (n.attr("starts")) {  // opset < 10
    starts = ints_attr(n, "starts", {});
    ends = ints_attr(n, "ends", {});
    axes = ints_attr(n, "axes", {});
  } else {
    starts = ints_of(constant(n, 1, "starts"), n.where());
    ends = ints_of(constant(n, 2, "ends"), n.where());
    if (n.inputs.size() > 3 && !n.inputs[3].empty()) axes = ints_of(constant(n, 3, "axes"), n.where());
    if (n.inputs.size() > 4 && !n.inputs[4].empty()) steps = ints_of(constant(n, 4, "steps"), n.where());
  }
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
  if (starts.size() != 1 || ends.size() != 1 || axes.size() != 1 || (axes[0] != 1 && axes[0] != -3) ||
      (!steps.empty() && steps != std::vector<std::int64_t>{1}) || starts[0] < 0)
    fail(n.where(), ": only a slice of input channels (axis 1, step 1) is supported, as the residual's centre slice");
  l.centre_begin = int(std::min<std::int64_t>(starts[0], 1 << 20));
  l.centre_end = int(std::clamp<std::int64_t>(ends[0], -1, 1 << 20));
  set_output(n, 0, add_layer(std::move(l)));
}

void Importer::add_node(const OnnxNode& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx")
    fail(n.where(), ": operator domain '", n.domain, "' is not supported (only the standard ai.onnx operators)");
  const std::string& op = n.op_type;
  if (op == "Constant") return constant_node(n);
  if (op == "Transpose") return fold_transpose(n);
  if (op == "Identity") {
    if (n.inputs.empty() || n.outputs.empty()) fail(n.where(), ": expected one input and one output");
    if (is_constant(n.inputs[0])) {
      constants_[n.outputs[0]] = constants_[n.inputs[0]];
      return;
    }
    return set_output(n, 0, activation(n, 0, "data"));
  }
  if (op == "Conv") return conv(n);
  if (op == "ConvTranspose") return conv_transpose(n);
  if (op == "MaxPool") return maxpool(n);
  if (op == "Resize" || op == "Upsample") return resize(n);
  if (op == "Slice") return slice(n);
  if (op == "Relu") {
    const int i = activation(n, 0, "data");
    Layer& l = layers_[std::size_t(i)];
    if (l.kind != Kind::conv || l.relu)
      fail(n.where(), ": a ReLU after ", l.where(), "; sira has a ReLU only directly after a convolution");
    if (uses_[n.inputs[0]] != 1)
      fail(n.where(), ": the output of ", l.where(), " before this ReLU is also used elsewhere (sira fuses the ReLU)");
    l.relu = true;
    l.relu_node = &n;
    return set_output(n, 0, i);
  }
  if (op == "Concat") {
    Layer l;
    l.kind = Kind::concat;
    l.node = &n;
    if (n.inputs.size() != 2) fail(n.where(), ": ", n.inputs.size(), " inputs, expected 2 (skip and upsampled)");
    const std::int64_t axis = int_attr(n, "axis", 1000);
    if (axis != 1 && axis != -3) fail(n.where(), ": axis ", axis, ", expected 1 (channels)");
    l.in = {activation(n, 0, "first"), activation(n, 1, "second")};
    return set_output(n, 0, add_layer(std::move(l)));
  }
  if (op == "Add") {
    Layer l;
    l.kind = Kind::add;
    l.node = &n;
    if (n.inputs.size() != 2) fail(n.where(), ": expected 2 inputs");
    l.in = {activation(n, 0, "first"), activation(n, 1, "second")};
    return set_output(n, 0, add_layer(std::move(l)));
  }
  fail(n.where(), ": operator not supported by sira import (a TomoGAN-family graph uses Conv, Relu, MaxPool, ",
       "Resize/Upsample, ConvTranspose, Concat and, for the global residual, Slice or Conv and Add)");
}

// ---- matching the TomoGAN structure, backwards from the output ----

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::input: return "the graph input";
    case Kind::conv: return "Conv";
    case Kind::pool: return "MaxPool";
    case Kind::up: return "an upsampling";
    case Kind::concat: return "Concat";
    case Kind::centre: return "Slice";
    case Kind::add: return "Add";
  }
  return "?";
}

int Importer::input_of(int i, const char* expected) {
  const Layer& l = layers_[std::size_t(i)];
  if (l.in.empty()) fail(l.where(), ": expected ", expected, " before it");
  return l.in[0];
}

void Importer::expect_conv(int i, int kernel, bool relu, const std::string& role) {
  const Layer& l = at(i);
  if (l.kind != Kind::conv)
    fail(l.where(), ": found ", kind_name(l.kind), " where the TomoGAN structure has a ", kernel, "x", kernel,
         " Conv", relu ? " + Relu" : "", " (", role, ")");
  if (l.kernel() != kernel)
    fail(l.where(), ": a ", l.kernel(), "x", l.kernel(), " Conv where the TomoGAN structure has ", kernel, "x", kernel,
         " (", role, ")");
  if (l.relu != relu)
    fail(l.where(), relu ? ": no Relu after it" : ": a Relu after it", " but the TomoGAN structure has ",
         relu ? "one" : "none", " (", role, ")");
}

// The input channel a residual operand selects, or -1 when it is not the centre-slice pattern.
int Importer::centre_channel(int i) {
  const Layer& l = layers_[std::size_t(i)];
  if (l.kind == Kind::input) return -2;  // the whole input: one slice
  if (l.kind == Kind::centre && l.in[0] == input_layer_) {
    at(i);
    return l.centre_end == l.centre_begin + 1 || l.centre_end < 0 ? l.centre_begin : -3;
  }
  if (l.kind == Kind::conv && l.in[0] == input_layer_ && !l.relu && l.kernel() == 1 && l.out_channels() == 1) {
    // sira's exporter: a 1x1 Conv with a one-hot weight and no (or a zero) bias.
    int hot = -1;
    for (std::size_t c = 0; c < l.w.size(); ++c) {
      if (l.w[c] == 1.0f && hot < 0) hot = int(c);
      else if (l.w[c] != 0.0f) return -1;
    }
    if (hot < 0 || l.b[0] != 0.0f) return -1;
    at(i);
    return hot;
  }
  return -1;
}

OnnxImportResult Importer::run() {
  const OnnxGraph& g = m_.graph;
  for (const Tensor& t : g.initializers) {
    if (t.name.empty()) fail("an initializer has no name");
    Constant c;
    c.proto = t;
    c.dims = t.dims;
    constants_[t.name] = std::move(c);
  }
  // The activation input: the graph input that is not an initializer (PyTorch
  // may list every initializer as an input too).
  for (const ValueInfo& v : g.inputs) {
    if (constants_.count(v.name)) continue;
    if (input_layer_ >= 0)
      fail("the graph has more than one input ('", input_name_, "', '", v.name, "'); a TomoGAN takes one");
    if (v.elem_type != kFloat)
      fail("graph input '", v.name, "' has element type ", dtype_name(v.elem_type), ", expected FLOAT (fp32)");
    if (v.has_shape && v.dims.size() != 4)
      fail("graph input '", v.name, "' has rank ", v.dims.size(), ", expected 4 (N x C x H x W)");
    Layer l;
    input_layer_ = add_layer(std::move(l));
    input_name_ = v.name;
    value_layer_[v.name] = input_layer_;
  }
  if (input_layer_ < 0) fail("the graph has no input");
  if (g.outputs.size() != 1) fail("the graph has ", g.outputs.size(), " outputs; a TomoGAN has one");
  for (const OnnxNode& n : g.nodes)
    for (const std::string& i : n.inputs)
      if (!i.empty()) ++uses_[i];
  ++uses_[g.outputs[0].name];
  // A quantised graph is refused as a whole, naming its first quantisation node
  // (before its other nodes, e.g. the Mul that scales the input, are reported).
  for (const OnnxNode& n : g.nodes) {
    const std::string& op = n.op_type;
    if (op == "QuantizeLinear" || op == "DequantizeLinear" || op.rfind("QLinear", 0) == 0 ||
        op.rfind("ConvInteger", 0) == 0 || op.rfind("MatMulInteger", 0) == 0)
      fail(n.where(), ": a quantised (int8) graph; sira import reads fp32 graphs only (import the fp32 model and ",
           "run sira quantize)");
  }
  for (const OnnxNode& n : g.nodes) add_node(n);
  const auto out_it = value_layer_.find(g.outputs[0].name);
  if (out_it == value_layer_.end())
    fail("graph output '", g.outputs[0].name, "' is not computed from the input by the graph's nodes");

  TomoganConfig cfg;
  int net = out_it->second;
  int centre = -1;
  const OnnxNode* add = nullptr;
  if (layers_[std::size_t(net)].kind == Kind::add) {
    const Layer& a = at(net);
    add = a.node;
    const int c0 = centre_channel(a.in[0]), c1 = centre_channel(a.in[1]);
    if ((c0 == -1) == (c1 == -1))
      fail(a.where(), ": a final Add is the global residual only as network output + centre input slice ",
           "(the input itself, Slice of the input's channels, or a 1x1 one-hot Conv of the input)");
    centre = c0 != -1 ? c0 : c1;
    if (centre == -3) fail(a.where(), ": the residual adds more than one input channel");
    net = c0 != -1 ? a.in[1] : a.in[0];
    cfg.residual = true;
  }
  expect_conv(net, 1, false, "head.conv2, the final linear 1x1 conv");
  if (layers_[std::size_t(net)].out_channels() != 1)
    fail(layers_[std::size_t(net)].where(), ": ", layers_[std::size_t(net)].out_channels(),
         " output channels; the final conv of a TomoGAN has 1");
  const int head1 = input_of(net, "head.conv1");
  expect_conv(head1, 1, true, "head.conv1");

  struct Dec {
    int conv1, conv2, concat, up, skip;
    bool up_first;
  };
  std::vector<Dec> dec;  // finest first
  int v = input_of(head1, "the last decoder conv");
  for (;;) {
    if (dec.size() > 8) fail("more than 8 decoder levels");
    expect_conv(v, 3, true, dec.empty() ? "the last decoder conv or the bottleneck" : "a decoder conv or the bottleneck");
    const int prev = input_of(v, "a conv");
    if (layers_[std::size_t(prev)].kind == Kind::pool) break;  // v is the bottleneck
    Dec d{};
    d.conv2 = v;
    d.conv1 = prev;
    expect_conv(d.conv1, 3, true, "decoder conv1");
    d.concat = input_of(d.conv1, "Concat");
    const Layer& cc = at(d.concat);
    if (cc.kind != Kind::concat)
      fail(cc.where(), ": found ", kind_name(cc.kind), " where the TomoGAN structure has a decoder Concat [skip, upsampled]");
    const bool up0 = layers_[std::size_t(cc.in[0])].kind == Kind::up, up1 = layers_[std::size_t(cc.in[1])].kind == Kind::up;
    if (up0 == up1) fail(cc.where(), ": expected one upsampled input and one skip connection");
    d.up_first = up0;
    d.up = up0 ? cc.in[0] : cc.in[1];
    d.skip = up0 ? cc.in[1] : cc.in[0];
    at(d.up);
    dec.push_back(d);
    v = input_of(d.up, "the decoder's coarser level");
  }
  const int bottleneck = v;
  std::vector<std::pair<int, int>> enc;  // (conv1, conv2), coarsest first
  int p = input_of(bottleneck, "MaxPool");
  for (;;) {
    if (enc.size() > 8) fail("more than 8 encoder levels");
    at(p);
    const int c2 = input_of(p, "encoder conv2");
    expect_conv(c2, 3, true, "encoder conv2");
    const int c1 = input_of(c2, "encoder conv1");
    expect_conv(c1, 3, true, "encoder conv1");
    enc.emplace_back(c1, c2);
    const int x = input_of(c1, "MaxPool or the stem");
    if (layers_[std::size_t(x)].kind == Kind::pool) {
      p = x;
      continue;
    }
    expect_conv(x, 1, true, "the stem, a 1x1 conv + Relu of the input");
    if (layers_[std::size_t(x)].in[0] != input_layer_)
      fail(layers_[std::size_t(x)].where(), ": the stem's input is not the graph input");
    v = x;
    break;
  }
  const int stem = v;
  at(input_layer_);
  std::reverse(enc.begin(), enc.end());  // finest first
  std::reverse(dec.begin(), dec.end());  // coarsest first (dec.0), as sira names them
  if (enc.size() != dec.size())
    fail("the encoder has ", enc.size(), " levels but the decoder ", dec.size(), " (a TomoGAN U-Net has as many)");
  const int levels = int(enc.size());
  for (int i = 0; i < levels; ++i) {
    const Dec& d = dec[std::size_t(i)];
    if (d.skip != enc[std::size_t(levels - 1 - i)].second)
      fail(layers_[std::size_t(d.concat)].where(), ": its skip connection is not the output of encoder level ",
           levels - 1 - i, "'s second conv (", layers_[std::size_t(enc[std::size_t(levels - 1 - i)].second)].where(), ")");
  }
  for (const Layer& l : layers_)
    if (!l.visited)
      fail(l.where(), ": not part of the TomoGAN structure (its result does not reach the output as a TomoGAN's would)");

  // Configuration from the weights; expected_tensors checks every shape.
  auto& L = layers_;
  cfg.slices = int(L[std::size_t(stem)].wshape[1]);
  cfg.stem = int(L[std::size_t(stem)].out_channels());
  cfg.encoder.clear();
  cfg.decoder.clear();
  for (auto& e : enc) cfg.encoder.push_back(int(L[std::size_t(e.first)].out_channels()));
  cfg.bottleneck = int(L[std::size_t(bottleneck)].out_channels());
  for (auto& d : dec) cfg.decoder.push_back(int(L[std::size_t(d.conv1)].out_channels()));
  cfg.head = int(L[std::size_t(head1)].out_channels());
  cfg.upsample = L[std::size_t(dec[0].up)].upsample;
  for (auto& d : dec)
    if (L[std::size_t(d.up)].upsample != cfg.upsample)
      fail(L[std::size_t(d.up)].where(), ": ", upsample_name(L[std::size_t(d.up)].upsample),
           " upsampling where an earlier level has ", upsample_name(cfg.upsample), " (sira uses one mode for all)");
  try {
    cfg.validate();
  } catch (const Error& e) {
    fail(L[std::size_t(stem)].where(), ": the widths read from the weights make no sira configuration: ", e.what());
  }
  if (cfg.residual) {
    const int want = cfg.slices / 2;
    const int got = centre == -2 ? (cfg.slices == 1 ? 0 : -1) : centre;
    if (got != want)
      fail(add->where(), ": the residual adds input channel ", got < 0 ? std::string("(all)") : std::to_string(got),
           ", sira's adds the centre slice (channel ", want, " of ", cfg.slices, ")");
  }
  for (const ValueInfo& vi : g.inputs)
    if (vi.name == input_name_ && vi.has_shape && vi.dims[1] > 0 && vi.dims[1] != cfg.slices)
      fail("graph input '", vi.name, "' has ", vi.dims[1], " channels but the stem conv takes ", cfg.slices);

  Model model;
  model.config = cfg;
  std::map<std::string, int> by_name;  // sira layer name -> layer
  by_name["stem"] = stem;
  for (int i = 0; i < levels; ++i) {
    by_name[cat("enc.", i, ".conv1")] = enc[std::size_t(i)].first;
    by_name[cat("enc.", i, ".conv2")] = enc[std::size_t(i)].second;
    by_name[cat("dec.", i, ".conv1")] = dec[std::size_t(i)].conv1;
    by_name[cat("dec.", i, ".conv2")] = dec[std::size_t(i)].conv2;
    if (cfg.upsample == Upsample::transposed) by_name[cat("dec.", i, ".up")] = dec[std::size_t(i)].up;
  }
  by_name["bottleneck"] = bottleneck;
  by_name["head.conv1"] = head1;
  by_name["head.conv2"] = net;
  // A decoder Concat in the order [upsampled, skip]: sira's is [skip, upsampled],
  // so conv1's input channels are reordered (exact).
  for (int i = 0; i < levels; ++i) {
    const Dec& d = dec[std::size_t(i)];
    if (!d.up_first) continue;
    Layer& c1 = L[std::size_t(d.conv1)];
    const std::int64_t up_ch = i == 0 ? cfg.bottleneck : cfg.decoder[std::size_t(i - 1)];
    const std::int64_t in = c1.wshape[1], taps = 9;
    if (in <= up_ch) fail(c1.where(), ": ", in, " input channels, fewer than the upsampled ", up_ch);
    std::vector<float> w(c1.w.size());
    for (std::int64_t o = 0; o < c1.wshape[0]; ++o)
      for (std::int64_t c = 0; c < in; ++c) {
        const std::int64_t src = c < in - up_ch ? c + up_ch : c - (in - up_ch);  // skip first, then up
        std::copy_n(c1.w.begin() + (o * in + src) * taps, taps, w.begin() + (o * in + c) * taps);
      }
    c1.w = std::move(w);
  }
  for (const TensorSpec& spec : expected_tensors(cfg)) {
    const std::string layer = spec.name.substr(0, spec.name.rfind('.'));
    Layer& l = L[std::size_t(by_name.at(layer))];
    const bool weight = spec.name.ends_with(".weight");
    ModelTensor t;
    t.shape = weight ? l.wshape : std::vector<std::int64_t>{std::int64_t(l.b.size())};
    if (t.shape != spec.shape)
      fail(l.where(), ": ", weight ? "weight" : "bias", " shape ", list(t.shape), ", sira's ", spec.name, " of this ",
           "configuration (widths ", format_widths(cfg), ", ", cfg.slices, " slice(s)) is ", list(spec.shape));
    t.data = weight ? l.w : l.b;
    model.tensors[spec.name] = std::move(t);
  }

  OnnxImportResult result;
  // Normalisation: sira's exporter states it in metadata_props.
  const auto norm = m_.metadata.find("normalization");
  if (norm != m_.metadata.end()) {
    std::map<std::string, std::string> meta{{"normalization", norm->second}};
    const nlohmann::json j = nlohmann::json::parse(norm->second, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail("metadata_props 'normalization' is not a JSON object");
    try {
      Normalization n;
      n.mode = j.at("mode").get<std::string>();
      n.offset = j.at("offset").get<double>();
      n.scale = j.at("scale").get<double>();
      n.low_percentile = j.at("percentiles").at(0).get<double>();
      n.high_percentile = j.at("percentiles").at(1).get<double>();
      if (j.contains("block")) n.block = j.at("block").get<int>();
      validate_normalization(n);
      model.norm = n;
    } catch (const nlohmann::json::exception& e) {
      fail("metadata_props 'normalization': ", e.what());
    } catch (const Error& e) {
      fail("metadata_props 'normalization': ", e.what());
    }
  } else {
    model.norm = Normalization{};  // fixed, offset 0, scale 1: the network sees the values as they are
    result.notes.push_back(
        "no sira normalisation in metadata_props: the model uses fixed normalisation with offset 0 and scale 1 "
        "(the network sees the image values as they are; the output is the network's output)");
  }
  model.trained = true;  // the file carries weights from elsewhere; sira cannot tell
  if (!m_.producer_name.empty())
    model.info["onnx_producer"] = m_.producer_name + (m_.producer_version.empty() ? "" : " " + m_.producer_version);
  for (const char* key : {"source_model", "source_model_hash"})
    if (auto it = m_.metadata.find(key); it != m_.metadata.end() && !it->second.empty())
      model.info[std::string("onnx_") + key] = it->second;
  result.model = std::move(model);
  return result;
}

}  // namespace

OnnxImportResult import_onnx(std::string_view bytes) {
  if (bytes.empty()) fail("empty file (not an ONNX model)");
  const OnnxModel m = parse_model(bytes);
  return Importer(m).run();
}

}  // namespace sira
