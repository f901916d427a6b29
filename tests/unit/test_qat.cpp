// Quantisation-aware training (sira train --qat): the torch fake-quantisers
// against the scalar formulas of sira/quant.hpp (the spec), the fake-quantised
// generator against the ref int8 engine on the exported model, a short QAT run,
// resume, and the errors on bad use.
#ifdef SIRA_HAVE_TORCH

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/model.hpp"
#include "sira/quant.hpp"
#include "sira/quantize.hpp"
#include "sira/train/trainer.hpp"
#include "train_fixtures.hpp"
#include "train/fake_quant.hpp"
#include "train/generator.hpp"
#include "network_fixtures.hpp"

namespace fs = std::filesystem;
using namespace sira;

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::vector<float> values_of(const torch::Tensor& t) {
  auto c = t.detach().contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Random values over the representable range and 3 steps beyond each end, plus
// every exact tie x * inv + zp = k + 0.5 (exact when s is a power of two).
std::vector<float> activation_samples(const ActivationParams& p, unsigned seed) {
  std::mt19937 rng(seed);
  const double lo = (-p.zero_point - 3) * double(p.scale), hi = (258 - p.zero_point) * double(p.scale);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> x;
  for (int i = 0; i < 4000; ++i) x.push_back(float(u(rng)));
  for (int k = -3; k < 258; ++k) x.push_back(float((k + 0.5 - p.zero_point) * double(p.scale)));
  x.push_back(0.0f);
  return x;
}

}  // namespace

TEST(QatFakeQuant, ActivationEqualsTheScalarFormulasBitForBitIncludingTies) {
  const std::vector<ActivationParams> cases = {{0.25f, 3}, {0.0137f, 0}, {0.05f, 200}, {float(1.0 / 3.0), 17}};
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const ActivationParams& p = cases[c];
    const auto x = activation_samples(p, unsigned(c));
    const auto xt = torch::from_blob(const_cast<float*>(x.data()), {std::int64_t(x.size())}, torch::kFloat32);
    const auto fq = values_of(train::fake_quantize_activation(xt, p));
    const auto codes = values_of(train::activation_codes(xt, p));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::uint8_t q = quant::quantize(x[i], p);
      ASSERT_EQ(codes[i], float(q)) << "x " << x[i] << " case " << c;
      ASSERT_TRUE(same_bits(fq[i], quant::dequantize(q, p))) << "x " << x[i] << " case " << c;
    }
  }
  // Hand values at ties (s = 0.25, zp = 3): the zero point is added before
  // rounding, half to even: 0.125 -> 3.5 -> 4, 0.375 -> 4.5 -> 4, -0.125 -> 2.5 -> 2.
  const auto t = train::fake_quantize_activation(torch::tensor({0.125f, 0.375f, -0.125f}), {0.25f, 3});
  EXPECT_EQ(values_of(t), (std::vector<float>{0.25f, 0.25f, -0.25f}));
}

TEST(QatFakeQuant, ActivationGradientIsIdentityInsideTheRangeAndZeroOutside) {
  const ActivationParams p{0.1f, 10};  // codes 0..255 cover [-1.0, 24.5]
  auto x = torch::tensor({-2.0f, -0.9f, 0.0f, 3.3f, 24.4f, 30.0f}).requires_grad_(true);
  auto y = train::fake_quantize_activation(x, p);
  (y * torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f})).sum().backward();
  EXPECT_EQ(values_of(x.grad()), (std::vector<float>{0.f, 2.f, 3.f, 4.f, 5.f, 0.f}));
}

