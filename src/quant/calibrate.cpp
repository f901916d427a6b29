// Calibration: runs the fp32 reference network on the calibration slices (as
// sira denoise would: neighbourhoods, normalisation, padding) and observes every
// activation. Tensors that must share a scale (docs/quantization.md, "Shared
// scales") are observed as one group: pass 1 finds each group's range, pass 2
// (histogram methods) bins every value into 2048 bins over that range.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/quant.hpp"
#include "sira/quantize.hpp"

namespace sira {
namespace {

constexpr std::size_t kBins = 2048;

// Group (root node index) of every node but the output: pool, bilinear/nearest
// upsample and concat join their inputs' groups.
std::vector<int> scale_groups(const Graph& g) {
  std::vector<int> parent(g.nodes.size());
  std::iota(parent.begin(), parent.end(), 0);
  const auto find = [&](int i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const bool shares = n.op == OpKind::maxpool || n.op == OpKind::concat ||
                        (n.op == OpKind::upsample && n.upsample != Upsample::transposed);
    if (shares)
      for (int j : n.inputs) parent[find(j)] = find(int(i));
  }
  std::vector<int> group(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) group[i] = find(int(i));
  return group;
}

struct GroupStats {
  double lo = INFINITY, hi = -INFINITY;
  std::vector<double> counts;
};

// Runs the fp32 network over the calibration slices with `observe` on every node.
// The slices a calibration pass runs (max_images caps them).
std::size_t calibration_slices(const std::vector<CalibrationImages>& calibration, const QuantizeOptions& o) {
  std::size_t n = 0;
  for (const auto& c : calibration) n += c.images.depth;
  return o.max_images ? std::min(n, o.max_images) : n;
}

// pass (0-based) of `passes`: reports progress over all of them.
void run_calibration(const Model& model, const std::vector<CalibrationImages>& calibration,
                     const QuantizeOptions& o, const NodeObserver& observe, std::size_t pass = 0,
                     std::size_t passes = 1) {
  const std::size_t per_pass = calibration_slices(calibration, o);
  EngineOptions eo;
  eo.backend = "ref";
  eo.precision = Precision::fp32;
  eo.threads = o.threads;
  eo.observer = observe;
  Engine engine(model, eo);
  std::vector<float> out;
  std::size_t used = 0;
  for (const auto& c : calibration)
    for (std::size_t d = 0; d < c.images.depth; ++d) {
      if (o.max_images && used == o.max_images) return;
      out.resize(c.images.slice_size());
      engine.denoise_slice(c.images, d, out.data());
      ++used;
      if (o.progress) o.progress(pass * per_pass + used, passes * per_pass);
    }
}

void check_calibration_set(const Model& model, const std::vector<CalibrationImages>& calibration) {
  std::size_t slices = 0;
  float first = 0;
  bool constant = true;
  for (const auto& c : calibration) {
    const Stack& s = c.images;
    if (s.depth == 0 || s.slice_size() == 0) continue;
    const std::size_t m = std::size_t(1) << model.config.levels();
    if (s.height < m || s.width < m)
      fail("calibration image ", c.name, ": ", s.height, "x", s.width, " is smaller than the minimum ", m, "x", m,
           " this model accepts");
    for (std::size_t i = 0; i < s.size(); ++i) {
      const float v = s.data[i];
      if (!std::isfinite(v))
        fail("calibration image ", c.name, ": non-finite value (", v, ") at slice ", i / s.slice_size(), ", row ",
             i % s.slice_size() / s.width, ", column ", i % s.width, "; calibration needs finite samples");
      if (slices == 0 && i == 0) first = v;
      constant = constant && v == first;
    }
    slices += s.depth;
  }
  if (slices == 0) fail("the calibration set is empty: give at least one image (-c)");
  if (constant)
    fail("the calibration set is constant (every sample is ", first,
         "): it shows the network no signal to calibrate activation ranges on");
}

}  // namespace

std::map<std::string, ActivationParams> calibrate(const Model& model,
                                                  const std::vector<CalibrationImages>& calibration,
                                                  const QuantizeOptions& o) {
  if (model.quant) fail("the model is already quantised; calibrate its fp32 original");
  check_calibration_set(model, calibration);
  const Graph graph = build_graph(model.config);
  const std::vector<int> group = scale_groups(graph);
  std::vector<GroupStats> stats(graph.nodes.size());
  const std::size_t passes = o.method == "minmax" ? 1 : 2;

  run_calibration(model, calibration, o, [&](int node, const float* data, std::size_t c, std::size_t h,
                                              std::size_t w) {
    if (node == graph.output) return;
    GroupStats& g = stats[std::size_t(group[std::size_t(node)])];
    const auto [lo, hi] = std::minmax_element(data, data + c * h * w);
    g.lo = std::min(g.lo, double(*lo));
    g.hi = std::max(g.hi, double(*hi));
  }, 0, passes);
  for (auto& g : stats) {  // ranges include 0 (the padding, the ReLU floor)
    if (!std::isfinite(g.lo)) continue;
    g.lo = std::min(g.lo, 0.0);
    g.hi = std::max(g.hi, 0.0);
  }

  if (o.method != "minmax") {
    for (auto& g : stats)
      if (std::isfinite(g.lo)) g.counts.assign(kBins, 0.0);
    run_calibration(model, calibration, o, [&](int node, const float* data, std::size_t c, std::size_t h,
                                                std::size_t w) {
      if (node == graph.output) return;
      GroupStats& g = stats[std::size_t(group[std::size_t(node)])];
      if (!(g.hi > g.lo)) return;
      const double per_bin = double(kBins) / (g.hi - g.lo);
      for (std::size_t i = 0; i < c * h * w; ++i) {
        const double b = std::floor((double(data[i]) - g.lo) * per_bin);
        g.counts[std::size_t(std::clamp(b, 0.0, double(kBins - 1)))] += 1.0;
      }
    }, 1, passes);
  }

  std::map<std::string, ActivationParams> out;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (int(i) == graph.output) continue;
    const GroupStats& g = stats[std::size_t(group[i])];
    if (!std::isfinite(g.lo)) fail("calibration: node '", graph.nodes[i].name, "' was never observed");
    const Range r = choose_range(o.method, g.counts, {g.lo, g.hi}, o.percentile);
    out[graph.nodes[i].name] = quant::activation_params(r.lo, r.hi);
  }
  return out;
}

