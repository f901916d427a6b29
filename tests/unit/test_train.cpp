// libtorch training: modules, losses, a short run that learns, bit-for-bit
// resume, and the errors on bad input.
#ifdef SIRA_HAVE_TORCH

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/metrics.hpp"
#include "sira/model.hpp"
#include "sira/train/trainer.hpp"
#include "train_fixtures.hpp"
#include "train/discriminator.hpp"
#include "train/generator.hpp"
#include "train/losses.hpp"

namespace fs = std::filesystem;
using namespace sira;

namespace {

using fixtures::ScratchDir;  // named "train_<test>"

// Smooth blobs (clean) and the same plus Gaussian noise (noisy).
Stack clean_slices(std::size_t depth, std::size_t h, std::size_t w, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Stack s(depth, h, w);
  for (std::size_t z = 0; z < depth; ++z)
    for (int blob = 0; blob < 4; ++blob) {
      const double cy = u(rng) * h, cx = u(rng) * w, r = 4 + 8 * u(rng), a = 0.5 + u(rng);
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
          s.at(z, y, x) += float(a * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * r * r)));
    }
  return s;
}

Stack add_noise(Stack s, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, 0.15f);
  for (float& v : s.data) v += n(rng);
  return s;
}

std::string write_pairs(const fs::path& file, std::size_t depth = 4, std::size_t h = 40, std::size_t w = 48,
                        bool with_test = true, std::size_t gt_width = 0) {
  H5File f = H5File::create(file.string());
  const Stack gt = clean_slices(depth, h, w, 1);
  f.write("train_ns", add_noise(gt, 2), DType::f32);
  f.write("train_gt", gt_width ? clean_slices(depth, h, gt_width, 1) : gt, DType::f32);
  if (with_test) {
    const Stack tgt = clean_slices(2, h, w, 3);
    f.write("test_ns", add_noise(tgt, 4), DType::f32);
    f.write("test_gt", tgt, DType::f32);
  }
  f.commit();
  return file.string();
}

train::TrainOptions tiny_options(const fs::path& dir, const std::string& pairs) {
  train::TrainOptions o;
  o.pairs = {pairs};
  o.output = (dir / "model.safetensors").string();
  o.crop = 32;
  o.batch = 2;
  o.iterations = 4;
  o.threads = 1;
  o.seed = 7;
  return o;
}

using fixtures::error_of;

}  // namespace

TEST(TrainModules, GeneratorHasTheModelFilesTensorsAndRoundTrips) {
  TomoganConfig cfg;
  cfg.slices = 1;
  train::Generator g(cfg);
  const Model m = init_model(cfg, 3);
  g->load_weights(m);
  const auto exported = g->export_weights();
  ASSERT_EQ(exported.size(), m.tensors.size());
  for (const auto& [name, t] : m.tensors) {
    ASSERT_TRUE(exported.count(name)) << name;
    EXPECT_EQ(exported.at(name).shape, t.shape) << name;
    EXPECT_EQ(exported.at(name).data, t.data) << name;
  }
  // Published TomoGAN with one input slice: the graph's own parameter count.
  std::int64_t n = 0;
  for (const auto& p : g->parameters()) n += p.numel();
  EXPECT_EQ(n, g->graph().parameters());
  auto y = g->forward(torch::zeros({2, 1, 24, 40}));
  EXPECT_EQ(y.sizes().vec(), (std::vector<std::int64_t>{2, 1, 24, 40}));
}

TEST(TrainModules, DiscriminatorFlattenFollowsTheCrop) {
  for (int crop : {32, 48}) {
    train::Discriminator d(crop);
    std::int64_t n = 0;
    for (const auto& p : d->parameters()) n += p.numel();
    const std::int64_t side = crop / 8;
    // Hand count: six 3x3 convs, then dense 4*(N/8)^2 -> 64 -> 1.
    const std::int64_t convs = (1 * 64 * 9 + 64) + (64 * 64 * 9 + 64) + (64 * 128 * 9 + 128) +
                               2 * (128 * 128 * 9 + 128) + (128 * 4 * 9 + 4);
    EXPECT_EQ(n, convs + (4 * side * side * 64 + 64) + (64 + 1)) << crop;
    EXPECT_EQ(d->forward(torch::zeros({3, 1, crop, crop})).sizes().vec(), (std::vector<std::int64_t>{3, 1}));
  }
  EXPECT_THROW(train::Discriminator(36), Error);
}

