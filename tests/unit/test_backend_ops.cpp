// Every op kind of the graph on both backends, one minimal graph per op (like
// ggml's test-backend-ops): input -> 1x1 stem -> the op -> 1x1 head (an op
// below full resolution sits between a max-pool and an upsample), seeded
// weights, run by the ref backend and by oneDNN at fp32 (within a tight
// tolerance) and int8 (bit for bit: docs/quantization.md defines every int8
// op exactly, and both backends implement that definition). A failure names
// the op, so a backend bug is found at the op, not somewhere in a network.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "network_fixtures.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant.hpp"

namespace sira {
namespace {

using fixtures::random_input;

// Builds a graph node by node; every helper returns the new node's index.
class GraphBuilder {
 public:
  GraphBuilder(int in_channels, int levels) {
    g_.in_channels = in_channels;
    g_.levels = levels;
    Node input;
    input.name = "input";
    input.channels = in_channels;
    add(std::move(input));
  }
  int conv(const std::string& name, int from, int channels, int kernel, bool relu) {
    Node n = node(OpKind::conv, name, {from}, channels, g_.nodes[from].level);
    n.kernel = kernel;
    n.relu = relu;
    return add(std::move(n));
  }
  int maxpool(const std::string& name, int from) {
    Node n = node(OpKind::maxpool, name, {from}, g_.nodes[from].channels, g_.nodes[from].level + 1);
    n.kernel = 2;
    return add(std::move(n));
  }
  int upsample(const std::string& name, int from, Upsample mode, int channels) {
    Node n = node(OpKind::upsample, name, {from}, channels, g_.nodes[from].level - 1);
    n.upsample = mode;
    n.kernel = mode == Upsample::transposed ? 2 : 0;
    n.relu = mode == Upsample::transposed;
    return add(std::move(n));
  }
  int concat(const std::string& name, int a, int b) {
    return add(node(OpKind::concat, name, {a, b}, g_.nodes[a].channels + g_.nodes[b].channels,
                    g_.nodes[a].level));
  }
  // The 1x1 linear head to one channel, the graph's output.
  Graph finish(int from) {
    g_.output = conv("head", from, 1, 1, false);
    return g_;
  }

 private:
  static Node node(OpKind op, const std::string& name, std::vector<int> inputs, int channels, int level) {
    Node n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.channels = channels;
    n.level = level;
    return n;
  }
  int add(Node n) {
    g_.nodes.push_back(std::move(n));
    return int(g_.nodes.size()) - 1;
  }
  Graph g_;
};

struct OpCase {
  std::string op;
  Graph graph;
};

// One minimal graph per op kind the TomoGAN graph has.
std::vector<OpCase> op_cases() {
  std::vector<OpCase> cases;
  {
    GraphBuilder b(3, 0);
    cases.push_back({"conv 3x3 + relu", b.finish(b.conv("op", b.conv("stem", 0, 5, 1, true), 7, 3, true))});
  }
  {
    GraphBuilder b(3, 0);
    cases.push_back({"conv 3x3 linear", b.finish(b.conv("op", b.conv("stem", 0, 5, 1, true), 6, 3, false))});
  }
  {
    GraphBuilder b(3, 0);
    cases.push_back({"conv 1x1 + relu", b.finish(b.conv("op", b.conv("stem", 0, 5, 1, true), 9, 1, true))});
  }
  {
    GraphBuilder b(1, 0);
    cases.push_back({"conv 1x1 linear (the output)", b.finish(0)});
  }
  for (Upsample mode : {Upsample::nearest, Upsample::bilinear, Upsample::transposed}) {
    GraphBuilder b(3, 1);
    const int pool = b.maxpool("pool", b.conv("stem", 0, 6, 1, true));
    cases.push_back({std::string("max-pool + ") + upsample_name(mode) + " upsample",
                     b.finish(b.upsample("op", pool, mode, mode == Upsample::transposed ? 5 : 6))});
  }
  {
    GraphBuilder b(3, 0);
    const int stem = b.conv("stem", 0, 4, 1, true);
    const int other = b.conv("other", stem, 5, 3, true);
    // Read by a conv: oneDNN fp32 (NHWC) runs it as a split convolution.
    cases.push_back({"concat into a conv", b.finish(b.conv("after", b.concat("op", stem, other), 6, 3, true))});
  }
  {
    GraphBuilder b(3, 1);
    const int stem = b.conv("stem", 0, 8, 1, true);
    const int up = b.upsample("up", b.maxpool("pool", stem), Upsample::nearest, 8);
    // Read by the head only, after an upsample: TomoGAN's [skip, upsampled] concat.
    cases.push_back({"concat of skip and upsampled", b.finish(b.concat("op", stem, up))});
  }
  return cases;
}

// Seeded weights with He's gain (fixtures::he_scaled_model says why) and small biases.
Model seeded_model(const Graph& g, unsigned seed) {
  Model m;
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!n.has_weights()) continue;
    const std::int64_t out = n.channels, in = g.input_channels(int(i)), k = n.kernel;
    const bool transposed = n.op == OpKind::upsample;
    ModelTensor w{transposed ? std::vector<std::int64_t>{in, out, 2, 2} : std::vector<std::int64_t>{out, in, k, k}, {}};
    std::normal_distribution<float> weight(0.0f, std::sqrt(2.0f / float(transposed ? in : in * k * k)));
    std::uniform_real_distribution<float> bias(-0.1f, 0.1f);
    w.data.resize(w.numel());
    for (float& v : w.data) v = weight(rng);
    ModelTensor b{{out}, std::vector<float>(std::size_t(out))};
    for (float& v : b.data) v = bias(rng);
    m.tensors[n.name + ".weight"] = std::move(w);
    m.tensors[n.name + ".bias"] = std::move(b);
  }
  return m;
}

