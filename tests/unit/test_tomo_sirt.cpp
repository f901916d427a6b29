// SIRT: monotone projection residual, convergence towards the phantom, options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "sira/error.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/phantom.hpp"
#include "sira/tomo/projector.hpp"
#include "sira/tomo/sirt.hpp"

namespace {

using sira::Stack;
using sira::tomo::Sinograms;
using sira::tomo::SirtOptions;

double rmse_in_circle(const Stack& a, const Stack& b, std::size_t z) {
  double se = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.height; ++i)
    for (std::size_t j = 0; j < a.width; ++j)
      if (sira::tomo::inside_circle(i, j, a.width)) {
        const double d = a.at(z, i, j) - b.at(z, i, j);
        se += d * d;
        ++n;
      }
  return std::sqrt(se / n);
}

Stack phantom_pair(std::size_t size) {
  // Two different slices, to check slices are reconstructed independently.
  sira::tomo::PhantomOptions po;
  po.size = size;
  const Stack head = sira::tomo::make_phantom(po);
  Stack s(2, size, size);
  std::copy(head.data.begin(), head.data.end(), s.slice(0));
  for (std::size_t i = 0; i < size; ++i)
    for (std::size_t j = 0; j < size; ++j) s.at(1, i, j) = head.at(0, j, size - 1 - i);  // rotated
  return s;
}

}  // namespace

TEST(TomoSirt, ResidualDecreasesMonotonicallyAndBeatsFbpOnFewAngles) {
  const Stack phantom = phantom_pair(64);
  const Sinograms s = sira::tomo::project(phantom, sira::tomo::uniform_angles(16, std::numbers::pi));
  SirtOptions options;
  options.iterations = 100;
  int calls = 0;
  options.on_iteration = [&](int it, double residual) {
    EXPECT_EQ(it, calls++);
    EXPECT_TRUE(std::isfinite(residual));
  };
  const auto result = sira::tomo::sirt(s, options);
  EXPECT_EQ(calls, 100);
  ASSERT_EQ(result.residuals.size(), 100u);
  // First residual is that of x = 0, i.e. the norm of the data.
  double norm = 0.0;
  for (float v : s.data.data) norm += double(v) * v;
  EXPECT_NEAR(result.residuals[0], std::sqrt(norm), 1e-3 * std::sqrt(norm));
  for (std::size_t k = 1; k < result.residuals.size(); ++k)
    EXPECT_LT(result.residuals[k], result.residuals[k - 1]) << "iteration " << k;
  EXPECT_LT(result.residuals.back(), 0.1 * result.residuals.front());

  // With 16 angles SIRT's result is closer to the phantom than FBP's streaky one, for both slices.
  const Stack fbp = sira::tomo::fbp(s);
  for (std::size_t z = 0; z < 2; ++z)
    EXPECT_LT(rmse_in_circle(result.images, phantom, z), rmse_in_circle(fbp, phantom, z)) << "slice " << z;
}

TEST(TomoSirt, NonNegativityAndMaskHold) {
  const Stack phantom = phantom_pair(48);
  const Sinograms s = sira::tomo::project(phantom, sira::tomo::uniform_angles(20, std::numbers::pi));
  SirtOptions options;
  options.iterations = 30;
  options.nonnegative = true;
  options.circle_mask = true;
  const auto result = sira::tomo::sirt(s, options);
  EXPECT_GE(*std::min_element(result.images.data.begin(), result.images.data.end()), 0.0f);
  EXPECT_EQ(result.images.at(1, 0, 0), 0.0f);
  for (std::size_t k = 1; k < result.residuals.size(); ++k) EXPECT_LE(result.residuals[k], result.residuals[k - 1]);
}

TEST(TomoSirt, SolvesAConsistentTinySystem) {
  // A 5x5 image seen from 12 directions is over-determined; SIRT drives the residual to ~0
  // and recovers a point at the centre.
  Stack x(1, 5, 5);
  x.at(0, 2, 2) = 1.0f;
  const Sinograms s = sira::tomo::project(x, sira::tomo::uniform_angles(12, std::numbers::pi), 7);
  SirtOptions options;
  options.iterations = 500;
  options.size = 5;
  const auto result = sira::tomo::sirt(s, options);
  EXPECT_LT(result.residuals.back(), 1e-3 * result.residuals.front());
  EXPECT_NEAR(result.images.at(0, 2, 2), 1.0f, 0.01);
  EXPECT_NEAR(result.images.at(0, 0, 4), 0.0f, 0.01);
}

TEST(TomoSirt, RejectsBadInput) {
  Sinograms s{Stack(1, 10, 16), sira::tomo::uniform_angles(10, std::numbers::pi), -1.0};
  SirtOptions options;
  options.iterations = 0;
  EXPECT_THROW(sira::tomo::sirt(s, options), sira::Error);
  options.iterations = 2;
  s.theta.pop_back();
  EXPECT_THROW(sira::tomo::sirt(s, options), sira::Error);
}