TEST(QatFakeQuant, WeightsAndBiasEqualTheScalarFormulas) {
  torch::manual_seed(3);
  for (int qmax : {127, 63})
    for (bool per_channel : {true, false})
      for (int dim : {0, 1}) {  // conv [out, in, k, k] and transposed [in, out, 2, 2]
        auto w = dim == 0 ? torch::randn({5, 3, 3, 3}) : torch::randn({3, 5, 2, 2});
        w.select(dim, 2).zero_();  // an all-zero channel: scale 1
        w = w.contiguous().requires_grad_(true);
        const auto s = train::weight_scales(w, qmax, per_channel, dim);
        const auto fq = values_of(train::fake_quantize_weight(w, s, qmax, dim));
        const auto wv = values_of(w);
        const auto channel = [&](std::size_t i) { return dim == 0 ? i / 27 : (i / 4) % 5; };
        // Independent per-channel max |w| -> float scale -> rounded weights.
        std::vector<double> max_abs(per_channel ? 5 : 1, 0.0);
        for (std::size_t i = 0; i < wv.size(); ++i) {
          double& m = max_abs[per_channel ? channel(i) : 0];
          m = std::max(m, std::fabs(double(wv[i])));
        }
        const auto sv = values_of(s);
        ASSERT_EQ(sv.size(), max_abs.size());
        for (std::size_t c = 0; c < sv.size(); ++c) EXPECT_EQ(sv[c], quant::weight_scale(max_abs[c], qmax));
        if (per_channel) {
          EXPECT_EQ(sv[2], 1.0f);
        }
        for (std::size_t i = 0; i < wv.size(); ++i) {
          const float sc = sv[per_channel ? channel(i) : 0];
          ASSERT_TRUE(same_bits(fq[i], float(quant::quantize_weight(wv[i], sc, qmax)) * sc)) << i;
        }
        // Bias: the int32 code of b / (s_in s_w), dequantised as load_model does.
        const auto b = torch::randn({5}) * 0.3;
        const float s_in = 0.0421f;
        const auto fb = values_of(train::fake_quantize_bias(b, s_in, s));
        const auto bv = values_of(b);
        for (std::size_t c = 0; c < 5; ++c) {
          const float sc = sv[per_channel ? c : 0];
          const std::int32_t q = quant::quantize_bias(bv[c], s_in, sc);
          EXPECT_TRUE(same_bits(fb[c], float(double(q) * double(s_in) * double(sc)))) << c;
        }
        // Straight-through: the weight gradient is the identity.
        train::fake_quantize_weight(w, s, qmax, dim).sum().backward();
        EXPECT_TRUE(torch::equal(w.grad(), torch::ones_like(w)));
      }
  // Bias ties round half to even: s_in * s_w = 0.5 * 0.25, b = (k + 0.5) / 8.
  const auto fb = values_of(train::fake_quantize_bias(torch::tensor({0.0625f, 0.1875f, -0.0625f}), 0.5f,
                                                      torch::tensor({0.25f})));
  EXPECT_EQ(fb, (std::vector<float>{0.0f, 0.25f, 0.0f}));
}