// `model` quantised by the rules of docs/quantization.md on the ref fp32
// activations of `input`: min/max ranges shared by the tensors a pool, a
// bilinear/nearest upsample or a concat joins; 7-bit per-channel weights
// (which oneDNN runs exactly on every x86 CPU).
Model quantised(const Graph& g, Model model, const std::vector<float>& input, std::size_t h, std::size_t w) {
  std::vector<double> lo(g.nodes.size(), 0.0), hi(g.nodes.size(), 0.0);
  const NodeObserver observe = [&](int node, const float* data, std::size_t c, std::size_t y, std::size_t x) {
    const auto [a, b] = std::minmax_element(data, data + c * y * x);
    lo[node] = *a;
    hi[node] = *b;
  };
  std::vector<float> out(h * w);
  make_ref_backend(model, g, 1, LayerPrecision::fp32, observe)->run(input.data(), h, w, out.data());
  std::vector<int> group(g.nodes.size());
  std::iota(group.begin(), group.end(), 0);
  const auto root = [&](int i) {
    while (group[i] != i) i = group[i];
    return i;
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == OpKind::maxpool || n.op == OpKind::concat ||
        (n.op == OpKind::upsample && n.upsample != Upsample::transposed))
      for (int j : n.inputs) group[root(j)] = root(int(i));
  }
  std::vector<double> group_lo(g.nodes.size(), 0.0), group_hi(g.nodes.size(), 0.0);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    group_lo[root(int(i))] = std::min(group_lo[root(int(i))], lo[i]);
    group_hi[root(int(i))] = std::max(group_hi[root(int(i))], hi[i]);
  }
  QuantParams q;
  q.weight_bits = 7;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (int(i) != g.output)
      q.activations[g.nodes[i].name] = quant::activation_params(group_lo[root(int(i))], group_hi[root(int(i))]);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!n.has_weights()) continue;
    const bool transposed = n.op == OpKind::upsample;
    const ModelTensor& wt = model.tensor(n.name + ".weight");
    const std::vector<float>& bias = model.tensor(n.name + ".bias").data;
    const std::size_t out_channels = std::size_t(n.channels), taps = transposed ? 4 : wt.numel() / out_channels;
    const auto channel = [&](std::size_t k) { return transposed ? (k / 4) % out_channels : k / taps; };
    std::vector<double> max_abs(out_channels, 0.0);
    for (std::size_t k = 0; k < wt.data.size(); ++k)
      max_abs[channel(k)] = std::max(max_abs[channel(k)], double(std::abs(wt.data[k])));
    QuantLayer l;
    for (double m : max_abs) l.weight_scale.push_back(quant::weight_scale(m, q.weight_qmax()));
    for (std::size_t k = 0; k < wt.data.size(); ++k)
      l.weight.push_back(quant::quantize_weight(wt.data[k], l.weight_scale[channel(k)], q.weight_qmax()));
    const float s_in = q.activations.at(g.nodes[n.inputs[0]].name).scale;
    for (std::size_t c = 0; c < out_channels; ++c) l.bias.push_back(quant::quantize_bias(bias[c], s_in, l.weight_scale[c]));
    q.layers[n.name] = std::move(l);
  }
  model.quant = std::move(q);
  return model;
}

