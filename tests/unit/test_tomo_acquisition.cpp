#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <numeric>

#include "sira/error.hpp"
#include "sira/tomo/acquisition.hpp"

using namespace sira::tomo;

namespace {

Sinograms constant_sinograms(std::size_t slices, std::size_t angles, std::size_t width, float p) {
  Sinograms s{sira::Stack(slices, angles, width), {}, -1.0};
  std::fill(s.data.data.begin(), s.data.data.end(), p);
  for (std::size_t a = 0; a < angles; ++a) s.theta.push_back(M_PI * a / angles);
  return s;
}

struct Moments {
  double mean, variance;
};
Moments moments(const std::vector<float>& v) {
  const double n = double(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (float x : v) ss += (x - mean) * (x - mean);
  return {mean, ss / (n - 1)};
}

}  // namespace

// Counts are Poisson(lambda) with lambda = I0 * dose * exp(-p): mean = variance = lambda.
// n = 200,000 samples: the sample mean has sd sqrt(lambda / n) and the sample
// variance sd sqrt((mu4 - sigma^4) / n) = sqrt((lambda + 2 lambda^2) / n); we allow 5 sd.
TEST(Acquisition, CountsFollowPoissonStatistics) {
  const auto clean = constant_sinograms(2, 500, 200, 0.5f);
  DoseOptions o;
  o.flux = 1000;
  o.dose = 0.5;
  o.seed = 11;
  const auto counts = simulate_counts(clean, o);
  const double lambda = 500 * std::exp(-0.5), n = double(counts.size());
  const auto m = moments(counts.data);
  EXPECT_NEAR(m.mean, lambda, 5 * std::sqrt(lambda / n));
  EXPECT_NEAR(m.variance, lambda, 5 * std::sqrt((lambda + 2 * lambda * lambda) / n));
  for (float c : counts.data) ASSERT_EQ(c, std::round(c));  // whole photons
}

// With dark offset d and Gaussian read noise sigma: mean = lambda + d, variance = lambda + sigma^2.
TEST(Acquisition, DarkOffsetAndReadNoiseAddToPoisson) {
  const auto clean = constant_sinograms(1, 1000, 200, 1.0f);
  DoseOptions o;
  o.flux = 200;
  o.dark = 10;
  o.read_noise = 3;
  o.seed = 2;
  const auto counts = simulate_counts(clean, o);
  const double lambda = 200 * std::exp(-1.0), n = double(counts.size());
  const double var = lambda + 9;
  const auto m = moments(counts.data);
  EXPECT_NEAR(m.mean, lambda + 10, 5 * std::sqrt(var / n));
  EXPECT_NEAR(m.variance, var, 5 * std::sqrt((lambda + 2 * var * var) / n));
}

TEST(Acquisition, LineIntegralsAreUnbiasedAtHighFlux) {
  const auto clean = constant_sinograms(1, 400, 100, 2.0f);
  DoseOptions o;
  o.flux = 1e6;
  const auto noisy = simulate_low_dose(clean, o);
  // Delta method: -log(N / I0) has mean p + 1 / (2 lambda) and variance 1 / lambda.
  const double lambda = 1e6 * std::exp(-2.0), n = double(noisy.data.size());
  const auto m = moments(noisy.data.data);
  EXPECT_NEAR(m.mean, 2.0 + 0.5 / lambda, 5 * std::sqrt(1 / lambda / n));
  EXPECT_NEAR(m.variance, 1 / lambda, 0.05 / lambda);
  EXPECT_EQ(noisy.theta, clean.theta);
}

TEST(Acquisition, ZeroCountsAreClippedToHalfACount) {
  const auto clean = constant_sinograms(1, 10, 10, 40.0f);  // transmission e^-40: no photons
  DoseOptions o;
  o.flux = 100;
  o.dose = 0.5;
  const auto noisy = simulate_low_dose(clean, o);
  for (float v : noisy.data.data) EXPECT_FLOAT_EQ(v, float(-std::log(0.5 / 50)));
}

TEST(Acquisition, GainIsFixedPerDetectorPixelOverAngles) {
  const auto clean = constant_sinograms(2, 2000, 8, 0.0f);
  DoseOptions o;
  o.flux = 1e4;
  o.gain_spread = 0.05;
  o.seed = 4;
  const auto counts = simulate_counts(clean, o);
  const auto gain = detector_gain(2, 8, o);
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t c = 0; c < 8; ++c) {
      double sum = 0;
      for (std::size_t a = 0; a < 2000; ++a) sum += counts.at(k, a, c);
      const double expected = 1e4 * gain.at(k, 0, c);
      EXPECT_NEAR(sum / 2000, expected, 5 * std::sqrt(expected / 2000));
    }
  double spread = 0;
  for (float g : gain.data) spread += (g - 1) * (g - 1);
  EXPECT_GT(std::sqrt(spread / gain.size()), 0.02);
}

TEST(Acquisition, DeterministicBySeedAndIndependentOfThreads) {
  const auto clean = constant_sinograms(3, 50, 40, 0.7f);
  DoseOptions o;
  o.flux = 500;
  o.read_noise = 1;
  o.seed = 9;
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = simulate_low_dose(clean, o);
  omp_set_num_threads(2);
  const auto two = simulate_low_dose(clean, o);
  omp_set_num_threads(before);
  EXPECT_EQ(one.data.data, two.data.data);
  o.seed = 10;
  EXPECT_NE(simulate_low_dose(clean, o).data.data, one.data.data);
}