TEST(QatFakeQuant, BilinearUpsampleRoundsTheInterpolatedCodesOnce) {
  const ActivationParams p{0.1f, 7};
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> code(0, 255);
  const int h = 3, w = 4;
  std::vector<float> q(2 * h * w), x(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = float(code(rng)), x[i] = quant::dequantize(std::uint8_t(q[i]), p);
  const auto out = values_of(train::fake_quantize_bilinear_upsample(torch::from_blob(x.data(), {1, 2, h, w}), p));
  // PyTorch align_corners=False taps: source (o + 0.5) / 2 - 0.5, clamped at 0.
  const auto taps = [](int o, int n, int& i0, int& i1, double& l) {
    const double src = std::max((o + 0.5) / 2 - 0.5, 0.0);
    i0 = int(src), i1 = std::min(i0 + 1, n - 1), l = src - i0;
  };
  int ties = 0;
  for (int c = 0; c < 2; ++c)
    for (int oy = 0; oy < 2 * h; ++oy)
      for (int ox = 0; ox < 2 * w; ++ox) {
        int y0, y1, x0, x1;
        double ly, lx;
        taps(oy, h, y0, y1, ly);
        taps(ox, w, x0, x1, lx);
        const auto at = [&](int y, int xx) { return double(q[std::size_t((c * h + y) * w + xx)]); };
        const double v = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        ties += v - std::floor(v) == 0.5;
        const auto expected = quant::dequantize(std::uint8_t(std::nearbyint(v)), p);
        ASSERT_TRUE(same_bits(out[std::size_t((c * 2 * h + oy) * 2 * w + ox)], expected)) << c << " " << oy << " " << ox;
      }
  EXPECT_GT(ties, 0);  // the half-to-even case was exercised
}

namespace {

using fixtures::blob_image;

// A random 2-level TomoGAN with He's gain (network_fixtures.hpp says why).
Model random_model(Upsample up) {
  Model m = fixtures::he_scaled_model(up, 11);
  m.norm = Normalization{};  // fixed, offset 0, scale 1: the engine feeds the image itself, as the test does
  return m;
}

// Calibrated parameters moved at random (scales x0.6..1.2, so some values
// clip; zero points of signed tensors shifted), one move per shared group so
// the concat/pool/upsample constraints still hold.
std::map<std::string, ActivationParams> random_params(const Model& m, const Stack& calib, unsigned seed) {
  QuantizeOptions o;
  o.method = "minmax";
  o.threads = 2;
  auto params = calibrate(m, {{"calib", calib}}, o);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> factor(0.6f, 1.2f);
  std::uniform_int_distribution<int> shift(-5, 5);
  std::map<std::pair<float, int>, ActivationParams> moved;
  for (auto& [name, p] : params) {
    auto key = std::make_pair(p.scale, p.zero_point);
    if (!moved.count(key))
      moved[key] = {p.scale * factor(rng), p.zero_point ? std::clamp(p.zero_point + shift(rng), 1, 255) : 0};
    p = moved[key];
  }
  return params;
}

}  // namespace

// The QAT generator's eval forward (libtorch, fake quantisation) against the
// engine's ref int8 executor running the exported int8 model (integer
// arithmetic, docs/quantization.md). They compute the same codes except where a
// conv's float sum of dequantised products (relative error ~1e-7 of the sum of
// |terms|) and the exact int32 sum times M fall on opposite sides of a rounding
// boundary: that code differs by one, and the flip nudges every later value in
// its receptive field.
TEST(QatGenerator, FakeQuantForwardMatchesTheRefInt8EngineOnTheExportedModel) {
  const Stack calib = blob_image(1, 48, 64, 1), image = blob_image(1, 48, 64, 2);
  for (auto up : {Upsample::bilinear, Upsample::transposed})
    for (int bits : {8, 7}) {
      const Model m = random_model(up);
      const auto params = random_params(m, calib, unsigned(bits));
      QuantizeOptions qo;
      qo.weight_bits = bits;
      const Model q = quantize_weights(m, params, qo);
      const Stack int8 = Engine(q, {.backend = "ref", .precision = Precision::int8, .threads = 2, .tile = 0, .observer = {}})
                             .denoise(image);
      const Stack fp32 = Engine(m, {.backend = "ref", .precision = Precision::fp32, .threads = 2, .tile = 0, .observer = {}})
                             .denoise(image);

      train::Generator g(m.config);
      g->load_weights(m);  // the fp32 weights: fake quantisation rounds them as quantize_weights did
      g->set_fake_quant({params, bits == 7 ? 63 : 127, true});
      g->eval();
      torch::NoGradGuard no_grad;
      const auto x = torch::from_blob(const_cast<float*>(image.data.data()), {1, 1, 48, 64}, torch::kFloat32);
      const auto fq = values_of(g->forward(x));

      // Output step: a one-code change of head.conv2's input moves an output by
      // s_in * w, at most s_in * max|w| = s_in * s_w * qmax.
      const float s_in = params.at("head.conv1").scale;
      const float step = s_in * q.quant->layers.at("head.conv2").scale(0) * float(qo.weight_bits == 7 ? 63 : 127);
      // The final conv itself sums ~16 float products (relative error ~1e-6 of
      // the sum of |terms|) where the engine sums integers: equal means within
      // 1e-4 of the output's magnitude.
      double magnitude = 0;
      for (float v : int8.data) magnitude = std::max(magnitude, std::fabs(double(v)));
      std::size_t same = 0;
      double max_diff = 0, max_fp32_diff = 0;
      for (std::size_t i = 0; i < fq.size(); ++i) {
        const double d = std::fabs(double(fq[i]) - int8.data[i]);
        same += d <= 1e-4 * magnitude;
        max_diff = std::max(max_diff, d);
        max_fp32_diff = std::max(max_fp32_diff, std::fabs(double(fp32.data[i]) - int8.data[i]));
      }
      const double frac = double(same) / double(fq.size());
      double sum_diff = 0, sum_fp32 = 0;
      for (std::size_t i = 0; i < fq.size(); ++i) {
        sum_diff += std::fabs(double(fq[i]) - int8.data[i]);
        sum_fp32 += std::fabs(double(fp32.data[i]) - int8.data[i]);
      }
      std::printf("[ info ] %s %d-bit: %.4f%% equal, max diff %.3g (output step %.3g), mean diff %.3g; "
                  "fp32 vs int8: max %.3g, mean %.3g\n",
                  upsample_name(up), bits, 100 * frac, max_diff, step, sum_diff / double(fq.size()), max_fp32_diff,
                  sum_fp32 / double(fq.size()));
      // Measured (these seeds): 80-99.97 % of the outputs equal, max 4.2 steps,
      // mean difference 1e-4..0.09 of the int8 error itself. A flipped code
      // changes every output in its receptive field a little, so the equal
      // fraction says how rare flips are: 80 % equal with ~5e5 codes in an
      // output's receptive field means ~5e-7 flips per code. A systematic
      // mismatch (a wrong scale, rounding mode or zero point) would change most
      // outputs by about the int8 error itself.
      EXPECT_GE(frac, 0.70) << upsample_name(up) << " " << bits << "-bit";
      EXPECT_LE(max_diff, 8.0 * step) << upsample_name(up) << " " << bits << "-bit";
      EXPECT_LE(sum_diff, 0.2 * sum_fp32) << upsample_name(up) << " " << bits << "-bit";
    }
}

namespace {

using fixtures::ScratchDir;  // named "qat_<test>"

// Pairs: blobs (clean) and blobs plus Gaussian noise (noisy).
std::string write_pairs(const fs::path& file) {
  H5File f = H5File::create(file.string());
  const auto noisy = [](Stack s, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.f, 0.15f);
    for (float& v : s.data) v += n(rng);
    return s;
  };
  const Stack gt = blob_image(4, 40, 48, 1), tgt = blob_image(2, 40, 48, 3);
  f.write("train_ns", noisy(gt, 2), DType::f32);
  f.write("train_gt", gt, DType::f32);
  f.write("test_ns", noisy(tgt, 4), DType::f32);
  f.write("test_gt", tgt, DType::f32);
  f.commit();
  return file.string();
}

train::TrainOptions qat_options(const fs::path& dir) {
  TomoganConfig cfg;
  cfg.slices = 1;
  const std::string init = (dir / "init.sira").string();
  if (!fs::exists(init)) save_model(init_model(cfg, 5), init);
  train::TrainOptions o;
  o.pairs = {fs::exists(dir / "pairs.h5") ? (dir / "pairs.h5").string() : write_pairs(dir / "pairs.h5")};
  o.output = (dir / "qat.sira").string();
  o.init = init;
  o.crop = 32;
  o.batch = 2;
  o.iterations = 4;
  o.threads = 1;
  o.seed = 7;
  o.qat.enabled = true;
  o.qat.weight_bits = 7;
  return o;
}

using fixtures::error_of;

}  // namespace

