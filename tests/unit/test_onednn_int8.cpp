// The oneDNN int8 path against the int8 specification (docs/quantization.md)
// evaluated literally: a scalar executor below built only from the formulas of
// include/sira/quant.hpp (exact int32 accumulation, zero padding as the code
// zp, requantisation order, uint8 maxpool, bilinear on codes, byte concat).
// Random models of odd widths, 1 and 3 slices, every upsampling mode, sizes that
// exercise every tail; weights quantised with 7 bits on CPUs without VNNI (where
// oneDNN refuses 8-bit weights, also checked here).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "engine/backend.hpp"
#include "sira/engine.hpp"
#include "network_fixtures.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant.hpp"

namespace sira {
namespace {

using Codes = std::vector<std::uint8_t>;  // planar C x H x W uint8 codes

bool native_vnni() {
  Model m = init_model(TomoganConfig{}, 1);
  m.quant = QuantParams{};
  m.quant->weight_bits = 8;
  return onednn_unsupported(m, LayerPrecision::int8).find("VNNI") == std::string::npos;
}

// Tensors that must share (scale, zero point): a pool or bilinear/nearest
// upsample with its input, a concat with both inputs (union-find roots).
std::vector<int> scale_groups(const Graph& g) {
  std::vector<int> parent(g.nodes.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto root = [&](int i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const bool shares = n.op == OpKind::maxpool || n.op == OpKind::concat ||
                        (n.op == OpKind::upsample && n.upsample != Upsample::transposed);
    if (shares)
      for (int j : n.inputs) parent[root(j)] = root(int(i));
  }
  std::vector<int> group(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) group[i] = root(int(i));
  return group;
}

// ---- the specification, literally ----

struct Tensor {
  Codes q;
  int c = 0;
  std::size_t h = 0, w = 0;
  std::uint8_t at(int ch, std::size_t y, std::size_t x) const { return q[(ch * h + y) * w + x]; }
};

// Calibration for the tests (sira quantize does this properly): when the
// executor meets a weighted layer without parameters it quantises its weights
// by the spec's formulas (per channel or per tensor), and a tensor without
// parameters gets those of its own min/max, shared with its scale group.
struct Calibration {
  bool per_channel = true;
  std::vector<int> group;  // scale group of every node
};

void quantise_layer(Model& m, const Graph& g, int i, bool per_channel) {
  const Node& n = g.nodes[i];
  const ModelTensor& w = m.tensor(n.name + ".weight");
  const ModelTensor& b = m.tensor(n.name + ".bias");
  const bool transposed = n.op == OpKind::upsample;
  const std::size_t out = std::size_t(n.channels), per = w.data.size() / out;
  // Output channel of flat weight index k: dim 0 (conv) or dim 1 (transposed).
  auto channel = [&](std::size_t k) { return transposed ? (k / 4) % out : k / per; };
  const int qmax = m.quant->weight_qmax();
  std::vector<double> max_abs(per_channel ? out : 1, 0.0);
  for (std::size_t k = 0; k < w.data.size(); ++k) {
    double& v = max_abs[per_channel ? channel(k) : 0];
    v = std::max(v, double(std::abs(w.data[k])));
  }
  QuantLayer layer;
  for (double v : max_abs) layer.weight_scale.push_back(quant::weight_scale(v, qmax));
  for (std::size_t k = 0; k < w.data.size(); ++k)
    layer.weight.push_back(quant::quantize_weight(w.data[k], layer.scale(channel(k)), qmax));
  const float s_in = m.quant->activations.at(g.nodes[n.inputs[0]].name).scale;
  for (std::size_t c = 0; c < out; ++c)
    layer.bias.push_back(quant::quantize_bias(b.data[c], s_in, layer.scale(c)));
  m.quant->layers[n.name] = std::move(layer);
}

void calibrate_tensor(Model& m, const Graph& g, const Calibration& cal, int i, double lo, double hi) {
  if (m.quant->activations.count(g.nodes[i].name)) return;
  const ActivationParams p = quant::activation_params(lo, hi);
  for (std::size_t j = 0; j < g.nodes.size(); ++j)
    if (cal.group[j] == cal.group[i] && int(j) != g.output) m.quant->activations[g.nodes[j].name] = p;
}

// Accumulators of int8 layer i over its output (C x H x W), exact int32.
std::vector<std::int32_t> spec_accumulators(const Model& m, const Graph& g, int i, const Tensor& in,
                                            std::size_t oh, std::size_t ow) {
  const Node& n = g.nodes[i];
  const QuantLayer& L = m.quant->layers.at(n.name);
  const int zp = m.quant->activations.at(g.nodes[n.inputs[0]].name).zero_point;
  const bool transposed = n.op == OpKind::upsample;
  const int k = n.kernel, r = k / 2;
  std::vector<std::int32_t> acc(std::size_t(n.channels) * oh * ow);
  for (int o = 0; o < n.channels; ++o)
    for (std::size_t y = 0; y < oh; ++y)
      for (std::size_t x = 0; x < ow; ++x) {
        std::int64_t a = L.bias[o];
        for (int ci = 0; ci < in.c; ++ci) {
          if (transposed) {
            a += std::int64_t(L.weight[((std::size_t(ci) * n.channels + o) * 2 + y % 2) * 2 + x % 2]) *
                 (int(in.at(ci, y / 2, x / 2)) - zp);
            continue;
          }
          for (int dy = 0; dy < k; ++dy)
            for (int dx = 0; dx < k; ++dx) {
              const std::ptrdiff_t yy = std::ptrdiff_t(y) + dy - r, xx = std::ptrdiff_t(x) + dx - r;
              if (yy < 0 || xx < 0 || yy >= std::ptrdiff_t(in.h) || xx >= std::ptrdiff_t(in.w)) continue;
              a += std::int64_t(L.weight[((std::size_t(o) * in.c + ci) * k + dy) * k + dx]) *
                   (int(in.at(ci, yy, xx)) - zp);
            }
        }
        acc[(o * oh + y) * ow + x] = std::int32_t(a);
      }
  return acc;
}

// A conv or transposed conv: requantised codes, or the final fp32 output.
Tensor spec_layer(Model& m, const Graph& g, int i, const Tensor& in, std::vector<float>* fp32_out,
                  const Calibration* cal) {
  const Node& n = g.nodes[i];
  if (cal && !m.quant->layers.count(n.name)) quantise_layer(m, g, i, cal->per_channel);
  const QuantLayer& L = m.quant->layers.at(n.name);
  const float s_in = m.quant->activations.at(g.nodes[n.inputs[0]].name).scale;
  const std::size_t f = n.op == OpKind::upsample ? 2 : 1, oh = in.h * f, ow = in.w * f;
  const auto acc = spec_accumulators(m, g, i, in, oh, ow);
  const std::size_t plane = oh * ow;
  if (i == g.output) {
    fp32_out->resize(plane);
    for (std::size_t p = 0; p < plane; ++p)
      (*fp32_out)[p] = quant::dequantize_accumulator(acc[p], quant::output_multiplier(s_in, L.scale(0)));
    return {};
  }
  if (cal) {
    double lo = 0.0, hi = 0.0;
    for (std::size_t p = 0; p < acc.size(); ++p) {
      double v = double(acc[p]) * quant::output_multiplier(s_in, L.scale(p / plane));
      if (n.relu) v = std::max(v, 0.0);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    calibrate_tensor(m, g, *cal, i, lo, hi);
  }
  const ActivationParams pout = m.quant->activations.at(n.name);
  Tensor out{Codes(acc.size()), n.channels, oh, ow};
  for (std::size_t p = 0; p < acc.size(); ++p)
    out.q[p] = quant::requantize(acc[p], quant::requant_multiplier(s_in, L.scale(p / plane), pout.scale),
                                 n.relu, pout.zero_point);
  return out;
}

// align_corners=False source taps of output index x (size n at the source).
void bilinear_taps(std::size_t x, std::size_t n, std::size_t& i0, std::size_t& i1, float& f) {
  const float s = std::max(0.0f, (float(x) + 0.5f) / 2.0f - 0.5f);
  i0 = std::size_t(s);
  i1 = std::min(i0 + 1, n - 1);
  f = s - float(i0);
}

Tensor spec_resize(const Node& n, const Tensor& in) {
  Tensor out{Codes(std::size_t(in.c) * in.h * in.w * 4), in.c, in.h * 2, in.w * 2};
  for (int c = 0; c < in.c; ++c)
    for (std::size_t y = 0; y < out.h; ++y)
      for (std::size_t x = 0; x < out.w; ++x) {
        std::uint8_t v;
        if (n.upsample == Upsample::nearest) {
          v = in.at(c, y / 2, x / 2);
        } else {
          std::size_t y0, y1, x0, x1;
          float fy, fx;
          bilinear_taps(y, in.h, y0, y1, fy);
          bilinear_taps(x, in.w, x0, x1, fx);
          const float sum = (1 - fy) * (1 - fx) * in.at(c, y0, x0) + (1 - fy) * fx * in.at(c, y0, x1) +
                            fy * (1 - fx) * in.at(c, y1, x0) + fy * fx * in.at(c, y1, x1);
          v = std::uint8_t(std::clamp(std::nearbyint(sum), 0.0f, 255.0f));
        }
        out.q[(c * out.h + y) * out.w + x] = v;
      }
  return out;
}

std::vector<float> spec_network(Model& m, const std::vector<float>& input, std::size_t h,
                                std::size_t w, const Calibration* cal = nullptr) {
  const Graph g = build_graph(m.config);
  std::vector<Tensor> t(g.nodes.size());
  std::vector<float> result;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == OpKind::input) {
      if (cal) {
        const auto [lo, hi] = std::minmax_element(input.begin(), input.end());
        calibrate_tensor(m, g, *cal, int(i), *lo, *hi);
      }
      const ActivationParams p = m.quant->activations.at(n.name);
      t[i] = {Codes(input.size()), g.in_channels, h, w};
      for (std::size_t k = 0; k < input.size(); ++k) t[i].q[k] = quant::quantize(input[k], p);
      continue;
    }
    const Tensor& a = t[n.inputs[0]];
    switch (n.op) {
      case OpKind::conv: t[i] = spec_layer(m, g, int(i), a, &result, cal); break;
      case OpKind::maxpool: {
        t[i] = {Codes(std::size_t(a.c) * a.h * a.w / 4), a.c, a.h / 2, a.w / 2};
        for (int c = 0; c < a.c; ++c)
          for (std::size_t y = 0; y < a.h / 2; ++y)
            for (std::size_t x = 0; x < a.w / 2; ++x)
              t[i].q[(c * t[i].h + y) * t[i].w + x] =
                  std::max({a.at(c, 2 * y, 2 * x), a.at(c, 2 * y, 2 * x + 1),
                            a.at(c, 2 * y + 1, 2 * x), a.at(c, 2 * y + 1, 2 * x + 1)});
        break;
      }
      case OpKind::upsample:
        t[i] = n.upsample == Upsample::transposed ? spec_layer(m, g, int(i), a, nullptr, cal)
                                                  : spec_resize(n, a);
        break;
      case OpKind::concat: {
        const Tensor& b = t[n.inputs[1]];
        t[i] = {a.q, a.c + b.c, a.h, a.w};
        t[i].q.insert(t[i].q.end(), b.q.begin(), b.q.end());
        break;
      }
      case OpKind::input: break;
    }
  }
  return result;
}

std::vector<float> random_input(int channels, std::size_t h, std::size_t w, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-0.1f, 1.1f);
  std::vector<float> v(std::size_t(channels) * h * w);
  for (float& x : v) x = u(gen);
  return v;
}

// A random model quantised by running the spec executor once on a random
// 16x16 calibration input.
Model quantised(const TomoganConfig& cfg, std::uint64_t seed, int weight_bits, bool per_channel) {
  Model model = init_model(cfg, seed);
  model.quant = QuantParams{};
  model.quant->weight_bits = weight_bits;
  Calibration cal;
  cal.per_channel = per_channel;
  cal.group = scale_groups(build_graph(cfg));
  const std::size_t size = std::max<std::size_t>(16, std::size_t(build_graph(cfg).multiple()));
  spec_network(model, random_input(cfg.slices, size, size, unsigned(seed) + 7), size, size, &cal);
  return model;
}

// ---- tests ----

using fixtures::small_config;

struct Size {
  std::size_t h, w;
};

// The final conv's output is float(acc) * D[c]: when every uint8 code upstream
// equals the specification's, it is bit-identical. A ±1 LSB difference of an
// upstream code (a rounding tie decided differently) would move it by a few
// output steps D; the check allows that for at most 0.5 % of the pixels and
// reports how many are exact.
void expect_matches_spec(const TomoganConfig& cfg, std::uint64_t seed, const std::vector<Size>& sizes,
                         bool per_channel = true) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const int bits = native_vnni() ? 8 : 7;
  Model model = quantised(cfg, seed, bits, per_channel);
  const Graph graph = build_graph(cfg);
  auto dnn = make_onednn_backend(model, graph, 2, LayerPrecision::int8);
  const Node& head = graph.nodes[graph.output];
  const QuantLayer& last = model.quant->layers.at(head.name);
  const float s_in = model.quant->activations.at(graph.nodes[head.inputs[0]].name).scale;
  float step = 0.0f;  // one output step: the largest D[c] (head has one channel)
  for (std::size_t c = 0; c < std::size_t(head.channels); ++c)
    step = std::max(step, quant::output_multiplier(s_in, last.scale(c)));
  for (const Size& s : sizes) {
    SCOPED_TRACE(testing::Message() << "slices " << cfg.slices << ", upsample "
                                    << upsample_name(cfg.upsample) << ", " << s.h << "x" << s.w
                                    << ", weight bits " << bits);
    const auto input = random_input(cfg.slices, s.h, s.w, unsigned(seed + s.h * 131 + s.w));
    const std::vector<float> want = spec_network(model, input, s.h, s.w);
    std::vector<float> got(s.h * s.w, -12345.0f);
    dnn->run(input.data(), s.h, s.w, got.data());
    const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
    // Tiny images of a random model may give a near-constant output; larger ones must not,
    // or the comparison would be vacuous.
    if (s.h * s.w >= 64) { ASSERT_GT(*hi - *lo, 50 * step) << "near-constant output"; }
    std::size_t exact = 0, off = 0;
    double worst = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double d = std::abs(double(got[i]) - double(want[i]));
      exact += d == 0.0;
      off += d > 0.0;
      worst = std::max(worst, d / step);
    }
    EXPECT_LE(off, want.size() / 200) << exact << " of " << want.size() << " exact, worst "
                                      << worst << " output steps";
    if (off) std::printf("  %zu of %zu exact, worst %.1f output steps\n", exact, want.size(), worst);
    EXPECT_LE(worst, 64.0);
  }
}

