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
  const auto map = sira::intensity_map(norm, v.data(), 1, v.size());
  std::vector<float> out(4);
  sira::normalize(v.data(), 4, map, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.0f, 0.5f, 0.25f, 1.0f}));
  sira::denormalize(out.data(), 4, map);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(out[i], v[i], 1e-5);

  const std::vector<float> flat(6, 3.0f);  // constant: shifted, not divided by zero
  const auto flat_map = sira::intensity_map(norm, flat.data(), 1, flat.size());
  EXPECT_EQ(flat_map.offset, 3.0);
  EXPECT_EQ(flat_map.scale, 1.0);
}

TEST(EngineNormalize, FixedUsesTheStoredValuesAndRejectsAZeroScale) {
  sira::Normalization norm;
  norm.mode = "fixed";
  norm.offset = 2.0;
  norm.scale = 4.0;
  const float x = 3.0f;
  const auto map = sira::intensity_map(norm, &x, 1, 1);
  float y;
  sira::normalize(&x, 1, map, &y);
  EXPECT_EQ(y, 4.0f);  // (3 - 2) * 4
  norm.scale = 0.0;
  EXPECT_THROW(sira::intensity_map(norm, &x, 1, 1), sira::Error);
  norm.mode = "minmax";
  EXPECT_THROW(sira::intensity_map(norm, &x, 1, 1), sira::Error);
}

TEST(EngineNormalize, BlockMeansAreTheMeansOfWholeTiles) {
  // 5 x 7 image, blocks of 2: 2 x 3 means, the last row and column left out.
  std::vector<float> img(35);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = float(i);
  const auto m = sira::block_means(img.data(), 5, 7, 2);
  ASSERT_EQ(m.size(), 6u);
  // Block (by, bx) holds rows 2by..2by+1, columns 2bx..2bx+1: mean of v = 7y + x.
  for (int by = 0; by < 2; ++by)
    for (int bx = 0; bx < 3; ++bx)
      EXPECT_FLOAT_EQ(m[by * 3 + bx], float(7 * (2 * by + 0.5) + (2 * bx + 0.5)));
  EXPECT_THROW(sira::block_means(img.data(), 5, 7, 6), sira::Error);
}

TEST(EngineNormalize, BlockPercentilesHardlyMoveWithTheNoise) {
  // Half air (0), half material (1), plus white noise of sigma 0.3: the pixel
  // 0.5 percentile falls ~0.3 * 2.58 below the air, the 8x8 block means' stays
  // within a few hundredths of it, as the noise of a mean of 64 is 8x smaller.
  const std::size_t h = 256, w = 256;
  std::vector<float> img(h * w);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x) img[y * w + x] = (x >= w / 2 ? 1.0f : 0.0f) + noise(rng);
  sira::Normalization norm;
  norm.mode = "per_image";
  const auto pixels = sira::intensity_map(norm, img.data(), h, w);
  norm.block = 8;
  const auto blocks = sira::intensity_map(norm, img.data(), h, w);
  EXPECT_LT(pixels.offset, -0.6);
  EXPECT_NEAR(blocks.offset, 0.0, 0.15);
  EXPECT_NEAR(1.0 / blocks.scale, 1.0, 0.3);
  // An image smaller than the block uses the largest block that fits.
  norm.block = 64;
  const std::vector<float> small{0, 1, 2, 3, 4, 5, 6, 7, 8};
  const auto fit = sira::intensity_map(norm, small.data(), 3, 3);
  EXPECT_DOUBLE_EQ(fit.offset, 4.0);  // one 3x3 block: its mean
}
