// validate_graph: the one place a graph and its model are checked before a
// backend runs them, so the backends use Node::channels and the model's tensors
// without re-deriving or re-checking them.
#include <string>
#include <vector>

#include "sira/error.hpp"
#include "sira/graph.hpp"

namespace sira {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += cat(s.empty() ? "" : "x", d);
  return s;
}

// "graph node 'enc.0.conv1' (conv): " for every error about one node.
std::string where(const Node& n) { return cat("graph node '", n.name, "' (", op_name(n.op), "): "); }

std::size_t inputs_taken(OpKind op) {
  switch (op) {
    case OpKind::input: return 0;
    case OpKind::concat: return 2;
    default: return 1;
  }
}

void check_node(const Graph& g, std::size_t i) {
  const Node& n = g.nodes[i];
  if ((n.op == OpKind::input) != (i == 0)) fail(where(n), "node 0 and only node 0 must be the input");
  if (n.inputs.size() != inputs_taken(n.op))
    fail(where(n), "has ", n.inputs.size(), " inputs, expected ", inputs_taken(n.op));
  for (int j : n.inputs)
    if (j < 0 || std::size_t(j) >= i) fail(where(n), "reads node ", j, ", which is not an earlier node");
  if (n.channels <= 0) fail(where(n), "has ", n.channels, " channels");
  if (n.level < 0 || n.level > g.levels)
    fail(where(n), "is at level ", n.level, ", outside the graph's 0..", g.levels);
  const Node* in = n.inputs.empty() ? nullptr : &g.nodes[std::size_t(n.inputs[0])];
  const auto want_level = [&](int level) {
    if (n.level != level) fail(where(n), "is at level ", n.level, ", expected ", level, " from its input");
  };
  const auto want_channels = [&](int channels) {
    if (n.channels != channels) fail(where(n), "has ", n.channels, " channels, expected ", channels);
  };
  switch (n.op) {
    case OpKind::input:
      want_channels(g.in_channels);
      if (n.level != 0) fail(where(n), "is at level ", n.level, ", expected 0");
      return;
    case OpKind::conv:
      if (n.kernel < 1 || n.kernel % 2 == 0) fail(where(n), "has kernel ", n.kernel, " (must be odd)");
      want_level(in->level);
      return;
    case OpKind::maxpool:
      if (n.kernel != 2) fail(where(n), "has kernel ", n.kernel, ", expected 2");
      want_level(in->level + 1);
      want_channels(in->channels);
      return;
    case OpKind::upsample:
      want_level(in->level - 1);
      if (n.upsample != Upsample::transposed) want_channels(in->channels);
      else if (n.kernel != 2) fail(where(n), "has kernel ", n.kernel, ", expected 2");
      return;
    case OpKind::concat: {
      int sum = 0;
      for (int j : n.inputs) {
        if (g.nodes[std::size_t(j)].level != n.level)
          fail(where(n), "joins '", g.nodes[std::size_t(j)].name, "' at level ", g.nodes[std::size_t(j)].level,
               " into level ", n.level);
        sum += g.nodes[std::size_t(j)].channels;
      }
      want_channels(sum);
      return;
    }
  }
  fail(where(n), "has an unknown operation");
}

void check_tensor(const Model& model, const Node& n, const std::string& name,
                  const std::vector<std::int64_t>& shape) {
  const auto found = model.tensors.find(name);
  if (found == model.tensors.end()) fail(where(n), "the model has no tensor '", name, "'");
  const ModelTensor& t = found->second;
  if (t.shape != shape)
    fail(where(n), "tensor '", name, "' has shape ", shape_text(t.shape), ", expected ", shape_text(shape));
  if (t.data.size() != t.numel())
    fail(where(n), "tensor '", name, "' holds ", t.data.size(), " values, its shape ", t.numel());
}

void check_weights(const Graph& g, const Model& model, std::size_t i) {
  const Node& n = g.nodes[i];
  if (!n.has_weights()) return;
  const std::int64_t out = n.channels, in = g.input_channels(int(i)), k = n.kernel;
  const bool transposed = n.op == OpKind::upsample;
  check_tensor(model, n, n.name + ".weight",
               transposed ? std::vector<std::int64_t>{in, out, 2, 2} : std::vector<std::int64_t>{out, in, k, k});
  check_tensor(model, n, n.name + ".bias", {out});
}

// What the int8 backends index: names and sizes (load_model checks the values
// and the shared scales).
void check_quant(const Graph& g, const QuantParams& q, std::size_t i) {
  const Node& n = g.nodes[i];
  if (int(i) != g.output && !q.activations.count(n.name))
    fail(where(n), "the quantised model has no activation parameters for it");
  if (!n.has_weights()) return;
  const auto found = q.layers.find(n.name);
  if (found == q.layers.end()) fail(where(n), "the quantised model has no precision for this layer");
  const QuantLayer& l = found->second;
  if (l.precision != LayerPrecision::int8) return;
  const std::size_t out = std::size_t(n.channels), k = std::size_t(n.kernel);
  const std::size_t weights = out * std::size_t(g.input_channels(int(i))) * k * k;
  if (l.weight.size() != weights || l.bias.size() != out ||
      (l.weight_scale.size() != 1 && l.weight_scale.size() != out))
    fail(where(n), "int8 layer has ", l.weight.size(), " weights, ", l.bias.size(), " biases and ",
         l.weight_scale.size(), " weight scales; expected ", weights, ", ", out, " and ", out, " (or 1)");
}

}  // namespace

void validate_graph(const Graph& g, const Model& model) {
  if (g.nodes.empty()) fail("graph: it has no nodes");
  if (g.in_channels <= 0) fail("graph: ", g.in_channels, " input channels");
  if (g.levels < 0 || g.levels > 16) fail("graph: ", g.levels, " levels (expected 0..16)");
  if (g.output < 0 || std::size_t(g.output) >= g.nodes.size())
    fail("graph: output node ", g.output, " is not one of its ", g.nodes.size(), " nodes");
  for (std::size_t i = 0; i < g.nodes.size(); ++i) check_node(g, i);
  const Node& out = g.nodes[std::size_t(g.output)];
  if (out.channels != 1 || out.level != 0)
    fail(where(out), "the output must have 1 channel at level 0, it has ", out.channels, " at level ", out.level);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    check_weights(g, model, i);
    if (model.quant) check_quant(g, *model.quant, i);
  }
}

}  // namespace sira
