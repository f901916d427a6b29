// The "quantization" metadata key: JSON text <-> QuantParams, and validation
// against the graph (docs/model-format.md, version 2).
#include "model/quant_metadata.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "sira/error.hpp"

namespace sira {

using nlohmann::json;

const char* precision_name(LayerPrecision p) {
  switch (p) {
    case LayerPrecision::int8: return "int8";
    case LayerPrecision::bf16: return "bf16";
    case LayerPrecision::fp32: return "fp32";
  }
  return "?";
}

LayerPrecision parse_precision(const std::string& s) {
  if (s == "int8") return LayerPrecision::int8;
  if (s == "bf16") return LayerPrecision::bf16;
  if (s == "fp32") return LayerPrecision::fp32;
  fail("precision '", s, "' is unknown (expected int8, bf16 or fp32)");
}

namespace {

std::string params_text(const ActivationParams& p) { return cat("[", p.scale, ", ", p.zero_point, "]"); }

void check_activation(const ActivationParams& p, const std::string& node, const std::string& where) {
  if (!std::isfinite(p.scale) || p.scale < 1e-30f || p.scale > 1e30f)
    fail(where, ": activation '", node, "' has scale ", p.scale, " (expected a finite value in [1e-30, 1e30])");
  if (p.zero_point < 0 || p.zero_point > 255)
    fail(where, ": activation '", node, "' has zero point ", p.zero_point, " (expected 0..255)");
}

}  // namespace

const Node& quant_input_node(const Graph& graph, const Node& layer) {
  return graph.nodes.at(std::size_t(layer.inputs.at(0)));
}

bool is_transposed_layer(const Node& layer) { return layer.op == OpKind::upsample; }

std::string quant_metadata(const QuantParams& q) {
  json acts = json::object(), prec = json::object();
  for (const auto& [name, p] : q.activations) acts[name] = {double(p.scale), p.zero_point};
  for (const auto& [name, l] : q.layers) prec[name] = precision_name(l.precision);
  return json{{"weight_bits", q.weight_bits}, {"method", q.method}, {"activations", acts}, {"precision", prec}}
      .dump();
}

QuantParams parse_quant_metadata(const std::string& text, const std::string& where) {
  const std::string key = "metadata 'quantization'";
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(where, ": ", key, " is not valid JSON (", e.what(), ")");
  }
  if (!j.is_object()) fail(where, ": ", key, " is not a JSON object");
  for (auto& [k, v] : j.items())
    if (k != "weight_bits" && k != "method" && k != "activations" && k != "precision")
      fail(where, ": ", key, " has unknown field '", k, "'");
  QuantParams q;
  if (!j.contains("weight_bits") || !j["weight_bits"].is_number_integer() ||
      (j["weight_bits"].get<long long>() != 8 && j["weight_bits"].get<long long>() != 7))
    fail(where, ": ", key, " needs 'weight_bits' 8 or 7");
  q.weight_bits = j["weight_bits"].get<int>();
  if (!j.contains("method") || !j["method"].is_string()) fail(where, ": ", key, " needs a string 'method'");
  q.method = j["method"].get<std::string>();
  if (!j.contains("activations") || !j["activations"].is_object())
    fail(where, ": ", key, " needs an object 'activations' {node: [scale, zero_point]}");
  for (auto& [name, v] : j["activations"].items()) {
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number_integer())
      fail(where, ": activation '", name, "' is ", v.dump(), ", expected [scale, zero_point]");
    const double s = v[0].get<double>();
    const long long zp = v[1].get<long long>();
    ActivationParams p{float(s), int(std::max(-1LL, std::min(zp, 256LL)))};
    if (!(std::fabs(s) <= 1e30)) p.scale = INFINITY;  // out of float range: refused below
    check_activation(p, name, where);
    q.activations[name] = p;
  }
  if (!j.contains("precision") || !j["precision"].is_object())
    fail(where, ": ", key, " needs an object 'precision' {layer: int8|bf16|fp32}");
  for (auto& [name, v] : j["precision"].items()) {
    if (!v.is_string()) fail(where, ": precision of '", name, "' is ", v.dump(), ", expected a string");
    try {
      q.layers[name].precision = parse_precision(v.get<std::string>());
    } catch (const Error& e) {
      fail(where, ": layer '", name, "': ", e.what());
    }
  }
  return q;
}

void validate_quant_params(const QuantParams& q, const Graph& graph, const std::string& where) {
  if (q.weight_bits != 8 && q.weight_bits != 7)
    fail(where, ": weight_bits ", q.weight_bits, " is not 8 or 7");
  std::set<std::string> nodes, weighted;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    if (n.has_weights()) weighted.insert(n.name);
    if (int(i) == graph.output) continue;
    nodes.insert(n.name);
    auto it = q.activations.find(n.name);
    if (it == q.activations.end())
      fail(where, ": activation '", n.name, "' has no quantisation parameters");
    check_activation(it->second, n.name, where);
    // Pool, bilinear/nearest upsample and concat move codes without rescaling.
    const bool shares = n.op == OpKind::maxpool || n.op == OpKind::concat ||
                        (n.op == OpKind::upsample && n.upsample != Upsample::transposed);
    if (!shares) continue;
    for (int j : n.inputs) {
      const Node& in = graph.nodes[std::size_t(j)];
      const auto found = q.activations.find(in.name);
      if (found != q.activations.end() && !(found->second == it->second))
        fail(where, ": activation '", n.name, "' has ", params_text(it->second), " but its input '", in.name,
             "' has ", params_text(found->second),
             "; tensors joined by a concat/pool/upsample must share one scale");
    }
  }
  for (const auto& [name, p] : q.activations)
    if (!nodes.count(name))
      fail(where, ": activation parameters for '", name, "', which is not a quantised node of this graph");
  for (const std::string& name : weighted)
    if (!q.layers.count(name)) fail(where, ": layer '", name, "' has no precision");
  for (const auto& [name, l] : q.layers)
    if (!weighted.count(name)) fail(where, ": precision for '", name, "', which is not a weighted layer");
}

}  // namespace sira