Model quantize_weights(const Model& model, const std::map<std::string, ActivationParams>& activations,
                       const QuantizeOptions& o) {
  if (model.quant) fail("the model is already quantised; quantise its fp32 original");
  if (o.weight_bits != 8 && o.weight_bits != 7) fail("weight bits ", o.weight_bits, " is not 8 or 7");
  const Graph graph = build_graph(model.config);
  Model q = model;
  QuantParams params;
  params.weight_bits = o.weight_bits;
  params.method = o.method;
  params.activations = activations;
  const int qmax = params.weight_qmax();
  for (const Node& n : graph.nodes) {
    if (!n.has_weights()) continue;
    const ModelTensor& w = model.tensor(n.name + ".weight");
    const ModelTensor& b = model.tensor(n.name + ".bias");
    const bool transposed = n.op == OpKind::upsample;
    const std::size_t out = std::size_t(w.shape.at(transposed ? 1 : 0));
    const std::size_t inner = std::size_t(w.shape[2] * w.shape[3]);
    const auto channel = [&](std::size_t i) {
      return transposed ? (i / inner) % out : i / (w.data.size() / out);
    };
    std::vector<double> max_abs(o.per_channel ? out : 1, 0.0);
    for (std::size_t i = 0; i < w.data.size(); ++i) {
      double& m = max_abs[o.per_channel ? channel(i) : 0];
      m = std::max(m, std::fabs(double(w.data[i])));
    }
    QuantLayer l;
    for (double m : max_abs) l.weight_scale.push_back(quant::weight_scale(m, qmax));
    l.weight.resize(w.data.size());
    for (std::size_t i = 0; i < w.data.size(); ++i)
      l.weight[i] = quant::quantize_weight(w.data[i], l.scale(channel(i)), qmax);
    const auto in = activations.find(graph.nodes[std::size_t(n.inputs[0])].name);
    if (in == activations.end()) fail("no activation parameters for the input of layer '", n.name, "'");
    for (std::size_t c = 0; c < out; ++c)
      l.bias.push_back(quant::quantize_bias(b.data[c], in->second.scale, l.scale(c)));
    params.layers[n.name] = std::move(l);
  }
  q.quant = std::move(params);
  dequantize_int8_layers(q);
  return q;
}

Model quantize_model(const Model& model, const std::vector<CalibrationImages>& calibration,
                     const QuantizeOptions& options) {
  return quantize_weights(model, calibrate(model, calibration, options), options);
}

}  // namespace sira
