// The TomoGAN generator as a list of nodes in execution order, built from a
// TomoganConfig. Every backend executes this same graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sira/model.hpp"

namespace sira {

enum class OpKind { input, conv, maxpool, upsample, concat };
const char* op_name(OpKind k);

struct Node {
  OpKind op = OpKind::input;
  std::string name;         // e.g. "enc.1.conv2"; weights are name + ".weight"/".bias"
  std::vector<int> inputs;  // indices of earlier nodes
  int channels = 0;         // output channels
  int kernel = 0;           // conv: 1 or 3 ('same' zero padding); transposed upsample and maxpool: 2
  bool relu = false;        // fused ReLU after a conv
  Upsample upsample = Upsample::bilinear;  // for OpKind::upsample
  int level = 0;            // resolution level of the output: size = full / 2^level
  bool has_weights() const;
};

struct Graph {
  std::vector<Node> nodes;
  int output = -1;   // index of the final node (1 channel, level 0)
  int in_channels = 0;
  int levels = 0;
  // The output is `output` plus input channel in_channels / 2 (TomoganConfig::residual).
  // Backends run the network only; the engine adds the input.
  bool residual = false;
  int multiple() const { return 1 << levels; }  // H and W must be multiples of this

  // Learnable parameter count and multiply-accumulates for an H x W input
  // (counted at H, W rounded up to multiple(), the size the engine runs).
  std::int64_t parameters() const;
  double macs(std::size_t height, std::size_t width) const;
  // The same for one node, and the channels a node receives (sum over inputs).
  int input_channels(int node) const;
  std::int64_t parameters(int node) const;
  double macs(int node, std::size_t height, std::size_t width) const;
  // Receptive-field radius in full-resolution pixels (a safe upper bound):
  // the halo a tile needs so that its centre equals the untiled result.
  int receptive_radius() const;
};

Graph build_graph(const TomoganConfig& cfg);

// Checks once, when a model is compiled, what every backend then trusts: node 0
// is the only input (in_channels, level 0); every node reads earlier nodes, as
// many as its kind takes, at the levels its kind implies; Node::channels is
// right for every node (a pool or bilinear/nearest upsample keeps its input's,
// a concat sums its inputs'); the output has 1 channel at level 0; the model
// holds every weighted node's weight and bias in its shape and, quantised,
// every node's activation parameters and every int8 layer's sizes.
// Throws sira::Error naming the first offending node (or tensor).
void validate_graph(const Graph& graph, const Model& model);

}  // namespace sira
