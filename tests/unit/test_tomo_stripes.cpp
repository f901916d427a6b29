// Sorting-based stripe removal (Vo et al. 2018, algorithm 3): a hand case computed
// with NumPy/scipy (np.argsort(kind='stable') along the angles,
// ndi.median_filter(sorted, size=(1, 3), mode='reflect'), np.put_along_axis back),
// and a synthetic sinogram with added stripes whose error to the clean sinogram
// falls.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sira/error.hpp"
#include "sira/tomo/stripes.hpp"

using namespace sira::tomo;

TEST(Stripes, HandCaseMatchesNumpySortMedianUnsort) {
  std::vector<float> s = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4};
  const std::vector<float> expected = {3, 2, 1, 2, 4, 9, 2, 6, 4, 5, 5, 8, 9, 9, 7, 6, 2, 3, 8, 4, 6, 5, 6, 4};
  remove_stripes_sorting(s.data(), 4, 6, StripeOptions{3});
  EXPECT_EQ(s, expected);
}

TEST(Stripes, LowerTheErrorOfAStripedSinogram) {
  // Four Gaussian blobs (a smooth object; projections of a Gaussian are Gaussian),
  // 360 angles x 513 columns: the window (21) is small against the features, as on a
  // real detector.
  const std::size_t angles = 360, width = 513;
  const double blobs[4][4] = {{0, 0, 100, 0.005}, {60, 20, 32, 0.008}, {-80, -40, 20, 0.012}, {20, -100, 16, 0.01}};
  Sinograms clean{sira::Stack(1, angles, width), {}, -1};
  for (std::size_t a = 0; a < angles; ++a) {
    const double t = M_PI * double(a) / angles;
    for (std::size_t c = 0; c < width; ++c) {
      double p = 0;
      for (const auto& b : blobs) {
        const double s = double(c) - 256 - (b[0] * std::cos(t) + b[1] * std::sin(t));
        p += b[3] * std::sqrt(2 * M_PI) * b[2] * std::exp(-s * s / (2 * b[2] * b[2]));
      }
      clean.data.at(0, a, c) = float(p);  // peak ~2.5
    }
  }
  // Stripes: an offset of up to +-0.1 on every 10th column (a miscalibrated pixel).
  Sinograms striped = clean;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> offset(-0.1f, 0.1f);
  for (std::size_t c = 5; c < width; c += 10) {
    const float o = offset(rng);
    for (std::size_t a = 0; a < angles; ++a) striped.data.at(0, a, c) += o;
  }
  auto rmse = [&](const Sinograms& s) {
    double e = 0;
    for (std::size_t i = 0; i < s.data.size(); ++i) e += std::pow(double(s.data.data[i]) - clean.data.data[i], 2);
    return std::sqrt(e / double(s.data.size()));
  };
  // The ring-making part: RMS over columns of the mean error along the angles.
  auto ring = [&](const Sinograms& s) {
    double e = 0;
    for (std::size_t c = 0; c < width; ++c) {
      double m = 0;
      for (std::size_t a = 0; a < angles; ++a) m += s.data.at(0, a, c) - clean.data.at(0, a, c);
      e += std::pow(m / double(angles), 2);
    }
    return std::sqrt(e / double(width));
  };
  Sinograms fixed = striped;
  remove_stripes_sorting(fixed, StripeOptions{21});
  // NumPy/scipy on the same kind of case: RMSE 0.0190 -> 0.0093, ring 0.0190 -> 0.0056.
  EXPECT_LT(rmse(fixed), 0.6 * rmse(striped)) << "RMSE " << rmse(striped) << " -> " << rmse(fixed);
  EXPECT_LT(ring(fixed), 0.4 * ring(striped)) << "ring " << ring(striped) << " -> " << ring(fixed);
}

TEST(Stripes, RejectsEvenOrTooWideWindows) {
  std::vector<float> s(4 * 6, 1.0f);
  EXPECT_THROW(remove_stripes_sorting(s.data(), 4, 6, StripeOptions{4}), sira::Error);
  EXPECT_THROW(remove_stripes_sorting(s.data(), 4, 6, StripeOptions{7}), sira::Error);
}
