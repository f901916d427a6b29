// Intensity normalisation: numpy-compatible percentiles and the two modes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/normalize.hpp"
#include "sira/error.hpp"

TEST(EngineNormalize, PercentileInterpolatesLikeNumpy) {
  // numpy.percentile(np.arange(1, 11), q): 25 -> 3.25, 50 -> 5.5, 0 -> 1, 100 -> 10, 99.5 -> 9.955
  const std::vector<float> v{7, 3, 10, 1, 9, 2, 8, 4, 6, 5};
  EXPECT_NEAR(sira::percentile(v.data(), v.size(), 25), 3.25, 1e-9);
  EXPECT_NEAR(sira::percentile(v.data(), v.size(), 50), 5.5, 1e-9);
  EXPECT_NEAR(sira::percentile(v.data(), v.size(), 0), 1.0, 1e-9);
  EXPECT_NEAR(sira::percentile(v.data(), v.size(), 100), 10.0, 1e-9);
  EXPECT_NEAR(sira::percentile(v.data(), v.size(), 99.5), 9.955, 1e-6);
  EXPECT_THROW(sira::percentile(v.data(), v.size(), 101), sira::Error);
}

// Oracle: numpy's linear interpolation between the closest ranks of a sorted copy.
double sorted_percentile(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  const double rank = q / 100.0 * double(v.size() - 1);
  const std::size_t lo = std::size_t(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return double(v[lo]) + (rank - double(lo)) * (double(v[hi]) - double(v[lo]));
}

TEST(EngineNormalize, PercentileMatchesASortedCopyOnMixedSignsAndTies) {
  std::mt19937 rng(3);
  std::normal_distribution<float> gauss(0.0f, 50.0f);
  std::vector<float> v(100003);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = i % 7 == 0 ? std::round(gauss(rng)) : gauss(rng);  // ties among the rounded ones
  v[10] = -0.0f;
  v[11] = 0.0f;
  v[12] = -1e-40f;  // subnormals keep their order
  v[13] = 1e-40f;
  v[14] = -3e38f;
  v[15] = 3e38f;
  for (double q : {0.0, 0.5, 1.0, 25.0, 49.999, 50.0, 75.3, 99.5, 100.0})
    EXPECT_EQ(sira::percentile(v.data(), v.size(), q), sorted_percentile(v, q)) << "q=" << q;
  const std::vector<float> one{-2.5f};
  EXPECT_EQ(sira::percentile(one.data(), 1, 99.5), -2.5);
}

TEST(EngineNormalize, PerImageMapsThePercentileRangeToUnit) {
  sira::Normalization norm;
  norm.mode = "per_image";
  norm.low_percentile = 0;
  norm.high_percentile = 100;
  const std::vector<float> v{10, 30, 20, 50};
  const auto map = sira::intensity_map(norm, v.data(), v.size());
  std::vector<float> out(4);
  sira::normalize(v.data(), 4, map, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.0f, 0.5f, 0.25f, 1.0f}));
  sira::denormalize(out.data(), 4, map);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(out[i], v[i], 1e-5);

  const std::vector<float> flat(6, 3.0f);  // constant: shifted, not divided by zero
  const auto flat_map = sira::intensity_map(norm, flat.data(), flat.size());
  EXPECT_EQ(flat_map.offset, 3.0);
  EXPECT_EQ(flat_map.scale, 1.0);
}

TEST(EngineNormalize, FixedUsesTheStoredValuesAndRejectsAZeroScale) {
  sira::Normalization norm;
  norm.mode = "fixed";
  norm.offset = 2.0;
  norm.scale = 4.0;
  const float x = 3.0f;
  const auto map = sira::intensity_map(norm, &x, 1);
  float y;
  sira::normalize(&x, 1, map, &y);
  EXPECT_EQ(y, 4.0f);  // (3 - 2) * 4
  norm.scale = 0.0;
  EXPECT_THROW(sira::intensity_map(norm, &x, 1), sira::Error);
  norm.mode = "minmax";
  EXPECT_THROW(sira::intensity_map(norm, &x, 1), sira::Error);
}