TEST(TrainLosses, SsimMatchesTheMetricsLibrary) {
  // sira::ssim (checked against scikit-image) averages over the interior that
  // excludes 5 pixels per border: exactly the valid region of the loss's window.
  torch::manual_seed(1);
  auto a = torch::rand({1, 1, 37, 45});
  auto b = (a + 0.2 * torch::randn({1, 1, 37, 45})).contiguous();
  const double expected = sira::ssim(a.data_ptr<float>(), b.data_ptr<float>(), 37, 45, 1.0);
  EXPECT_NEAR(train::ssim(a, b, 1.0).item<double>(), expected, 1e-5);
  EXPECT_NEAR(train::ssim(a, a, 1.0).item<double>(), 1.0, 1e-6);
}

// scikit-image's default structural_similarity written out as plain loops in
// double: 7 x 7 uniform window, covariances x 49/48, mean over the pixels whose
// whole window lies inside the image (skimage filters with reflection, then
// crops 3 pixels per border: the same pixels).
static double skimage_default_ssim(const float* a, const float* b, int h, int w, double range) {
  const double c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range);
  double sum = 0;
  int count = 0;
  for (int y = 3; y < h - 3; ++y)
    for (int x = 3; x < w - 3; ++x) {
      double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (int dy = -3; dy <= 3; ++dy)
        for (int dx = -3; dx <= 3; ++dx) {
          const double p = a[(y + dy) * w + x + dx], q = b[(y + dy) * w + x + dx];
          sa += p, sb += q, saa += p * p, sbb += q * q, sab += p * q;
        }
      const double n = 49, ma = sa / n, mb = sb / n;
      const double va = (saa / n - ma * ma) * n / (n - 1), vb = (sbb / n - mb * mb) * n / (n - 1);
      const double cov = (sab / n - ma * mb) * n / (n - 1);
      sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      ++count;
    }
  return sum / count;
}

TEST(TrainLosses, SsimUniform7MatchesScikitImagesDefault) {
  torch::manual_seed(3);
  auto a = torch::rand({2, 1, 31, 40});
  auto b = (a + 0.1 * torch::randn({2, 1, 31, 40})).contiguous();
  const double r0 = 1.0, r1 = 0.3;
  const std::size_t plane = 31 * 40;
  const double s0 = skimage_default_ssim(a.data_ptr<float>(), b.data_ptr<float>(), 31, 40, r0);
  const double s1 = skimage_default_ssim(a.data_ptr<float>() + plane, b.data_ptr<float>() + plane, 31, 40, r1);
  EXPECT_NEAR(train::ssim_uniform7(a, b, torch::tensor({float(r0), float(r1)})).item<double>(), (s0 + s1) / 2, 1e-5);
  EXPECT_NEAR(train::ssim_uniform7(a, a, torch::tensor({1.0f, 1.0f})).item<double>(), 1.0, 1e-6);
  // The two windows are different measures: they differ on this pair.
  EXPECT_GT(std::abs(train::ssim(a, b, 1.0).item<double>() - train::ssim_uniform7(a, b, torch::ones({2})).item<double>()),
            1e-3);
  // The loss by name.
  auto loss = train::make_perceptual_loss("ssim-uniform7");
  EXPECT_NEAR(loss->operator()(a, b, torch::tensor({float(r0), float(r1)})).item<double>(), 1 - (s0 + s1) / 2, 1e-5);
  EXPECT_EQ(train::make_perceptual_loss("ssim")->describe(), "ssim(clean split range)");
}

TEST(TrainLosses, SsimTakesOneDataRangePerCrop) {
  // Each batch element is scored with its own range, as the metrics library
  // scores each image with its own (the mean over equal-sized crops).
  torch::manual_seed(2);
  auto a = torch::rand({2, 1, 33, 29});
  auto b = (a + 0.05 * torch::randn({2, 1, 33, 29})).contiguous();
  const double r0 = 1.0, r1 = 0.1;  // a small range punishes the same noise harder
  const std::size_t plane = 33 * 29;
  const double s0 = sira::ssim(a.data_ptr<float>(), b.data_ptr<float>(), 33, 29, r0);
  const double s1 = sira::ssim(a.data_ptr<float>() + plane, b.data_ptr<float>() + plane, 33, 29, r1);
  EXPECT_NEAR(train::ssim(a, b, torch::tensor({float(r0), float(r1)})).item<double>(), (s0 + s1) / 2, 1e-5);
  EXPECT_LT(s1, s0);
}