TEST(Qat, ShortRunLowersThePixelLossAndExportsAnInt8Model) {
  const ScratchDir scratch("qat_learn");
  auto o = qat_options(scratch.path);
  o.iterations = 40;
  o.lr = 1e-3;
  const auto report = train::train(o);
  ASSERT_EQ(report.history.size(), 40u);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += report.history[i].g_mse, last += report.history[35 + i].g_mse;
  EXPECT_LT(last, 0.7 * first);
  const Model m = load_model(o.output);
  ASSERT_TRUE(m.quant.has_value());
  EXPECT_EQ(m.quant->method, "qat+percentile");
  EXPECT_EQ(m.quant->weight_bits, 7);
  EXPECT_NE(m.info.at("qat").find("iterations=40"), std::string::npos) << m.info.at("qat");
  EXPECT_EQ(m.info.at("init"), fs::path(o.init).filename().string());  // a file name, no machine path
  for (const auto& [name, l] : m.quant->layers)
    for (auto v : l.weight) ASSERT_LE(std::abs(int(v)), 63) << name;
  // The exported file runs on the int8 engine.
  const Stack out = Engine(m, {.backend = "ref", .precision = Precision::int8, .threads = 1, .tile = 0, .observer = {}})
                        .denoise(blob_image(1, 40, 48, 9));
  for (float v : out.data) ASSERT_TRUE(std::isfinite(v));
}

