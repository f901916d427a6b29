// SSIM / PSNR against hand-computed values and a direct (non-separable)
// transcription of scikit-image's definition; the skimage comparison itself
// is tests/oracle/test_metrics_skimage.py.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "sira/error.hpp"
#include "sira/metrics.hpp"
#include "sira/stack.hpp"

namespace {

std::vector<float> random_image(std::size_t h, std::size_t w, unsigned seed, float lo = 0.f,
                                float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(h * w);
  for (float& x : v) x = u(gen);
  return v;
}

// SSIM map pixel by pixel with the 2-D window g(i) g(j), g = exp(-x^2/4.5)
// normalised over x = -5..5, scipy 'reflect' borders; straight from the formula
// in docs/metrics.md, sharing no code with src/metrics.
double direct_ssim_pixel(const std::vector<float>& x, const std::vector<float>& y, int h, int w,
                         int py, int px, double range) {
  double g[11], gsum = 0;
  for (int k = -5; k <= 5; ++k) gsum += g[k + 5] = std::exp(-(k * k) / (2 * 1.5 * 1.5));
  auto mirror = [](int i, int n) { return i < 0 ? -i - 1 : (i >= n ? 2 * n - i - 1 : i); };
  double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
  for (int i = -5; i <= 5; ++i)
    for (int j = -5; j <= 5; ++j) {
      const double wt = g[i + 5] * g[j + 5] / (gsum * gsum);
      const std::size_t at = std::size_t(mirror(py + i, h)) * w + std::size_t(mirror(px + j, w));
      const double a = x[at], b = y[at];
      ux += wt * a, uy += wt * b, uxx += wt * a * a, uyy += wt * b * b, uxy += wt * a * b;
    }
  const double c1 = std::pow(0.01 * range, 2), c2 = std::pow(0.03 * range, 2);
  const double vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
  return (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
}

}  // namespace

TEST(Metrics, IdenticalImagesGiveSsimOneAndInfinitePsnr) {
  const auto a = random_image(37, 53, 1);
  EXPECT_NEAR(sira::ssim(a.data(), a.data(), 37, 53, 1.0), 1.0, 1e-12);
  const double p = sira::psnr(a.data(), a.data(), a.size(), 1.0);
  EXPECT_TRUE(std::isinf(p) && p > 0);
}

TEST(Metrics, ConstantOffsetGivesAnalyticPsnr) {
  // Multiples of 1/64 plus 1/4: every sample and difference is exact in float,
  // so MSE = (1/4)^2 and PSNR = 20 log10(R / 0.25).
  std::vector<float> ref(64 * 48), img(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = float(i % 64) / 64.f;
    img[i] = ref[i] + 0.25f;
  }
  EXPECT_NEAR(sira::psnr(img.data(), ref.data(), ref.size(), 1.0), 20 * std::log10(4.0), 1e-12);
  EXPECT_NEAR(sira::psnr(img.data(), ref.data(), ref.size(), 255.0), 20 * std::log10(1020.0),
              1e-12);
}

TEST(Metrics, ConstantImagesGiveTheLuminanceTerm) {
  // Flat images: all variances vanish, so S = (2ab + C1) / (a^2 + b^2 + C1) everywhere.
  const double a = 0.5, b = 0.25, range = 1.0, c1 = 1e-4;
  std::vector<float> x(20 * 30, float(a)), y(20 * 30, float(b));
  const double expected = (2 * a * b + c1) / (a * a + b * b + c1);
  EXPECT_NEAR(sira::ssim(x.data(), y.data(), 20, 30, range), expected, 1e-12);
  for (double s : sira::ssim_map(x.data(), y.data(), 20, 30, range)) EXPECT_NEAR(s, expected, 1e-12);
}

TEST(Metrics, MatchesDirectTwoDimensionalWindowEverywhere) {
  // Odd sizes, a window that reaches both borders of a 13-wide image.
  for (auto [h, w] : {std::pair{13, 29}, std::pair{31, 17}}) {
    const auto x = random_image(h, w, 3, -2.f, 5.f);
    auto y = random_image(h, w, 4, -1.f, 1.f);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += x[i];  // correlated, like a noisy copy
    const double range = 7.0;
    const auto map = sira::ssim_map(x.data(), y.data(), h, w, range);
    double interior = 0;
    for (int py = 0; py < h; ++py)
      for (int px = 0; px < w; ++px) {
        const double direct = direct_ssim_pixel(x, y, h, w, py, px, range);
        ASSERT_NEAR(map[std::size_t(py) * w + px], direct, 1e-12) << py << "," << px;
        if (py >= 5 && py < h - 5 && px >= 5 && px < w - 5) interior += direct;
      }
    interior /= double((h - 10) * (w - 10));
    EXPECT_NEAR(sira::ssim(x.data(), y.data(), h, w, range), interior, 1e-12);
  }
}

TEST(Metrics, SymmetricInImageAndReference) {
  const auto x = random_image(40, 41, 5), y = random_image(40, 41, 6);
  EXPECT_DOUBLE_EQ(sira::ssim(x.data(), y.data(), 40, 41, 1.0), sira::ssim(y.data(), x.data(), 40, 41, 1.0));
  EXPECT_DOUBLE_EQ(sira::psnr(x.data(), y.data(), x.size(), 1.0), sira::psnr(y.data(), x.data(), x.size(), 1.0));
  EXPECT_LT(sira::ssim(x.data(), y.data(), 40, 41, 1.0), 0.2);  // independent noise: little structure shared
}

TEST(Metrics, ImagesSmallerThanTheWindowThrow) {
  const auto x = random_image(11, 40, 7);
  EXPECT_NO_THROW(sira::ssim(x.data(), x.data(), 11, 40, 1.0));
  EXPECT_NO_THROW(sira::ssim(x.data(), x.data(), 40, 11, 1.0));
  EXPECT_THROW(sira::ssim(x.data(), x.data(), 10, 44, 1.0), sira::Error);
  EXPECT_THROW(sira::ssim(x.data(), x.data(), 44, 10, 1.0), sira::Error);
  EXPECT_THROW(sira::ssim_map(x.data(), x.data(), 1, 440, 1.0), sira::Error);
  try {
    sira::ssim(x.data(), x.data(), 10, 44, 1.0);
  } catch (const sira::Error& e) {
    EXPECT_NE(std::string(e.what()).find("10x44"), std::string::npos) << e.what();
  }
}

TEST(Metrics, DataRangeMustBePositiveAndFinite) {
  const auto x = random_image(16, 16, 8);
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(sira::ssim(x.data(), x.data(), 16, 16, bad), sira::Error);
    EXPECT_THROW(sira::psnr(x.data(), x.data(), x.size(), bad), sira::Error);
  }
  EXPECT_THROW(sira::psnr(x.data(), x.data(), 0, 1.0), sira::Error);
}

