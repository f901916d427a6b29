// load_model / save_model: a sira model is a safetensors file whose metadata
// rebuilds the TomoGAN configuration and whose tensors are exactly the ones
// that configuration needs (expected_tensors), fp32, finite.
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "model/model_metadata.hpp"
#include "model/quant_metadata.hpp"
#include "model/safetensors.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira {

namespace {

static_assert(std::endian::native == std::endian::little,
              "model files store little-endian floats; add byte swapping for this platform");

void check_finite(const std::string& where, const std::string& name, const std::vector<float>& data) {
  for (std::size_t i = 0; i < data.size(); ++i)
    if (!std::isfinite(data[i]))
      fail(where, ": tensor '", name, "' holds a non-finite value (", data[i], ") at element ", i);
}

// The tensors of `model` must be exactly those of its configuration.
void check_tensors(const Model& model, const std::string& where) {
  const auto specs = expected_tensors(model.config);
  std::set<std::string> expected;
  for (const auto& spec : specs) {
    expected.insert(spec.name);
    auto it = model.tensors.find(spec.name);
    if (it == model.tensors.end()) fail(where, ": tensor '", spec.name, "' is missing");
    if (it->second.shape != spec.shape)
      fail(where, ": tensor '", spec.name, "' has shape ", shape_text(it->second.shape), ", expected ",
           shape_text(spec.shape), " for this configuration");
    if (it->second.data.size() != it->second.numel())
      fail(where, ": tensor '", spec.name, "' holds ", it->second.data.size(), " values for shape ",
           shape_text(spec.shape));
    check_finite(where, spec.name, it->second.data);
  }
  for (const auto& [name, t] : model.tensors)
    if (!expected.count(name))
      fail(where, ": unexpected tensor '", name, "' (not part of this configuration)");
}

// The layers a QuantParams stores in int8, by name, with their node.
std::map<std::string, const Node*> int8_layers(const Model& model, const Graph& graph) {
  std::map<std::string, const Node*> out;
  if (!model.quant) return out;
  for (const Node& n : graph.nodes)
    if (n.has_weights() && model.quant->layers.at(n.name).precision == LayerPrecision::int8)
      out[n.name] = &n;
  return out;
}

// The int8 tensors of one layer must fit its weight shape `shape`.
void check_int8_layer(const QuantLayer& l, const std::string& name, const std::vector<std::int64_t>& shape,
                      bool transposed, int qmax, const std::string& where) {
  const std::size_t out = std::size_t(shape.at(transposed ? 1 : 0));
  std::size_t numel = 1;
  for (auto d : shape) numel *= std::size_t(d);
  if (l.weight.size() != numel)
    fail(where, ": tensor '", name, ".weight' holds ", l.weight.size(), " int8 values for shape ", shape_text(shape));
  for (std::size_t i = 0; i < l.weight.size(); ++i)
    if (l.weight[i] < -qmax || l.weight[i] > qmax)
      fail(where, ": tensor '", name, ".weight' holds ", int(l.weight[i]), " at element ", i,
           ", outside [-", qmax, ", ", qmax, "] for weight_bits ", qmax == 63 ? 7 : 8);
  if (l.weight_scale.size() != out && l.weight_scale.size() != 1)
    fail(where, ": tensor '", name, ".weight_scale' holds ", l.weight_scale.size(), " scales, expected ", out,
         " (per output channel) or 1 (per tensor)");
  for (std::size_t i = 0; i < l.weight_scale.size(); ++i)
    if (!std::isfinite(l.weight_scale[i]) || l.weight_scale[i] < 1e-30f || l.weight_scale[i] > 1e30f)
      fail(where, ": tensor '", name, ".weight_scale' holds ", l.weight_scale[i], " at element ", i,
           " (expected a finite value in [1e-30, 1e30])");
  if (l.bias.size() != out)
    fail(where, ": tensor '", name, ".bias' holds ", l.bias.size(), " int32 values, expected ", out);
}

const SafetensorsEntry& entry_of(const std::map<std::string, const SafetensorsEntry*>& entries,
                                 const std::string& name, const std::string& dtype,
                                 const std::string& where) {
  auto it = entries.find(name);
  if (it == entries.end()) fail(where, ": tensor '", name, "' is missing (int8 layer)");
  if (it->second->dtype != dtype)
    fail(where, ": tensor '", name, "' has dtype ", it->second->dtype, ", expected ", dtype, " (int8 layer)");
  return *it->second;
}

template <typename T>
std::vector<T> values_of(const SafetensorsFile& file, const SafetensorsEntry& e) {
  std::vector<T> v((e.end - e.begin) / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), file.data.data() + e.begin, e.end - e.begin);
  return v;
}

