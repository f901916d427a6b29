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
#include "network_fixtures.hpp"

namespace {

// A random 2-level TomoGAN with He's gain (network_fixtures.hpp says why).
sira::Model random_model(sira::Upsample up, int slices = 1) {
  return sira::fixtures::he_scaled_model(up, 11, slices);
}

using sira::fixtures::blob_image;

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
  sira::Engine e(m, {.backend = "ref", .precision = sira::parse_precision(precision), .threads = 2, .tile = tile});
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
  const sira::Stack calib = blob_image(2, 64, 64, 1), image = blob_image(1, 64, 64, 2);
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
  const sira::Stack image = blob_image(1, 64, 64, 2);
  const sira::Model m = random_model(sira::Upsample::bilinear, 3);
  EXPECT_GE(psnr(run(m, "bf16", image), run(m, "fp32", image)), 40.0);
}

TEST(QuantNetwork, TiledInt8EqualsUntiledExactly) {
  const sira::Stack image = blob_image(1, 72, 80, 3);
  sira::QuantizeOptions o;
  o.threads = 2;
  const sira::Model q = sira::quantize_model(random_model(sira::Upsample::bilinear), {{"c", image}}, o);
  const sira::Stack whole = run(q, "int8", image), tiled = run(q, "int8", image, 32);
  EXPECT_EQ(whole.data, tiled.data);
}

TEST(QuantNetwork, MixedPrecisionLayerRunsOnDequantisedInput) {
  const sira::Stack image = blob_image(1, 64, 64, 4);
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
  EXPECT_NE(message_of([&] { run(m, "int8", blob_image(1, 16, 16, 1)); }).find("needs a quantised model"),
            std::string::npos);
  EXPECT_NE(message_of([&] { run(m, "fp16", blob_image(1, 16, 16, 1)); }).find("unknown"), std::string::npos);
  sira::QuantizeOptions o;
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {}, o); }).find("calibration set is empty"),
            std::string::npos);
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {{"none", sira::Stack()}}, o); }).find("empty"),
            std::string::npos);
  sira::Stack flat(2, 16, 16);
  std::fill(flat.data.begin(), flat.data.end(), 3.0f);
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {{"flat.tif", flat}}, o); }).find("constant"),
            std::string::npos);
  sira::Stack bad = blob_image(2, 16, 16, 1);
  bad.at(1, 2, 3) = NAN;
  const std::string msg = message_of([&] { sira::quantize_model(m, {{"bad.npy", bad}}, o); });
  EXPECT_NE(msg.find("bad.npy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("slice 1, row 2, column 3"), std::string::npos) << msg;
  bad.at(1, 2, 3) = INFINITY;
  EXPECT_NE(message_of([&] { sira::quantize_model(m, {{"inf.npy", bad}}, o); }).find("non-finite"),
            std::string::npos);
  const sira::Model q = sira::quantize_model(m, {{"c", blob_image(1, 16, 16, 1)}}, o);
  EXPECT_NE(message_of([&] { sira::quantize_model(q, {{"c", blob_image(1, 16, 16, 1)}}, o); }).find("already"),
            std::string::npos);
}

TEST(QuantNetwork, CalibrationReportsProgressOverEveryPass) {
  const sira::Stack calib = blob_image(3, 32, 32, 1);
  for (const std::string method : {"minmax", "percentile"}) {
    sira::QuantizeOptions o;
    o.method = method;
    o.threads = 1;
    std::vector<std::pair<std::size_t, std::size_t>> seen;
    o.progress = [&](std::size_t done, std::size_t total) { seen.emplace_back(done, total); };
    sira::calibrate(random_model(sira::Upsample::bilinear), {{"calib", calib}}, o);
    const std::size_t passes = method == "minmax" ? 1 : 2;
    ASSERT_EQ(seen.size(), 3 * passes) << method;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i].first, i + 1) << method;
      EXPECT_EQ(seen[i].second, 3 * passes) << method;
    }
  }
}