TEST(Metrics, ScoreSlicesScoresEachSliceAndChecksInputs) {
  sira::Stack ref(3, 12, 14), img(3, 12, 14);
  for (std::size_t d = 0; d < 3; ++d)
    for (std::size_t i = 0; i < ref.slice_size(); ++i) {
      ref.slice(d)[i] = float(i % 14) / 8.f;
      img.slice(d)[i] = ref.slice(d)[i] + 0.125f * float(d);  // slice d is offset by d/8
    }
  EXPECT_DOUBLE_EQ(sira::value_range(ref), 13.0 / 8.0);
  const auto scores = sira::score_slices(img, ref, 2.0);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_TRUE(std::isinf(scores[0].psnr));
  EXPECT_NEAR(scores[0].ssim, 1.0, 1e-12);
  EXPECT_NEAR(scores[1].psnr, 20 * std::log10(2.0 / 0.125), 1e-12);
  EXPECT_NEAR(scores[2].psnr, 20 * std::log10(2.0 / 0.25), 1e-12);
  EXPECT_LT(scores[2].ssim, scores[1].ssim);

  EXPECT_THROW(sira::score_slices(sira::Stack(3, 12, 15), ref, 1.0), sira::Error);
  EXPECT_THROW(sira::score_slices(sira::Stack(2, 12, 14), ref, 1.0), sira::Error);
  img.at(2, 5, 5) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(sira::score_slices(img, ref, 1.0), sira::Error);
}