// Reads one int8 layer's tensors into `model.quant` and puts its dequantised
// fp32 weight and bias into `model.tensors`.
void read_int8_layer(const SafetensorsFile& file, const std::map<std::string, const SafetensorsEntry*>& entries,
                     const Node& node, const Graph& graph, const std::vector<std::int64_t>& shape,
                     Model& model, const std::string& where) {
  const std::string& name = node.name;
  const bool transposed = is_transposed_layer(node);
  const SafetensorsEntry& w = entry_of(entries, name + ".weight", "I8", where);
  const SafetensorsEntry& s = entry_of(entries, name + ".weight_scale", "F32", where);
  const SafetensorsEntry& b = entry_of(entries, name + ".bias", "I32", where);
  const std::vector<std::int64_t> out_shape{shape.at(transposed ? 1 : 0)};
  if (w.shape != shape)
    fail(where, ": tensor '", w.name, "' has shape ", shape_text(w.shape), ", expected ", shape_text(shape),
         " for this configuration");
  if (s.shape != out_shape && s.shape != std::vector<std::int64_t>{1})
    fail(where, ": tensor '", s.name, "' has shape ", shape_text(s.shape), ", expected ", shape_text(out_shape),
         " (per channel) or [1] (per tensor)");
  if (b.shape != out_shape)
    fail(where, ": tensor '", b.name, "' has shape ", shape_text(b.shape), ", expected ", shape_text(out_shape));
  QuantLayer& l = model.quant->layers.at(name);
  l.weight = values_of<std::int8_t>(file, w);
  l.weight_scale = values_of<float>(file, s);
  l.bias = values_of<std::int32_t>(file, b);
  check_int8_layer(l, name, shape, transposed, model.quant->weight_qmax(), where);
}

// A model from a parsed container; `path` names it in errors.
Model model_from(const SafetensorsFile& file, const std::string& path) {
  Model model;
  read_model_metadata(file.metadata, model, path);
  const Graph graph = build_graph(model.config);
  if (model.quant) validate_quant_params(*model.quant, graph, path);
  const auto int8 = int8_layers(model, graph);
  const auto int8_tensor = [&](const std::string& name) {
    for (const char* suffix : {".weight_scale", ".weight", ".bias"}) {
      const std::string sfx = suffix;
      if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0)
        return int8.count(name.substr(0, name.size() - sfx.size())) > 0;
    }
    return false;
  };

  std::map<std::string, const SafetensorsEntry*> int8_entries;
  for (const auto& e : file.entries) {
    if (int8_tensor(e.name)) {
      int8_entries[e.name] = &e;
      continue;
    }
    if (e.dtype != "F32") {
      if (model.quant)
        fail(path, ": tensor '", e.name, "' has dtype ", e.dtype,
             ", expected F32 (only layers of precision int8 store I8/I32 tensors)");
      fail(path, ": tensor '", e.name, "' has dtype ", e.dtype, "; format version ",
           model.format_version, " stores F32 tensors only");
    }
    ModelTensor t;
    t.shape = e.shape;
    t.data = values_of<float>(file, e);
    model.tensors.emplace(e.name, std::move(t));
  }
  for (const auto& spec : expected_tensors(model.config)) {
    const std::string layer = spec.name.substr(0, spec.name.rfind('.'));
    if (spec.name.ends_with(".weight") && int8.count(layer))
      read_int8_layer(file, int8_entries, *int8.at(layer), graph, spec.shape, model, path);
  }
  dequantize_int8_layers(model);
  check_tensors(model, path);
  return model;
}

}  // namespace

Model load_model(const std::string& path) { return model_from(read_safetensors(path), path); }

