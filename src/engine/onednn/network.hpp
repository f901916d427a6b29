// The graph as the oneDNN backend executes it: channels per node, and the
// concat fusion. oneDNN 2.6 only has reference (slow) kernels for convolutions,
// pooling and resampling that write into a channel sub-view of an NHWC buffer,
// so a concat is not materialised: a conv reading concat([a, b]) runs as
//   conv(a, W[:, :Ca]) + bias, then conv(b, W[:, Ca:]) with a sum post-op
// (and the ReLU after the last part). Same MACs, no concat buffer, no copy.
// Only fp32 fuses: a bf16 partial sum stored in the bf16 destination would be
// rounded once more than docs/quantization.md specifies, and int8 concat inputs
// share one scale, so their concat is a byte copy, cheaper than carrying an f32
// partial sum between the two parts.
// With a blocked activation layout (nChw8c, activation_layout.hpp) a concat
// needs neither: its pieces are written straight into channel-block ranges of
// the concat buffer, which are dense, so the plan builds them in place.
#pragma once

#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant_params.hpp"

namespace sira::onednn {

class WeightStore;

struct Network {
  Graph graph;                            // validated (validate_graph)
  std::vector<bool> fused_concat;         // concat nodes read only by convs
  std::vector<std::vector<int>> sources;  // per node: the tensors it reads (fused concats expanded)
  // Layout of every activation but the caller's planar input and output.
  dnnl::memory::format_tag layout = dnnl::memory::format_tag::nhwc;

  // fuse_concat: run conv-read concats as split convolutions (fp32) or
  // materialise them (bf16, int8).
  explicit Network(const Graph& g, bool fuse_concat = true);

  int channels(int node) const { return graph.nodes[std::size_t(node)].channels; }

  // Channel counts of the activations that take `layout` (all but input and output).
  std::vector<int> inner_channels() const;

  // Weight keys: conv part k of node `name` (k-th source), its bias, a transposed upsample.
  static std::string conv_weight_key(const std::string& name, std::size_t part);
  static std::string bias_key(const std::string& name);
  static std::string weight_key(const std::string& name);

  // Registers every tensor the graph needs from `model` (validate_graph checked
  // their shapes), split per conv source, in `store`: f32 for fp32/bf16; for int8 the s8
  // weights and s32 biases of model.quant (every layer must be int8).
  void register_weights(const Model& model, WeightStore& store, LayerPrecision precision) const;
};

}  // namespace sira::onednn
