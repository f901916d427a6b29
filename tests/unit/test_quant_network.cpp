// Whole networks at reduced precision: a random TomoGAN quantised to int8
// (and run in bf16) stays within a PSNR bound of its fp32 output
// (docs/quantization.md, "Accuracy bounds" explains the bounds); tiling is
// exact; calibration refuses unusable sets; bad precisions are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"
#include "sira/quantize.hpp"

namespace {

sira::Model random_model(sira::Upsample up, int slices = 1) {
  sira::TomoganConfig cfg;
  sira::parse_widths("8,16,32,32,16,16,8", cfg);  // 2 levels, every kind of node
  cfg.slices = slices;
  cfg.upsample = up;
  sira::Model m = sira::init_model(cfg, 11);
  // PyTorch's default init (std 1/sqrt(3 fan_in)) shrinks the signal ~1.7x per
  // ReLU layer, so an untrained net's output would be nearly constant and any
  // rounding would look huge against its tiny range. Scaling the weights by
  // sqrt(6) gives He's gain (std sqrt(2/fan_in)), which keeps the signal's
  // size through the layers as a trained network does.
  for (auto& [name, t] : m.tensors)
    if (name.ends_with(".weight"))
      for (float& v : t.data) v *= std::sqrt(6.0f);
  return m;
}

// A smooth random image with features at several scales (blobs plus noise),
// like a reconstructed slice.
sira::Stack test_image(std::size_t depth, std::size_t h, std::size_t w, unsigned seed) {
  sira::Stack s(depth, h, w);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (std::size_t d = 0; d < depth; ++d) {
    float cx[6], cy[6], r[6];
    for (int i = 0; i < 6; ++i) cx[i] = u(rng) * w, cy[i] = u(rng) * h, r[i] = 3 + u(rng) * h / 4;
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) {
        float v = 0.05f * u(rng);
        for (int i = 0; i < 6; ++i) {
          const float dx = (x - cx[i]) / r[i], dy = (y - cy[i]) / r[i];
          v += std::exp(-(dx * dx + dy * dy));
        }
        s.at(d, y, x) = v;
      }
  }
  return s;
}

double psnr(const sira::Stack& a, const sira::Stack& ref) {
  float lo = ref.data[0], hi = ref.data[0];
  double mse = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    lo = std::min(lo, ref.data[i]);
    hi = std::max(hi, ref.data[i]);
    mse += (double(a.data[i]) - ref.data[i]) * (double(a.data[i]) - ref.data[i]);
  }
  mse /= double(ref.size());
  return 10 * std::log10(double(hi - lo) * double(hi - lo) / mse);
}

sira::Stack run(const sira::Model& m, const std::string& precision, const sira::Stack& in, std::size_t tile = 0) {
  sira::Engine e(m, {.backend = "ref", .precision = precision, .threads = 2, .tile = tile});
  return e.denoise(in);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sira::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

// int8 vs fp32 on an image the calibration did not see (same kind of data).
TEST(QuantNetwork, Int8StaysWithinThePsnrBoundOfFp32) {
  const sira::Stack calib = test_image(2, 64, 64, 1), image = test_image(1, 64, 64, 2);
  for (auto up : {sira::Upsample::bilinear, sira::Upsample::nearest, sira::Upsample::transposed}) {
    const sira::Model m = random_model(up);
    const sira::Stack f32 = run(m, "fp32", image);
    for (const char* method : {"minmax", "percentile"}) {
      sira::QuantizeOptions o;
      o.method = method;
      o.threads = 2;
      const sira::Model q = sira::quantize_model(m, {{"calib", calib}}, o);
      const double p = psnr(run(q, "int8", image), f32);
      EXPECT_GE(p, 35.0) << upsample_name(up) << " " << method;
      // An int8 model run at fp32 uses the dequantised weights only: the
      // weight error alone is smaller than weight + activation error.
      EXPECT_GT(psnr(run(q, "fp32", image), f32), p) << upsample_name(up) << " " << method;
    }
  }
}

TEST(QuantNetwork, Bf16StaysWithinThePsnrBoundOfFp32) {
  const sira::Stack image = test_image(1, 64, 64, 2);
  const sira::Model m = random_model(sira::Upsample::bilinear, 3);
  EXPECT_GE(psnr(run(m, "bf16", image), run(m, "fp32", image)), 40.0);
}

TEST(QuantNetwork, TiledInt8EqualsUntiledExactly) {
  const sira::Stack image = test_image(1, 72, 80, 3);
  sira::QuantizeOptions o;
  o.threads = 2;
  const sira::Model q = sira::quantize_model(random_model(sira::Upsample::bilinear), {{"c", image}}, o);
  const sira::Stack whole = run(q, "int8", image), tiled = run(q, "int8", image, 32);
  EXPECT_EQ(whole.data, tiled.data);
}

TEST(QuantNetwork, MixedPrecisionLayerRunsOnDequantisedInput) {
  const sira::Stack image = test_image(1, 64, 64, 4);
  sira::QuantizeOptions o;
  o.threads = 2;
  const sira::Model m = random_model(sira::Upsample::transposed);
  sira::Model q = sira::quantize_model(m, {{"c", image}}, o);
  const sira::Stack f32 = run(m, "fp32", image);
  // Keep the final conv and the transposed upsampler in fp32 (original weights).
  for (const char* layer : {"head.conv2", "dec.0.up"}) {
    q.quant->layers[layer] = {sira::LayerPrecision::fp32, {}, {}, {}};
    q.tensors[std::string(layer) + ".weight"] = m.tensor(std::string(layer) + ".weight");
    q.tensors[std::string(layer) + ".bias"] = m.tensor(std::string(layer) + ".bias");
  }
  EXPECT_GE(psnr(run(q, "int8", image), f32), 35.0);
}

TEST(QuantNetwork, RefusesUnusablePrecisionsAndCalibrationSets) {
  const sira::Model m = random_model(sira::Upsample::bilinear);
  EXPECT_NE(message_of([&] { run(m, "int8", test_image(1, 16, 16, 1)); }).find("needs a quantised model"),
            std::string::npos);
  EXPECT_NE(message_of([&] { run(m, "fp16", test_image(1, 16, 16, 1)); }).find("unknown"), std::string::npos);
  sira::QuantizeOptions o;
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {}, o); }).find("calibration set is empty"),
            std::string::npos);
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {{"none", sira::Stack()}}, o); }).find("empty"),
            std::string::npos);
  sira::Stack flat(2, 16, 16);
  std::fill(flat.data.begin(), flat.data.end(), 3.0f);
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {{"flat.tif", flat}}, o); }).find("constant"),
            std::string::npos);
  sira::Stack bad = test_image(2, 16, 16, 1);
  bad.at(1, 2, 3) = NAN;
  const std::string msg = message_of([&] { sira::quantize_model(m, {{"bad.npy", bad}}, o); });
  EXPECT_NE(msg.find("bad.npy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("slice 1, row 2, column 3"), std::string::npos) << msg;
  bad.at(1, 2, 3) = INFINITY;
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {{"inf.npy", bad}}, o); }).find("non-finite"),
            std::string::npos);
  const sira::Model q = sira::quantize_model(m, {{"c", test_image(1, 16, 16, 1)}}, o);
  EXPECT_NE(message_of([&] { sira::quantize_model(q, {{"c", test_image(1, 16, 16, 1)}}, o); }).find("already"),
            std::string::npos);
}