TEST(OnednnInt8, SmallOddWidthsMatchTheSpecificationEveryUpsampling) {
  for (Upsample up : {Upsample::bilinear, Upsample::nearest, Upsample::transposed})
    for (int slices : {1, 3})
      expect_matches_spec(small_config(slices, up), 31 + slices, {{4, 4}, {12, 20}, {28, 8}, {20, 36}});
}

TEST(OnednnInt8, PublishedWidthsMatchTheSpecification) {
  TomoganConfig c;  // 8, 32/64/128, 128, 64/32/32, 16
  expect_matches_spec(c, 5, {{16, 24}});
  c.upsample = Upsample::transposed;
  expect_matches_spec(c, 6, {{8, 8}});
}

// The ref backend implements the same specification independently (its own
// kernels): the two must agree too, on a model of published widths.
TEST(OnednnInt8, MatchesTheRefBackend) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  for (Upsample up : {Upsample::bilinear, Upsample::transposed}) {
    TomoganConfig cfg;
    cfg.upsample = up;
    const Model model = quantised(cfg, 12, native_vnni() ? 8 : 7, true);
    const Graph graph = build_graph(cfg);
    auto ref = make_ref_backend(model, graph, 2, LayerPrecision::int8);
    auto dnn = make_onednn_backend(model, graph, 2, LayerPrecision::int8);
    const auto input = random_input(3, 40, 24, 8);
    std::vector<float> want(40 * 24), got(40 * 24);
    ref->run(input.data(), 40, 24, want.data());
    dnn->run(input.data(), 40, 24, got.data());
    std::size_t off = 0;
    for (std::size_t i = 0; i < want.size(); ++i) off += got[i] != want[i];
    if (off) std::printf("  vs ref: %zu of %zu pixels differ\n", off, want.size());
    EXPECT_LE(off, want.size() / 200) << upsample_name(up) << ": " << off << " of " << want.size()
                                      << " pixels differ";
  }
}

