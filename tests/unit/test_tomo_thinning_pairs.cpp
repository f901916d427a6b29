// thinning_pairs against Poisson splitting. With the scan's noise n (variance
// v) and the thinned scan's n_q (variance v / q, covariance v with n), the
// target's noise (n - q n_q) / (1 - q) has variance v / (1 - q) and is
// uncorrelated with the input's: a Noise2Noise pair. In the reconstruction
// (the FBP is linear and the log nearly so at these counts) against the
// noise-free FBP.
#include <gtest/gtest.h>

#include <cmath>

#include "sira/error.hpp"
#include "sira/tomo/acquisition.hpp"
#include "sira/tomo/phantom.hpp"
#include "sira/tomo/projector.hpp"
#include "sira/tomo/thinning_pairs.hpp"

using namespace sira::tomo;

namespace {

// Covariance of (a - truth) and (b - truth) over the reconstruction circle.
double covariance_inside(const sira::Stack& a, const sira::Stack& b, const sira::Stack& truth) {
  double sa = 0, sb = 0, sab = 0;
  std::size_t n = 0;
  for (std::size_t d = 0; d < a.depth; ++d)
    for (std::size_t i = 0; i < a.height; ++i)
      for (std::size_t j = 0; j < a.width; ++j) {
        if (!inside_circle(i, j, a.width)) continue;
        const std::size_t k = i * a.width + j;
        const double x = double(a.slice(d)[k]) - truth.slice(d)[k], y = double(b.slice(d)[k]) - truth.slice(d)[k];
        sa += x, sb += y, sab += x * y, ++n;
      }
  return sab / double(n) - (sa / double(n)) * (sb / double(n));
}

}  // namespace

TEST(ThinningPairs, AreNoise2NoisePairsOfTheThinnedDose) {
  PhantomOptions po;
  po.kind = PhantomKind::shepp_logan;
  po.size = 128;
  po.slices = 2;
  const Sinograms ideal = project(make_phantom(po), uniform_angles(200, M_PI), 128);
  DoseOptions measured;
  measured.flux = 5000;
  measured.seed = 9;
  const Sinograms scan = simulate_low_dose(ideal, measured);
  FbpOptions fo;
  fo.circle_mask = true;
  ThinningOptions to;
  to.flux = 5000;
  to.doses = {0.5, 0.2};
  to.realisations = 2;
  const auto pairs = thinning_pairs(scan, to, fo);
  ASSERT_EQ(pairs.size(), 4u);
  const sira::Stack truth = fbp(ideal, fo), x = fbp(scan, fo);
  const double v = covariance_inside(x, x, truth);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const double q = to.doses[k / 2];
    const auto& [input, target] = pairs[k];
    EXPECT_NEAR(covariance_inside(input, input, truth) / v, 1 / q, 0.1 / q) << "dose " << q;
    EXPECT_NEAR(covariance_inside(target, target, truth) / v, 1 / (1 - q), 0.1 / (1 - q)) << "dose " << q;
    const double corr = covariance_inside(input, target, truth) /
                        std::sqrt(covariance_inside(input, input, truth) * covariance_inside(target, target, truth));
    EXPECT_LT(std::abs(corr), 0.05) << "dose " << q;
    // The scan's own noise is visibly correlated with the input's (sqrt(q)): the plain target would not do.
    const double plain = covariance_inside(input, x, truth) / std::sqrt(covariance_inside(input, input, truth) * v);
    EXPECT_NEAR(plain, std::sqrt(q), 0.1) << "dose " << q;
  }
  // Two realisations of one dose are different thinnings.
  EXPECT_NE(pairs[0].input.data, pairs[1].input.data);
}

TEST(ThinningPairs, RefusesBadOptions) {
  const Sinograms s{sira::Stack(1, 8, 16), uniform_angles(8, M_PI), -1.0};
  FbpOptions fo;
  ThinningOptions to;
  EXPECT_THROW(thinning_pairs(s, to, fo), sira::Error);  // no flux
  to.flux = 100;
  to.doses = {1.0};
  EXPECT_THROW(thinning_pairs(s, to, fo), sira::Error);
  to.doses = {};
  EXPECT_THROW(thinning_pairs(s, to, fo), sira::Error);
  to.doses = {0.5};
  to.realisations = 0;
  EXPECT_THROW(thinning_pairs(s, to, fo), sira::Error);
}
