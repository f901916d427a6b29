#include "engine/onednn/network.hpp"

#include "engine/onednn/weight_store.hpp"
#include "sira/error.hpp"

namespace sira::onednn {

using dnnl::memory;

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += cat(s.empty() ? "" : "x", d);
  return s;
}

const ModelTensor& checked_tensor(const Model& model, const std::string& name,
                                  const std::vector<std::int64_t>& shape) {
  const ModelTensor& t = model.tensor(name);
  if (t.shape != shape || t.data.size() != t.numel())
    fail("oneDNN backend: tensor '", name, "' has shape ", shape_text(t.shape), ", expected ",
         shape_text(shape));
  return t;
}

}  // namespace

Network::Network(const Graph& g, bool fuse_concat) : graph(g) {
  const std::size_t count = graph.nodes.size();
  if (count == 0 || graph.output < 0 || std::size_t(graph.output) >= count)
    fail("oneDNN backend: the graph has no output node");
  channels.assign(count, 0);
  fused_concat.assign(count, false);
  sources.resize(count);
  std::vector<std::vector<int>> readers(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Node& n = graph.nodes[i];
    for (int j : n.inputs) {
      if (j < 0 || std::size_t(j) >= i)
        fail("oneDNN backend: node '", n.name, "' reads node ", j, " that is not earlier");
      readers[j].push_back(int(i));
    }
    const std::size_t want = n.op == OpKind::input ? 0 : n.op == OpKind::concat ? 2 : 1;
    if (n.inputs.size() != want)
      fail("oneDNN backend: node '", n.name, "' (", op_name(n.op), ") has ", n.inputs.size(),
           " inputs, expected ", want);
    switch (n.op) {
      case OpKind::input: channels[i] = graph.in_channels; break;
      case OpKind::conv:
        if (n.kernel < 1 || n.kernel % 2 == 0)
          fail("oneDNN backend: conv '", n.name, "' has kernel ", n.kernel, " (must be odd)");
        channels[i] = n.channels;
        break;
      case OpKind::maxpool: channels[i] = channels[n.inputs[0]]; break;
      case OpKind::upsample:
        if (n.upsample == Upsample::transposed && n.kernel != 2)
          fail("oneDNN backend: transposed upsample '", n.name, "' has kernel ", n.kernel,
               ", expected 2");
        channels[i] = n.upsample == Upsample::transposed ? n.channels : channels[n.inputs[0]];
        break;
      case OpKind::concat:
        for (int j : n.inputs) {
          if (graph.nodes[j].level != n.level)
            fail("oneDNN backend: concat '", n.name, "' joins levels ", graph.nodes[j].level,
                 " and ", n.level);
          channels[i] += channels[j];
        }
        break;
    }
    if (channels[i] <= 0) fail("oneDNN backend: node '", n.name, "' has no channels");
  }
  const Node& out = graph.nodes[graph.output];
  if (channels[graph.output] != 1 || out.level != 0)
    fail("oneDNN backend: output node '", out.name, "' must have 1 channel at level 0");

  for (std::size_t i = 0; i < count; ++i) {
    const Node& n = graph.nodes[i];
    if (!fuse_concat || n.op != OpKind::concat || int(i) == graph.output) continue;
    bool only_convs = !readers[i].empty();
    for (int r : readers[i]) only_convs = only_convs && graph.nodes[r].op == OpKind::conv;
    fused_concat[i] = only_convs;
  }
  for (std::size_t i = 0; i < count; ++i)
    for (int j : graph.nodes[i].inputs) {
      if (fused_concat[j])
        sources[i].insert(sources[i].end(), graph.nodes[j].inputs.begin(),
                          graph.nodes[j].inputs.end());
      else
        sources[i].push_back(j);
    }
}

std::vector<int> Network::inner_channels() const {
  std::vector<int> inner;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].op != OpKind::input && int(i) != graph.output) inner.push_back(channels[i]);
  return inner;
}

std::string Network::conv_weight_key(const std::string& name, std::size_t part) {
  return cat(name, ".weight/part", part);
}
std::string Network::bias_key(const std::string& name) { return name + ".bias"; }
std::string Network::weight_key(const std::string& name) { return name + ".weight"; }