struct Size {
  std::size_t h, w;
};
// Odd multiples of 2 and 1, so every vector tail and border of the kernels runs.
const Size kSizes[] = {{6, 10}, {14, 22}};

std::vector<float> run(Backend& backend, const std::vector<float>& input, Size s) {
  std::vector<float> out(s.h * s.w, -12345.0f);
  backend.run(input.data(), s.h, s.w, out.data());
  return out;
}

// Every op case, ref against the backend `make` builds, at fp32.
void expect_every_op_matches_ref(const std::function<std::unique_ptr<Backend>(const Model&, const Graph&)>& make) {
  unsigned seed = 100;
  for (const OpCase& c : op_cases()) {
    const Model model = seeded_model(c.graph, ++seed);
    validate_graph(c.graph, model);
    auto ref = make_ref_backend(model, c.graph, 2);
    auto other = make(model, c.graph);
    for (Size s : kSizes) {
      SCOPED_TRACE(testing::Message() << c.op << ", " << s.h << "x" << s.w);
      const auto input = random_input(c.graph.in_channels, s.h, s.w, seed);
      const std::vector<float> want = run(*ref, input, s), got = run(*other, input, s);
      const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
      ASSERT_GT(*hi - *lo, 0.0f) << "a constant output would make the comparison vacuous";
      double worst = 0.0;
      for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - want[i]));
      // A few float roundings per output in a different order: ~1e-7 of the range.
      EXPECT_LE(worst, 2e-6 * (double(*hi) - *lo)) << "output range " << *hi - *lo;
    }
  }
}

TEST(BackendOps, EveryOpMatchesBetweenRefAndOnednnAtFp32) {
  if (!onednn_available()) GTEST_SKIP() << "sira was built without oneDNN";
  expect_every_op_matches_ref([](const Model& m, const Graph& g) { return make_onednn_backend(m, g, 2); });
}

// XNNPACK on its thread pool (2) and on the caller's thread alone (1).
TEST(BackendOps, EveryOpMatchesBetweenRefAndXnnpackAtFp32) {
  if (!xnnpack_available()) GTEST_SKIP() << "sira was built without XNNPACK";
  for (int threads : {1, 2}) {
    SCOPED_TRACE(testing::Message() << threads << " thread(s)");
    expect_every_op_matches_ref(
        [threads](const Model& m, const Graph& g) { return make_xnnpack_backend(m, g, threads); });
  }
}

TEST(BackendOps, XnnpackRefusesOtherPrecisionsNamingWhy) {
  if (!xnnpack_available()) GTEST_SKIP() << "sira was built without XNNPACK";
  const auto cases = op_cases();
  const OpCase& c = cases.front();
  const Model model = seeded_model(c.graph, 7);
  for (LayerPrecision p : {LayerPrecision::int8, LayerPrecision::bf16}) {
    EXPECT_NE(xnnpack_unsupported(model, p).find("fp32 only"), std::string::npos);
    try {
      make_xnnpack_backend(model, c.graph, 1, p);
      ADD_FAILURE() << "XNNPACK accepted " << precision_name(p);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("fp32 only"), std::string::npos) << e.what();
    }
  }
}