TEST(OnednnInt8, PerTensorWeightScalesMatchTheSpecification) {
  expect_matches_spec(small_config(3, Upsample::bilinear), 44, {{12, 16}}, false);
}

// A one-level network at the smallest size: every padding tap is a border tap.
TEST(OnednnInt8, OneLevelNetworkAtTheMinimumSize) {
  TomoganConfig c = small_config(3, Upsample::bilinear);
  c.encoder = {13};
  c.decoder = {10};
  expect_matches_spec(c, 9, {{2, 2}, {6, 10}});
}

// Through the engine: `auto` takes oneDNN for a model it runs exactly and the
// ref backend otherwise; padding (an odd size) and tiling change nothing, bit
// for bit (docs/quantization.md: with fixed scales every operation is local).
TEST(OnednnInt8, EngineAutoPaddingAndTilingAreExact) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = small_config(3, Upsample::bilinear);
  const Model model = quantised(cfg, 17, native_vnni() ? 8 : 7, true);
  Engine whole(model, {.backend = "auto", .precision = Precision::int8, .threads = 2, .tile = 0});
  Engine tiled(model, {.backend = "onednn", .precision = Precision::int8, .threads = 2, .tile = 16});
  Engine ref(model, {.backend = "ref", .precision = Precision::int8, .threads = 2, .tile = 0});
  EXPECT_EQ(whole.backend_name(), "onednn");
  EXPECT_EQ(whole.precision(), Precision::int8);
  const std::size_t h = 45, w = 58;
  const auto input = random_input(3, h, w, 9);
  std::vector<float> a(h * w), b(h * w), c(h * w);
  whole.run_normalised(input.data(), h, w, a.data());
  tiled.run_normalised(input.data(), h, w, b.data());
  ref.run_normalised(input.data(), h, w, c.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  if (!native_vnni()) {
    Engine eight(quantised(cfg, 17, 8, true), {.backend = "auto", .precision = Precision::int8, .threads = 1});
    EXPECT_EQ(eight.backend_name(), "ref") << "8-bit weights without VNNI must not run on oneDNN";
  }
}

