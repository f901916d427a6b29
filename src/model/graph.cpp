// build_graph: the TomoGAN generator as nodes in execution order, and what can
// be computed from the graph alone (parameters, MACs, receptive field).
#include "sira/graph.hpp"

#include <algorithm>

#include "sira/error.hpp"

namespace sira {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::input: return "input";
    case OpKind::conv: return "conv";
    case OpKind::maxpool: return "maxpool";
    case OpKind::upsample: return "upsample";
    case OpKind::concat: return "concat";
  }
  return "?";
}

bool Node::has_weights() const {
  return op == OpKind::conv || (op == OpKind::upsample && upsample == Upsample::transposed);
}

Graph build_graph(const TomoganConfig& cfg) {
  cfg.validate();
  Graph g;
  g.in_channels = cfg.slices;
  g.levels = cfg.levels();
  g.residual = cfg.residual;
  auto add = [&g](Node n) {
    g.nodes.push_back(std::move(n));
    return static_cast<int>(g.nodes.size()) - 1;
  };
  auto conv = [&](const std::string& name, int input, int channels, int kernel, bool relu, int level) {
    Node n;
    n.op = OpKind::conv;
    n.name = name;
    n.inputs = {input};
    n.channels = channels;
    n.kernel = kernel;
    n.relu = relu;
    n.level = level;
    return add(std::move(n));
  };

  Node input;
  input.name = "input";
  input.channels = cfg.slices;
  int x = add(input);
  x = conv("stem", x, cfg.stem, 1, true, 0);

  std::vector<int> skips;
  for (int i = 0; i < g.levels; ++i) {
    const std::string p = cat("enc.", i, ".");
    x = conv(p + "conv1", x, cfg.encoder[i], 3, true, i);
    x = conv(p + "conv2", x, cfg.encoder[i], 3, true, i);
    skips.push_back(x);
    Node pool;
    pool.op = OpKind::maxpool;
    pool.name = p + "pool";
    pool.inputs = {x};
    pool.channels = cfg.encoder[i];
    pool.kernel = 2;
    pool.level = i + 1;
    x = add(pool);
  }
  x = conv("bottleneck", x, cfg.bottleneck, 3, true, g.levels);

  for (int i = 0; i < g.levels; ++i) {
    const int level = g.levels - 1 - i;  // dec.0 is the coarsest decoder level
    const std::string p = cat("dec.", i, ".");
    Node up;
    up.op = OpKind::upsample;
    up.name = p + "up";
    up.inputs = {x};
    up.channels = g.nodes[x].channels;
    up.upsample = cfg.upsample;
    up.kernel = cfg.upsample == Upsample::transposed ? 2 : 0;
    up.level = level;
    x = add(up);
    Node cc;
    cc.op = OpKind::concat;
    cc.name = p + "concat";
    cc.inputs = {skips[level], x};  // [skip, upsampled]
    cc.channels = g.nodes[skips[level]].channels + g.nodes[x].channels;
    cc.level = level;
    x = add(cc);
    x = conv(p + "conv1", x, cfg.decoder[i], 3, true, level);
    x = conv(p + "conv2", x, cfg.decoder[i], 3, true, level);
  }
  x = conv("head.conv1", x, cfg.head, 1, true, 0);
  g.output = conv("head.conv2", x, 1, 1, false, 0);
  return g;
}

int Graph::input_channels(int node) const {
  int c = 0;
  for (int i : nodes.at(node).inputs) c += nodes.at(i).channels;
  return c;
}

std::int64_t Graph::parameters(int node) const {
  const Node& n = nodes.at(node);
  if (!n.has_weights()) return 0;
  const std::int64_t in = input_channels(node);
  return std::int64_t(n.channels) * in * n.kernel * n.kernel + n.channels;
}

std::int64_t Graph::parameters() const {
  std::int64_t total = 0;
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) total += parameters(i);
  return total;
}

double Graph::macs(int node, std::size_t height, std::size_t width) const {
  const Node& n = nodes.at(node);
  if (!n.has_weights()) return 0.0;
  const std::size_t m = static_cast<std::size_t>(multiple());
  const double h = static_cast<double>(((height + m - 1) / m * m) >> n.level);
  const double w = static_cast<double>(((width + m - 1) / m * m) >> n.level);
  // Conv: every output pixel takes in * k * k products per output channel.
  // Transposed conv 2x2 stride 2: every output pixel receives exactly one tap
  // from each input channel, so in products per output channel.
  const double taps = n.op == OpKind::conv ? double(n.kernel) * n.kernel : 1.0;
  return h * w * n.channels * input_channels(node) * taps;
}

double Graph::macs(std::size_t height, std::size_t width) const {
  double total = 0.0;
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) total += macs(i, height, width);
  return total;
}

// Receptive radius, per node, in full-resolution pixels. A pixel i at level l
// covers full-resolution pixels [i*2^l, (i+1)*2^l); node radius R means it
// depends on the input over that span widened by R on each side. Then:
//   conv kxk at level l:        R + (k/2) * 2^l   (neighbours are 2^l apart)
//   maxpool l -> l+1:           R                 (the two sources tile the span)
//   bilinear l+1 -> l:          R + 2^(l+1)       (align_corners=False reads the
//                               source pixel under it and the one before/after)
//   nearest / transposed l+1 -> l: R + 2^l        (one source pixel, twice as wide)
//   concat:                     max over inputs
// tests/oracle/test_model_torch.py checks that this bound is exact.
int Graph::receptive_radius() const {
  std::vector<int> radius(nodes.size(), 0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    int r = 0;
    for (int in : n.inputs) r = std::max(r, radius[in]);
    switch (n.op) {
      case OpKind::input:
      case OpKind::maxpool:
      case OpKind::concat: break;
      case OpKind::conv: r += (n.kernel / 2) << n.level; break;
      case OpKind::upsample:
        r += n.upsample == Upsample::bilinear ? 2 << n.level : 1 << n.level;
        break;
    }
    radius[i] = r;
  }
  return output >= 0 ? radius[output] : 0;
}

}  // namespace sira