TEST(TrainLosses, AdversarialIsBinaryCrossEntropyWithLogits) {
  auto logits = torch::tensor({0.0f, 2.0f});
  // Hand values: -log(sigmoid(0)) = log 2, -log(sigmoid(2)) = log(1 + e^-2).
  EXPECT_NEAR(train::adversarial_loss(logits, true).item<double>(), (std::log(2.0) + std::log1p(std::exp(-2.0))) / 2,
              1e-6);
  EXPECT_NEAR(train::adversarial_loss(logits, false).item<double>(), (std::log(2.0) + std::log1p(std::exp(2.0))) / 2,
              1e-6);
}

TEST(Train, ShortRunLowersThePixelLossAndExportsATrainedModel) {
  const ScratchDir scratch("train_learn");
  const auto& dir = scratch.path;
  auto o = tiny_options(dir, write_pairs(dir / "pairs.h5"));
  o.iterations = 40;
  o.lr = 1e-3;
  // A weak adversarial term: with the published weight (20) and this rate the
  // pixel loss of a 40-step run depends on the CPU's rounding (it rose on an
  // AVX-512 machine); the discriminator still trains and is checked below.
  o.weights.adversarial = 1.0;
  o.slices = 3;
  o.log_csv = (dir / "log.csv").string();
  o.plot_png = (dir / "log.png").string();
  const auto report = train::train(o);
  ASSERT_EQ(report.history.size(), 40u);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += report.history[i].g_mse, last += report.history[35 + i].g_mse;
  EXPECT_LT(last, 0.7 * first);
  EXPECT_GT(report.history.back().d_loss, 0.0);  // the discriminator took part
  EXPECT_GE(report.history.back().val_ssim, 0.0);  // validated at the end
  EXPECT_TRUE(fs::exists(o.log_csv));
  EXPECT_TRUE(fs::exists(o.plot_png));
  const Model m = load_model(o.output);
  EXPECT_TRUE(m.trained);
  EXPECT_EQ(m.config.slices, 3);
  EXPECT_EQ(m.norm.mode, "fixed");
  EXPECT_GT(m.norm.scale, 0.0);
  EXPECT_EQ(m.info.at("iterations"), "40");
  EXPECT_EQ(m.info.at("seed"), "7");
}

// The resumed run must follow the checkpoint (weights, optimisers, sampler and
// normalisation), whatever the resuming command says about normalisation.
void check_resume_reproduces(const std::string& mode) {
  const ScratchDir scratch("train_resume_" + mode);
  const auto& dir = scratch.path;
  const auto pairs = write_pairs(dir / "pairs.h5");
  auto whole = tiny_options(dir, pairs);
  whole.iterations = 6;
  whole.normalization = mode;
  // threads = 1: fast under a loaded machine (2 threads also reproduce bit for bit).
  whole.output = (dir / "whole.safetensors").string();
  const auto a = train::train(whole);

  auto first = whole;
  first.iterations = 3;
  first.output = (dir / "half.safetensors").string();
  train::train(first);
  auto second = whole;
  second.output = (dir / "resumed.safetensors").string();
  second.resume = first.output + ".ckpt";
  second.normalization = mode == "fixed" ? "per_image" : "fixed";
  const auto b = train::train(second);

  EXPECT_EQ(b.start_iteration, 3);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (std::size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].g_total, b.history[i].g_total) << i;
    EXPECT_EQ(a.history[i].d_loss, b.history[i].d_loss) << i;
  }
  const Model ma = load_model(whole.output), mb = load_model(second.output);
  ASSERT_EQ(ma.tensors.size(), mb.tensors.size());
  for (const auto& [name, t] : ma.tensors) EXPECT_EQ(t.data, mb.tensor(name).data) << name;
  EXPECT_EQ(ma.norm.offset, mb.norm.offset);
  EXPECT_EQ(ma.norm.scale, mb.norm.scale);
  EXPECT_EQ(mb.norm.mode, mode);
}

