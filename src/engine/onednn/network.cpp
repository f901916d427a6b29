#include "engine/onednn/network.hpp"

#include "engine/onednn/weight_store.hpp"
#include "sira/error.hpp"

namespace sira::onednn {

using dnnl::memory;

Network::Network(const Graph& g, bool fuse_concat) : graph(g) {
  const std::size_t count = graph.nodes.size();
  fused_concat.assign(count, false);
  sources.resize(count);
  std::vector<std::vector<int>> readers(count);
  for (std::size_t i = 0; i < count; ++i)
    for (int j : graph.nodes[i].inputs) readers[j].push_back(int(i));

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
    if (graph.nodes[i].op != OpKind::input && int(i) != graph.output) inner.push_back(graph.nodes[i].channels);
  return inner;
}

std::string Network::conv_weight_key(const std::string& name, std::size_t part) {
  return cat(name, ".weight/part", part);
}
std::string Network::bias_key(const std::string& name) { return name + ".bias"; }
std::string Network::weight_key(const std::string& name) { return name + ".weight"; }

namespace {

// The int8 layer `name` of model.quant (validate_graph checked its sizes).
const QuantLayer& int8_layer(const Model& model, const std::string& name) {
  const QuantLayer& q = model.quant->layers.at(name);
  if (q.precision != LayerPrecision::int8)
    fail("oneDNN backend: layer '", name, "' is ", precision_name(q.precision),
         " in this int8 model; the oneDNN backend runs only all-int8 models (use --backend ref)");
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
      const std::int64_t out = n.channels, in = graph.input_channels(int(i)), k = n.kernel;
      const bool transposed = n.op == OpKind::upsample;
      const QuantLayer& q = int8_layer(model, n.name);
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
    const std::int64_t out = n.channels;
    if (n.op == OpKind::conv) {
      const std::int64_t in = graph.input_channels(int(i)), k = n.kernel;
      const ModelTensor& w = model.tensor(n.name + ".weight");
      const ModelTensor& b = model.tensor(n.name + ".bias");
      // Split the PyTorch OIHW weight along I, one slice per source tensor.
      std::int64_t first = 0;
      for (std::size_t part = 0; part < sources[i].size(); ++part) {
        const std::int64_t c = channels(sources[i][part]);
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
      const std::int64_t in = graph.input_channels(int(i));
      // PyTorch ConvTranspose2d stores [in, out, kh, kw]: oneDNN's iohw.
      const ModelTensor& w = model.tensor(n.name + ".weight");
      const ModelTensor& b = model.tensor(n.name + ".bias");
      store.add(weight_key(n.name), w.data, {out, in, 2, 2}, memory::format_tag::iohw);
      store.add(bias_key(n.name), b.data, {out}, memory::format_tag::x);
    }
  }
}

}  // namespace sira::onednn