Model load_model_from_memory(const void* bytes, std::size_t size, const std::string& name) {
  if (bytes == nullptr && size != 0) fail(name, ": no bytes (null pointer, size ", size, ")");
  return model_from(parse_safetensors({static_cast<const unsigned char*>(bytes), size}, name), name);
}

void dequantize_int8_layers(Model& model) {
  if (!model.quant) return;
  const Graph graph = build_graph(model.config);
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& spec : expected_tensors(model.config)) shapes[spec.name] = spec.shape;
  for (const Node& node : graph.nodes) {
    if (!node.has_weights()) continue;
    const QuantLayer& l = model.quant->layers.at(node.name);
    if (l.precision != LayerPrecision::int8) continue;
    const bool transposed = is_transposed_layer(node);
    const std::vector<std::int64_t>& shape = shapes.at(node.name + ".weight");
    const std::size_t out = std::size_t(shape.at(transposed ? 1 : 0));
    const std::size_t inner = std::size_t(shape[2] * shape[3]);  // taps of one (in, out) pair
    if (l.weight.size() != out * std::size_t(shape[transposed ? 0 : 1]) * inner || l.bias.size() != out ||
        (l.weight_scale.size() != out && l.weight_scale.size() != 1))
      fail("layer '", node.name, "': int8 tensors do not fit its weight shape ", shape_text(shape));
    const float s_in = model.quant->activations.at(quant_input_node(graph, node).name).scale;
    ModelTensor wf{shape, std::vector<float>(l.weight.size())};
    for (std::size_t i = 0; i < l.weight.size(); ++i) {
      const std::size_t c = transposed ? (i / inner) % out : i / (l.weight.size() / out);
      wf.data[i] = float(l.weight[i]) * l.scale(c);
    }
    ModelTensor bf{{std::int64_t(out)}, std::vector<float>(out)};
    for (std::size_t c = 0; c < out; ++c)
      bf.data[c] = float(double(l.bias[c]) * double(s_in) * double(l.scale(c)));
    model.tensors[node.name + ".weight"] = std::move(wf);
    model.tensors[node.name + ".bias"] = std::move(bf);
  }
}

void save_model(const Model& model, const std::string& path) {
  if (model.format_version < 1 || model.format_version > kModelFormatVersion)
    fail(path, ": cannot write format version ", model.format_version, " (this sira writes versions 1 and ",
         kModelFormatVersion, ")");
  if (model.arch != "tomogan") fail(path, ": architecture '", model.arch, "' is unknown");
  try {
    model.config.validate();
    validate_normalization(model.norm);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  for (const auto& [key, value] : model.info)
    if (key.empty()) fail(path, ": info keys must not be empty");
  check_tensors(model, path);
  const Graph graph = build_graph(model.config);
  if (model.quant) validate_quant_params(*model.quant, graph, path);
  const auto int8 = int8_layers(model, graph);

  std::vector<SafetensorsBlob> blobs;
  for (const auto& spec : expected_tensors(model.config)) {
    const std::string layer = spec.name.substr(0, spec.name.rfind('.'));
    const auto q = int8.find(layer);
    if (q == int8.end()) {
      const ModelTensor& t = model.tensors.at(spec.name);
      blobs.push_back({spec.name, "F32", t.shape, t.data.data(), t.data.size() * sizeof(float)});
      continue;
    }
    const QuantLayer& l = model.quant->layers.at(layer);
    if (spec.name.ends_with(".weight")) {
      check_int8_layer(l, layer, spec.shape, is_transposed_layer(*q->second), model.quant->weight_qmax(), path);
      blobs.push_back({spec.name, "I8", spec.shape, l.weight.data(), l.weight.size()});
      blobs.push_back({layer + ".weight_scale", "F32", {std::int64_t(l.weight_scale.size())},
                       l.weight_scale.data(), l.weight_scale.size() * sizeof(float)});
    } else {
      blobs.push_back({spec.name, "I32", spec.shape, l.bias.data(), l.bias.size() * sizeof(std::int32_t)});
    }
  }
  write_safetensors(path, model_metadata(model), blobs);
}

}  // namespace sira