TEST(OnednnInt8, RepeatedAndAlternatingShapesGiveIdenticalResults) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = small_config(3, Upsample::nearest);
  const Model model = quantised(cfg, 3, native_vnni() ? 8 : 7, true);
  auto dnn = make_onednn_backend(model, build_graph(cfg), 2, LayerPrecision::int8);
  const auto a = random_input(3, 16, 24, 1), b = random_input(3, 8, 8, 2);
  std::vector<float> a1(16 * 24), b1(8 * 8), a2(16 * 24), b2(8 * 8);
  dnn->run(a.data(), 16, 24, a1.data());
  dnn->run(b.data(), 8, 8, b1.data());
  dnn->run(a.data(), 16, 24, a2.data());
  dnn->run(b.data(), 8, 8, b2.data());
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(b1, b2);
}

TEST(OnednnInt8, OneAndTwoThreadsAgree) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = small_config(3, Upsample::transposed);
  const Model model = quantised(cfg, 4, native_vnni() ? 8 : 7, true);
  const Graph graph = build_graph(cfg);
  auto one = make_onednn_backend(model, graph, 1, LayerPrecision::int8);
  auto two = make_onednn_backend(model, graph, 2, LayerPrecision::int8);
  const auto in = random_input(3, 20, 28, 5);
  std::vector<float> x(20 * 28), y(20 * 28);
  one->run(in.data(), 20, 28, x.data());
  two->run(in.data(), 20, 28, y.data());
  EXPECT_EQ(x, y);  // integer arithmetic: no summation-order effects
}