// Binomial thinning of the implied counts n = round(I0 e^-p) with probability d:
// mean n d, variance n d (1 - d).
TEST(Acquisition, ThinningMeasuredDataIsBinomial) {
  const auto measured = constant_sinograms(1, 1000, 200, 0.5f);
  DoseOptions o;
  o.flux = 1e4;
  o.dose = 0.25;
  o.seed = 3;
  const auto low = thin_dose(measured, o);
  std::vector<float> counts(low.data.size());
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = float(1e4 * 0.25 * std::exp(-double(low.data.data[i])));
  const double trials = std::round(1e4 * std::exp(-0.5)), n = double(counts.size());
  const double mean = trials * 0.25, var = trials * 0.25 * 0.75;
  const auto m = moments(counts);
  EXPECT_NEAR(m.mean, mean, 5 * std::sqrt(var / n));
  EXPECT_NEAR(m.variance, var, 5 * std::sqrt(2 * var * var / n) + 0.01 * var);
}

TEST(Acquisition, SparseViewKeepsEveryKthAngle) {
  auto s = constant_sinograms(2, 10, 3, 0.0f);
  for (std::size_t i = 0; i < s.data.size(); ++i) s.data.data[i] = float(i);
  const auto sparse = keep_every_kth_angle(s, 3);
  ASSERT_EQ(sparse.data.height, 4u);
  ASSERT_EQ(sparse.theta.size(), 4u);
  const std::size_t kept[] = {0, 3, 6, 9};
  for (std::size_t d = 0; d < 2; ++d)
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_DOUBLE_EQ(sparse.theta[i], s.theta[kept[i]]);
      for (std::size_t c = 0; c < 3; ++c) EXPECT_EQ(sparse.data.at(d, i, c), s.data.at(d, kept[i], c));
    }
  EXPECT_EQ(keep_every_kth_angle(s, 4, 1).data.height, 3u);  // 1, 5, 9
  EXPECT_THROW(keep_every_kth_angle(s, 0), sira::Error);
}

TEST(Acquisition, LimitedAngleKeepsTheRange) {
  const auto s = constant_sinograms(1, 180, 4, 1.0f);  // 0 .. 179 degrees
  const auto lim = keep_angle_range(s, 0.0, M_PI / 2);
  EXPECT_EQ(lim.data.height, 91u);  // 0 .. 90 degrees inclusive
  EXPECT_LE(lim.theta.back(), M_PI / 2);
  EXPECT_THROW(keep_angle_range(s, 4.0, 5.0), sira::Error);
}

TEST(Acquisition, RejectsBadParameters) {
  const auto s = constant_sinograms(1, 4, 4, 1.0f);
  DoseOptions o;
  o.dose = 0;
  EXPECT_THROW(simulate_low_dose(s, o), sira::Error);
  o.dose = 1.5;
  EXPECT_THROW(simulate_low_dose(s, o), sira::Error);
  o.dose = 1;
  o.flux = -1;
  EXPECT_THROW(simulate_low_dose(s, o), sira::Error);
}

TEST(DetectorBlur, NeighbourNoiseCorrelatesAsTheGaussianSays) {
  // Flat object (p = 0.5): counts ~ Poisson(I0 e^-0.5), then blurred. White
  // noise through a Gaussian of sigma s has neighbour correlation exp(-1 / (4 s^2)).
  Sinograms s{sira::Stack(1, 400, 200), {}, -1};
  for (std::size_t a = 0; a < 400; ++a) s.theta.push_back(0.001 * double(a));
  std::fill(s.data.data.begin(), s.data.data.end(), 0.5f);
  auto correlation = [&](double sigma) {
    DoseOptions o;
    o.flux = 1000;
    o.blur = sigma;
    o.seed = 3;
    const sira::Stack c = simulate_counts(s, o);
    double mean = 0;
    for (float v : c.data) mean += v;
    mean /= double(c.size());
    double var = 0, cov = 0;
    for (std::size_t a = 0; a < 400; ++a)
      for (std::size_t x = 10; x + 11 < 200; ++x) {
        const double u = c.at(0, a, x) - mean, v = c.at(0, a, x + 1) - mean;
        var += u * u;
        cov += u * v;
      }
    return cov / var;
  };
  EXPECT_NEAR(correlation(0), 0.0, 0.03);
  EXPECT_NEAR(correlation(1.0), std::exp(-0.25), 0.05);
  EXPECT_NEAR(correlation(2.0), std::exp(-1.0 / 16), 0.05);
}

TEST(DetectorBlur, CleanLineIntegralsAreOfTheBlurredTransmission) {
  // One dark pixel (t = e^-2) in a bright row: after the blur the dip spreads
  // with the Gaussian's weights, and far away the row is untouched.
  Sinograms s{sira::Stack(1, 1, 41), {0.0}, -1};
  s.data.at(0, 0, 20) = 2.0f;
  const Sinograms b = blur_line_integrals(s, 1.0);
  double norm = 0;
  for (int k = -3; k <= 3; ++k) norm += std::exp(-0.5 * k * k);
  for (int k = 0; k <= 3; ++k) {
    const double w = std::exp(-0.5 * k * k) / norm;
    const double t = 1.0 - w * (1.0 - std::exp(-2.0));
    EXPECT_NEAR(b.data.at(0, 0, 20 + k), -std::log(t), 1e-5) << k;
    EXPECT_NEAR(b.data.at(0, 0, 20 - k), -std::log(t), 1e-5) << k;
  }
  EXPECT_NEAR(b.data.at(0, 0, 30), 0.0, 1e-7);
  EXPECT_THROW(blur_line_integrals(s, -1), sira::Error);
}