TEST(Qat, ResumeReproducesTheUninterruptedRunBitForBit) {
  const ScratchDir scratch("qat_resume");
  auto whole = qat_options(scratch.path);
  whole.qat.equalize = true;
  whole.qat.per_channel = false;
  whole.output = (scratch.path / "whole.sira").string();
  const auto a = train::train(whole);
  auto half = whole;
  half.iterations = 2;
  half.output = (scratch.path / "half.sira").string();
  train::train(half);
  auto resumed = whole;
  resumed.output = (scratch.path / "resumed.sira").string();
  resumed.resume = half.output + ".ckpt";
  const auto b = train::train(resumed);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (std::size_t i = 0; i < a.history.size(); ++i) EXPECT_EQ(a.history[i].g_total, b.history[i].g_total) << i;
  const Model ma = load_model(whole.output), mb = load_model(resumed.output);
  EXPECT_EQ(ma.quant->activations, mb.quant->activations);
  for (const auto& [name, l] : ma.quant->layers) {
    EXPECT_EQ(l.weight, mb.quant->layers.at(name).weight) << name;
    EXPECT_EQ(l.bias, mb.quant->layers.at(name).bias) << name;
  }
}

TEST(Qat, BadUseIsAClearError) {
  const ScratchDir scratch("qat_bad");
  const auto o = qat_options(scratch.path);

  auto no_init = o;
  no_init.init.clear();
  EXPECT_NE(error_of(no_init).find("--qat needs --init MODEL"), std::string::npos) << error_of(no_init);

  auto int8_init = o;
  QuantizeOptions qo;
  qo.threads = 1;
  save_model(quantize_model(load_model(o.init), {{"c", blob_image(1, 32, 32, 1)}}, qo),
             (scratch.path / "int8.sira").string());
  int8_init.init = (scratch.path / "int8.sira").string();
  EXPECT_NE(error_of(int8_init).find("already quantised"), std::string::npos) << error_of(int8_init);

  auto stray = o;
  stray.qat.enabled = false;
  EXPECT_NE(error_of(stray).find("only apply with --qat"), std::string::npos) << error_of(stray);

  auto bad_calib = o;
  bad_calib.qat.calib_slices = 0;
  EXPECT_NE(error_of(bad_calib).find("--calib-slices"), std::string::npos) << error_of(bad_calib);

  // A plain fine-tuning checkpoint does not fit a --qat run, nor the reverse.
  auto plain = o;
  plain.qat = {};
  plain.iterations = 1;
  plain.output = (scratch.path / "plain.sira").string();
  train::train(plain);
  auto resume_plain = o;
  resume_plain.resume = plain.output + ".ckpt";
  EXPECT_NE(error_of(resume_plain).find("different architecture"), std::string::npos) << error_of(resume_plain);
  auto qat = o;
  qat.iterations = 1;
  train::train(qat);
  auto resume_qat = plain;
  resume_qat.iterations = 2;
  resume_qat.resume = qat.output + ".ckpt";
  EXPECT_NE(error_of(resume_qat).find("different architecture"), std::string::npos) << error_of(resume_qat);
}

#endif  // SIRA_HAVE_TORCH
