// The scalar formulas of sira/quant.hpp (docs/quantization.md) against values
// worked out by hand, and the calibration range methods against plain
// histogram arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sira/error.hpp"
#include "sira/quant.hpp"
#include "sira/quantize.hpp"

namespace q = sira::quant;

TEST(QuantFormulas, QuantizeRoundsHalfToEvenAfterAddingTheZeroPoint) {
  EXPECT_EQ(q::quantize(0.5f, 1.0f, 3), 4);   // nearbyint(3.5) = 4 (not 0 + 3)
  EXPECT_EQ(q::quantize(0.5f, 1.0f, 0), 0);   // nearbyint(0.5) = 0
  EXPECT_EQ(q::quantize(1.5f, 1.0f, 0), 2);
  EXPECT_EQ(q::quantize(2.5f, 1.0f, 0), 2);
  EXPECT_EQ(q::quantize(-7.0f, 1.0f, 5), 0);    // saturates low
  EXPECT_EQ(q::quantize(1e6f, 1.0f, 0), 255);   // saturates high
  EXPECT_EQ(q::quantize(0.3f, 10.0f, 0), 3);
  const sira::ActivationParams p{0.25f, 10};
  EXPECT_EQ(q::quantize(-1.0f, p), 6);
  EXPECT_FLOAT_EQ(q::dequantize(6, p), -1.0f);
  EXPECT_FLOAT_EQ(q::dequantize(255, p), 61.25f);
}

TEST(QuantFormulas, ActivationParamsFromARange) {
  const auto relu = q::activation_params(0.0, 5.1);
  EXPECT_FLOAT_EQ(relu.scale, 0.02f);
  EXPECT_EQ(relu.zero_point, 0);
  // [-1, 3]: s = 4/255, zp = round(255/4) = round(63.75) = 64
  const auto signed_range = q::activation_params(-1.0, 3.0);
  EXPECT_FLOAT_EQ(signed_range.scale, float(4.0 / 255.0));
  EXPECT_EQ(signed_range.zero_point, 64);
  // A range not containing 0 is widened to it; an empty one gives scale 1.
  EXPECT_EQ(q::activation_params(2.0, 5.1).scale, relu.scale);
  EXPECT_EQ(q::activation_params(-2.0, -1.0).zero_point, 255);
  EXPECT_EQ(q::activation_params(0.0, 0.0).scale, 1.0f);
}

TEST(QuantFormulas, WeightsAndBias) {
  EXPECT_FLOAT_EQ(q::weight_scale(0.635, 127), 0.005f);
  EXPECT_FLOAT_EQ(q::weight_scale(0.0, 127), 1.0f);
  EXPECT_EQ(q::quantize_weight(0.635f, 0.005f, 127), 127);
  EXPECT_EQ(q::quantize_weight(-0.625f, 0.25f, 127), -2);  // -2.5 -> -2 (half to even)
  EXPECT_EQ(q::quantize_weight(-1.0f, 0.005f, 127), -127);   // symmetric: never -128
  EXPECT_EQ(q::quantize_weight(1.0f, 0.005f, 63), 63);
  EXPECT_EQ(q::quantize_bias(0.3f, 0.1f, 0.5f), 6);           // 0.3 / 0.05
  EXPECT_EQ(q::quantize_bias(1e30f, 1e-20f, 1e-20f), 2147483647);
}

TEST(QuantFormulas, Requantize) {
  const float m = q::requant_multiplier(0.1f, 0.5f, 0.025f);  // 0.05 / 0.025 = 2
  EXPECT_FLOAT_EQ(m, 2.0f);
  EXPECT_EQ(q::requantize(50, m, true, 0), 100);
  EXPECT_EQ(q::requantize(-50, m, true, 0), 0);
  EXPECT_EQ(q::requantize(-50, m, false, 120), 20);
  EXPECT_EQ(q::requantize(200, m, false, 0), 255);
  EXPECT_EQ(q::requantize(5, 0.25f, false, 0), 1);   // 1.25
  EXPECT_EQ(q::requantize(6, 0.25f, false, 0), 2);   // 1.5 -> 2
  EXPECT_EQ(q::requantize(10, 0.25f, false, 1), 4);  // 2.5 + 1 = 3.5 -> 4
  EXPECT_FLOAT_EQ(q::dequantize_accumulator(-7, q::output_multiplier(0.5f, 0.25f)), -0.875f);
}

TEST(QuantFormulas, Bf16RoundsToNearestEven) {
  EXPECT_EQ(q::round_bf16(1.0f), 1.0f);
  EXPECT_EQ(q::round_bf16(1.0f + 0x1p-8f), 1.0f);                // tie -> even
  EXPECT_EQ(q::round_bf16(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);  // tie -> even (up)
  EXPECT_EQ(q::round_bf16(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);
  EXPECT_EQ(q::round_bf16(-3.0f), -3.0f);
  EXPECT_EQ(q::bf16_bits(1.0f), 0x3F80);
  EXPECT_TRUE(std::isnan(q::round_bf16(NAN)));
}

TEST(CalibrationRanges, MethodsOnAHistogram) {
  // 100 bins over [0, 100): 10^6 samples spread over bins 0..9, one outlier in bin 99.
  std::vector<double> counts(100, 0.0);
  for (int i = 0; i < 10; ++i) counts[i] = 100000;
  counts[99] = 1;
  const sira::Range full{0, 100};
  EXPECT_EQ(sira::choose_range("minmax", counts, full, 99.8).hi, 100);
  // 99.8 % of 1000001 samples = 998001.998: bin 9 holds samples 900000..1000000,
  // linear inside it: 9 + 98001.998 / 100000.
  const auto pc = sira::choose_range("percentile", counts, full, 99.8);
  EXPECT_NEAR(pc.hi, 9.98002, 1e-4);
  EXPECT_EQ(pc.lo, 0);
  // MSE: 10^6 (c/255)^2/12 of rounding noise plus (99.5 - c)^2 of clipping the
  // outlier is smallest at c = 99.5 / (1 + 10^6 / (255^2 * 12)) = 43.6; the
  // candidates are multiples of 100/256.
  const auto mse = sira::choose_range("mse", counts, full, 99.8);
  EXPECT_NEAR(mse.hi, 43.6, 0.5);
  // KL needs structure inside the bulk to see rounding (a flat bulk quantises
  // without loss at any clip): 2048 bins, an exponential bulk (decay 40 bins,
  // like a ReLU activation's histogram) and one far outlier. It clips the
  // outlier's empty range but keeps the bulk: 99 % of the samples lie below
  // bin 184 (40 ln 100), i.e. 9.0.
  std::vector<double> decay(2048, 0.0);
  for (int i = 0; i < 600; ++i) decay[i] = std::floor(1e6 * std::exp(-i / 40.0));
  decay[2047] = 1;
  const auto kl = sira::choose_range("entropy", decay, full, 99.8);
  EXPECT_GE(kl.hi, 9.0);
  EXPECT_LT(kl.hi, 60);
  EXPECT_THROW(sira::choose_range("median", counts, full, 99.8), sira::Error);
}