TEST(Train, ResumeReproducesTheUninterruptedRunBitForBit) { check_resume_reproduces("fixed"); }

TEST(Train, ResumeWithPerImageNormalisationReproducesTheRun) { check_resume_reproduces("per_image"); }

TEST(Train, InitFineTunesAndKeepsTheModelsNormalisation) {
  const ScratchDir scratch("train_init");
  const auto& dir = scratch.path;
  auto base = tiny_options(dir, write_pairs(dir / "pairs.h5"));
  base.iterations = 1;
  base.slices = 1;
  train::train(base);
  const Model a = load_model(base.output);

  // Other data (another normalisation would be fitted) fine-tuning model a.
  auto tune = tiny_options(dir, write_pairs(dir / "other.h5", 3, 48, 48, false));
  tune.iterations = 1;
  tune.init = base.output;
  tune.output = (dir / "tuned.safetensors").string();
  train::train(tune);
  const Model b = load_model(tune.output);
  EXPECT_EQ(b.config.slices, 1);
  EXPECT_EQ(b.norm.offset, a.norm.offset);
  EXPECT_EQ(b.norm.scale, a.norm.scale);
  EXPECT_EQ(b.info.at("init"), fs::path(base.output).filename().string());

  // A 1-slice model starts a 3-slice one (its neighbours' weights start at zero)...
  auto widened = tune;
  widened.slices = 3;
  widened.output = (dir / "widened.safetensors").string();
  train::train(widened);
  EXPECT_EQ(load_model(widened.output).config.slices, 3);
  // ...but a 3-slice model cannot be narrowed to one.
  auto wrong = tune;
  wrong.init = widened.output;
  wrong.slices = 1;
  EXPECT_NE(error_of(wrong).find("model takes 3 slices, --slices asked for 1"), std::string::npos)
      << error_of(wrong);
}

TEST(Train, BadInputIsAClearError) {
  const ScratchDir scratch("train_bad");
  const auto& dir = scratch.path;
  const auto pairs = write_pairs(dir / "pairs.h5");
  auto o = tiny_options(dir, pairs);
  o.iterations = 1;

  auto missing = o;
  missing.pairs = {write_pairs(dir / "no_test.h5", 4, 40, 48, false)};
  missing.validate_every = 1;
  EXPECT_NE(error_of(missing).find("no dataset 'test_ns'"), std::string::npos) << error_of(missing);

  auto mismatched = o;
  mismatched.pairs = {write_pairs(dir / "mismatch.h5", 4, 40, 48, true, 56)};
  EXPECT_NE(error_of(mismatched).find("train_ns is 4x40x48 but train_gt is 4x40x56"), std::string::npos)
      << error_of(mismatched);

  auto too_big = o;
  too_big.crop = 48;  // images are 40 high
  EXPECT_NE(error_of(too_big).find("larger than the training images"), std::string::npos) << error_of(too_big);

  auto odd = o;
  odd.crop = 20;
  EXPECT_NE(error_of(odd).find("multiple of 8"), std::string::npos) << error_of(odd);

  auto no_file = o;
  no_file.pairs = {(dir / "absent.h5").string()};
  EXPECT_NE(error_of(no_file).find("absent.h5"), std::string::npos) << error_of(no_file);

  // A 3-slice checkpoint resumed as a 1-slice run.
  auto three = o;
  three.slices = 3;
  train::train(three);
  auto other = o;
  other.slices = 1;
  other.iterations = 2;
  other.resume = three.output + ".ckpt";
  EXPECT_NE(error_of(other).find("different architecture"), std::string::npos) << error_of(other);

  auto not_ckpt = o;
  not_ckpt.resume = pairs;
  EXPECT_NE(error_of(not_ckpt).find("checkpoint"), std::string::npos) << error_of(not_ckpt);

  auto bad_perceptual = o;
  bad_perceptual.perceptual = pairs;
  EXPECT_NE(error_of(bad_perceptual).find("TorchScript"), std::string::npos) << error_of(bad_perceptual);
}

#endif  // SIRA_HAVE_TORCH