TEST(BackendOps, EveryOpIsBitIdenticalBetweenRefAndOnednnAtInt8) {
  if (!onednn_available()) GTEST_SKIP() << "sira was built without oneDNN";
  unsigned seed = 200;
  for (const OpCase& c : op_cases()) {
    ++seed;
    const Model model = quantised(c.graph, seeded_model(c.graph, seed), random_input(c.graph.in_channels, 16, 16, seed),
                                  16, 16);
    validate_graph(c.graph, model);
    const std::string why = onednn_unsupported(model, LayerPrecision::int8);
    if (!why.empty()) GTEST_SKIP() << "oneDNN cannot run int8 here: " << why;
    auto ref = make_ref_backend(model, c.graph, 2, LayerPrecision::int8);
    auto dnn = make_onednn_backend(model, c.graph, 2, LayerPrecision::int8);
    for (Size s : kSizes) {
      SCOPED_TRACE(testing::Message() << c.op << ", " << s.h << "x" << s.w);
      const auto input = random_input(c.graph.in_channels, s.h, s.w, seed + 1);
      const std::vector<float> want = run(*ref, input, s), got = run(*dnn, input, s);
      const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
      ASSERT_GT(*hi - *lo, 0.0f) << "a constant output would make the comparison vacuous";
      std::size_t differ = 0;
      for (std::size_t i = 0; i < want.size(); ++i) differ += got[i] != want[i];
      EXPECT_EQ(differ, 0u) << "of " << want.size() << " outputs";
    }
  }
}

// The global residual is the engine's (Graph::residual: the backend runs the
// network, the engine adds the centre input plane): with either backend the
// residual model's output is the plain model's plus that plane, bit for bit,
// and the backends agree at fp32 (tightly) and int8 (exactly).
TEST(BackendOps, ResidualAddsTheCentreInputOnEitherBackend) {
  TomoganConfig cfg = fixtures::small_config(3, Upsample::bilinear);
  cfg.encoder = {5};
  cfg.decoder = {4};
  cfg.residual = true;
  const Model fp32 = init_model(cfg, 7);
  const std::size_t h = 10, w = 14;
  const auto input = random_input(3, h, w, 8);
  const Model int8 = quantised(build_graph(cfg), fp32, input, h, w);
  std::vector<std::string> backends{"ref"};
  if (onednn_available()) backends.push_back("onednn");
  std::map<std::string, std::vector<float>> outputs;
  for (Precision precision : {Precision::fp32, Precision::int8})
    for (const std::string& backend : backends) {
      if (backend == "onednn" && precision == Precision::int8 && !onednn_unsupported(int8, precision).empty())
        continue;
      const std::string name = backend + " " + precision_name(precision);
      SCOPED_TRACE(name);
      Model residual = precision == Precision::int8 ? int8 : fp32, plain = residual;
      plain.config.residual = false;
      std::vector<float> with(h * w), without(h * w);
      Engine(residual, {.backend = backend, .precision = precision, .threads = 2})
          .run_normalised(input.data(), h, w, with.data());
      Engine(plain, {.backend = backend, .precision = precision, .threads = 2})
          .run_normalised(input.data(), h, w, without.data());
      for (std::size_t i = 0; i < h * w; ++i) ASSERT_EQ(with[i], without[i] + input[h * w + i]) << "pixel " << i;
      outputs[name] = with;
    }
  if (!onednn_available()) GTEST_SKIP() << "sira was built without oneDNN: ref only";
  const std::vector<float>& a = outputs.at("ref fp32");
  const std::vector<float>& b = outputs.at("onednn fp32");
  const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 2e-6 * (*hi - *lo)) << "pixel " << i;
  if (outputs.count("onednn int8")) {
    EXPECT_EQ(outputs.at("ref int8"), outputs.at("onednn int8"));
  }
}

}  // namespace
}  // namespace sira
