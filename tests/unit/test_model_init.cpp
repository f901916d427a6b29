// init_model: PyTorch's default initialisation bounds, reproducible by seed;
// scale_correction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "network_fixtures.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"

TEST(ModelInit, HasEveryTensorWithTheExpectedShape) {
  for (auto up : {sira::Upsample::bilinear, sira::Upsample::transposed}) {
    sira::TomoganConfig cfg;
    cfg.upsample = up;
    const sira::Model m = sira::init_model(cfg, 1);
    const auto specs = sira::expected_tensors(cfg);
    ASSERT_EQ(m.tensors.size(), specs.size());
    std::int64_t total = 0;
    for (const auto& s : specs) {
      EXPECT_EQ(m.tensor(s.name).shape, s.shape) << s.name;
      EXPECT_EQ(m.tensor(s.name).data.size(), m.tensor(s.name).numel()) << s.name;
      total += static_cast<std::int64_t>(m.tensor(s.name).numel());
    }
    EXPECT_EQ(total, sira::build_graph(cfg).parameters());
    EXPECT_FALSE(m.trained);
    EXPECT_EQ(m.info.at("seed"), "1");
  }
}

// PyTorch: kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
// bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Check the bound is respected and
// nearly reached, and the spread matches a uniform (variance bound^2 / 3).
TEST(ModelInit, FollowsPytorchDefaultBounds) {
  const sira::Model m = sira::init_model(sira::TomoganConfig{}, 42);
  struct Case {
    const char* weight;
    const char* bias;
    double fan_in;
  } cases[] = {{"stem.weight", "stem.bias", 3},
               {"enc.2.conv2.weight", "enc.2.conv2.bias", 128 * 9},
               {"dec.0.conv1.weight", "dec.0.conv1.bias", 256 * 9},
               {"head.conv2.weight", "head.conv2.bias", 16}};
  for (const auto& c : cases) {
    const double bound = 1.0 / std::sqrt(c.fan_in);
    for (const char* name : {c.weight, c.bias}) {
      const auto& d = m.tensor(name).data;
      const auto [lo, hi] = std::minmax_element(d.begin(), d.end());
      EXPECT_GE(*lo, -bound) << name;
      EXPECT_LE(*hi, bound) << name;
    }
    const auto& w = m.tensor(c.weight).data;
    if (w.size() > 10000) {
      double sum = 0, sq = 0;
      for (float v : w) sum += v, sq += double(v) * v;
      const double mean = sum / w.size(), var = sq / w.size() - mean * mean;
      EXPECT_NEAR(mean, 0.0, 0.02 * bound) << c.weight;
      EXPECT_NEAR(var, bound * bound / 3, 0.02 * bound * bound / 3) << c.weight;
      EXPECT_GT(*std::max_element(w.begin(), w.end()), 0.999 * bound) << c.weight;
    }
  }
}

TEST(ModelInit, TransposedUpsamplingUsesPytorchFanIn) {
  sira::TomoganConfig cfg;
  cfg.upsample = sira::Upsample::transposed;
  const sira::Model m = sira::init_model(cfg, 5);
  // ConvTranspose2d(128, 128, 2): PyTorch's fan_in is weight.size(1) * 2 * 2.
  const double bound = 1.0 / std::sqrt(128.0 * 4);
  const auto& w = m.tensor("dec.0.up.weight").data;
  const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
  EXPECT_GE(*lo, -bound);
  EXPECT_LE(*hi, bound);
  EXPECT_GT(*hi, 0.99 * bound);
}

TEST(ModelInit, DeterministicBySeed) {
  const sira::Model a = sira::init_model({}, 9), b = sira::init_model({}, 9), c = sira::init_model({}, 10);
  EXPECT_EQ(a.tensor("enc.1.conv1.weight").data, b.tensor("enc.1.conv1.weight").data);
  EXPECT_NE(a.tensor("enc.1.conv1.weight").data, c.tensor("enc.1.conv1.weight").data);
  // Distinct tensors do not repeat each other's stream.
  EXPECT_NE(a.tensor("enc.1.conv2.weight").data[0], a.tensor("enc.1.conv1.weight").data[0]);
  EXPECT_EQ(a.norm.mode, "per_image");
}

// scale_correction against the definition: output = input + factor * (untouched
// model's output - input), on the engine's ref backend.
TEST(ModelScaleCorrection, KeepsTheRestOfTheInput) {
  sira::Model model = sira::fixtures::he_scaled_model(sira::Upsample::bilinear, 4);
  model.config.residual = true;
  model.norm.mode = "fixed";
  const sira::Stack in = sira::fixtures::blob_image(1, 40, 48, 5);
  const double factor = 0.85;
  sira::Engine full(model, {.backend = "ref"});
  sira::Engine scaled(sira::scale_correction(model, factor), {.backend = "ref"});
  const sira::Stack a = full.denoise(in), b = scaled.denoise(in);
  double worst = 0, spread = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double want = in.data[i] + factor * (double(a.data[i]) - in.data[i]);
    worst = std::max(worst, std::abs(double(b.data[i]) - want));
    spread = std::max(spread, std::abs(double(a.data[i]) - in.data[i]));
  }
  EXPECT_GT(spread, 1e-2);  // the network does correct something
  EXPECT_LT(worst, 1e-5 * spread);
  EXPECT_THROW(sira::scale_correction(model, -0.5), sira::Error);
  EXPECT_THROW(sira::scale_correction(model, 11), sira::Error);
  model.config.residual = false;
  EXPECT_THROW(sira::scale_correction(model, 0.5), sira::Error);
}
