// Cross-layer equalisation (Nagel et al. 2019): per-channel weight ranges of
// consecutive convs differ by orders of magnitude in trained networks, and a
// per-tensor (or per-channel activation) scale then wastes most codes on the
// widest channel. Moving a positive factor through the ReLU between two convs
// makes both layers' channel ranges equal without changing the function.
#include <algorithm>
#include <cmath>

#include "sira/error.hpp"
#include "sira/quant_recovery.hpp"

namespace sira {

std::vector<ConvPair> equalizable_pairs(const Graph& g) {
  std::vector<int> consumers(g.nodes.size(), 0);
  for (const Node& n : g.nodes)
    for (int i : n.inputs) ++consumers[std::size_t(i)];
  std::vector<ConvPair> pairs;
  for (const Node& n : g.nodes) {
    if (n.op != OpKind::conv || n.inputs.size() != 1) continue;
    const Node& prev = g.nodes[std::size_t(n.inputs[0])];
    if (prev.op == OpKind::conv && prev.relu && consumers[std::size_t(n.inputs[0])] == 1)
      pairs.push_back({prev.name, n.name});
  }
  return pairs;
}

Model equalize_cross_layer(const Model& model, int sweeps) {
  if (model.quant) fail("cross-layer equalisation needs the fp32 model, not a quantised one");
  Model m = model;
  const std::vector<ConvPair> pairs = equalizable_pairs(build_graph(m.config));
  for (int sweep = 0; sweep < sweeps; ++sweep)
    for (const ConvPair& p : pairs) {
      ModelTensor& w1 = m.tensors.at(p.first + ".weight");
      ModelTensor& b1 = m.tensors.at(p.first + ".bias");
      ModelTensor& w2 = m.tensors.at(p.second + ".weight");
      const std::size_t channels = std::size_t(w1.shape.at(0));  // first's out = second's in
      const std::size_t per_out1 = w1.data.size() / channels;
      const std::size_t outs2 = std::size_t(w2.shape.at(0)), taps2 = std::size_t(w2.shape[2] * w2.shape[3]);
      if (std::size_t(w2.shape.at(1)) != channels)
        fail("equalisation: '", p.first, "' has ", channels, " outputs but '", p.second, "' reads ", w2.shape[1]);
      for (std::size_t c = 0; c < channels; ++c) {
        double r1 = 0, r2 = 0;
        for (std::size_t i = 0; i < per_out1; ++i) r1 = std::max(r1, std::fabs(double(w1.data[c * per_out1 + i])));
        for (std::size_t o = 0; o < outs2; ++o)
          for (std::size_t t = 0; t < taps2; ++t)
            r2 = std::max(r2, std::fabs(double(w2.data[(o * channels + c) * taps2 + t])));
        if (!(r1 > 0) || !(r2 > 0)) continue;  // a dead channel: nothing to balance
        const double s = std::sqrt(r1 / r2);
        for (std::size_t i = 0; i < per_out1; ++i) w1.data[c * per_out1 + i] = float(w1.data[c * per_out1 + i] / s);
        b1.data[c] = float(b1.data[c] / s);
        for (std::size_t o = 0; o < outs2; ++o)
          for (std::size_t t = 0; t < taps2; ++t) {
            float& v = w2.data[(o * channels + c) * taps2 + t];
            v = float(v * s);
          }
      }
    }
  return m;
}

}  // namespace sira