TEST(OnednnInt8, RefusesWhatItCannotRunExactly) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = small_config(1, Upsample::bilinear);
  const Graph graph = build_graph(cfg);
  EXPECT_THROW(make_onednn_backend(init_model(cfg, 1), graph, 1, LayerPrecision::int8), Error)
      << "an fp32 model has no scales";
  Model mixed = quantised(cfg, 1, 7, true);
  mixed.quant->layers.at("enc.0.conv1").precision = LayerPrecision::bf16;
  EXPECT_FALSE(onednn_unsupported(mixed, LayerPrecision::int8).empty());
  EXPECT_THROW(make_onednn_backend(mixed, graph, 1, LayerPrecision::int8), Error);
  Model missing = quantised(cfg, 1, 7, true);
  missing.quant->activations.erase("enc.1.pool");
  const auto run_missing = [&] {
    auto b = make_onednn_backend(missing, graph, 1, LayerPrecision::int8);
    std::vector<float> in(8 * 8), out(8 * 8);
    b->run(in.data(), 8, 8, out.data());
  };
  EXPECT_THROW(run_missing(), Error);
  if (!native_vnni()) {
    try {
      make_onednn_backend(quantised(cfg, 1, 8, true), graph, 1, LayerPrecision::int8);
      FAIL() << "8-bit weights accepted without VNNI";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--weight-bits 7"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace sira