namespace {

// The int8 layer `name` of model.quant, checked against its fp32 shape.
const QuantLayer& int8_layer(const Model& model, const std::string& name, std::int64_t weights,
                             std::int64_t out) {
  const auto found = model.quant->layers.find(name);
  if (found == model.quant->layers.end())
    fail("oneDNN backend: int8 model has no quantisation parameters for layer '", name, "'");
  const QuantLayer& q = found->second;
  if (q.precision != LayerPrecision::int8)
    fail("oneDNN backend: layer '", name, "' is ", precision_name(q.precision),
         " in this int8 model; the oneDNN backend runs only all-int8 models (use --backend ref)");
  if (std::int64_t(q.weight.size()) != weights || std::int64_t(q.bias.size()) != out ||
      (q.weight_scale.size() != 1 && std::int64_t(q.weight_scale.size()) != out))
    fail("oneDNN backend: int8 layer '", name, "' has ", q.weight.size(), " weights, ",
         q.bias.size(), " biases and ", q.weight_scale.size(), " weight scales; expected ",
         weights, ", ", out, " and ", out, " (or 1)");
  return q;
}

}  // namespace

void Network::register_weights(const Model& model, WeightStore& store,
                               LayerPrecision precision) const {
  if (precision == LayerPrecision::int8) {
    if (!model.quant) fail("oneDNN backend: int8 needs a quantised model (sira quantize)");
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      const Node& n = graph.nodes[i];
      if (!n.has_weights()) continue;
      const std::int64_t out = channels[i];
      const bool transposed = n.op == OpKind::upsample;
      const std::int64_t in = transposed ? channels[n.inputs[0]] : graph.input_channels(int(i));
      const std::int64_t k = transposed ? 2 : n.kernel;
      const QuantLayer& q = int8_layer(model, n.name, out * in * k * k, out);
      if (transposed) {
        store.add(weight_key(n.name), q.weight, {out, in, 2, 2}, memory::format_tag::iohw);
      } else {
        if (sources[i].size() != 1) fail("oneDNN backend: int8 conv '", n.name, "' has a fused concat");
        store.add(conv_weight_key(n.name, 0), q.weight, {out, in, k, k}, memory::format_tag::oihw);
      }
      store.add(bias_key(n.name), q.bias, {out}, memory::format_tag::x);
    }
    return;
  }
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    const std::int64_t out = channels[i];
    if (n.op == OpKind::conv) {
      std::int64_t in = 0;
      for (int s : sources[i]) in += channels[s];
      const std::int64_t k = n.kernel;
      const ModelTensor& w = checked_tensor(model, n.name + ".weight", {out, in, k, k});
      const ModelTensor& b = checked_tensor(model, n.name + ".bias", {out});
      // Split the PyTorch OIHW weight along I, one slice per source tensor.
      std::int64_t first = 0;
      for (std::size_t part = 0; part < sources[i].size(); ++part) {
        const std::int64_t c = channels[sources[i][part]];
        std::vector<float> slice;
        slice.reserve(std::size_t(out * c * k * k));
        for (std::int64_t o = 0; o < out; ++o) {
          const float* row = w.data.data() + (o * in + first) * k * k;
          slice.insert(slice.end(), row, row + c * k * k);
        }
        store.add(conv_weight_key(n.name, part), std::move(slice), {out, c, k, k},
                  memory::format_tag::oihw);
        first += c;
      }
      store.add(bias_key(n.name), b.data, {out}, memory::format_tag::x);
    } else if (n.op == OpKind::upsample && n.upsample == Upsample::transposed) {
      const std::int64_t in = channels[n.inputs[0]];
      // PyTorch ConvTranspose2d stores [in, out, kh, kw]: oneDNN's iohw.
      const ModelTensor& w = checked_tensor(model, n.name + ".weight", {in, out, 2, 2});
      const ModelTensor& b = checked_tensor(model, n.name + ".bias", {out});
      store.add(weight_key(n.name), w.data, {out, in, 2, 2}, memory::format_tag::iohw);
      store.add(bias_key(n.name), b.data, {out}, memory::format_tag::x);
    }
  }
}

}  // namespace sira::onednn
