#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"
#include "sira/tomo/phantom.hpp"

using namespace sira::tomo;

// Hand-computed densities of the modified Shepp-Logan phantom (Toft's table):
// the skull (1.0) minus the brain ellipse (-0.8) leaves 0.2 inside; the small
// features add 0.1 each, the two dark ellipses subtract 0.2.
TEST(SheppLogan, AnalyticDensityAtSamplePoints) {
  EXPECT_DOUBLE_EQ(shepp_logan_density_2d(0.0, 0.0), 0.2);
  EXPECT_NEAR(shepp_logan_density_2d(0.0, 0.35), 0.3, 1e-12);    // ellipse e (top)
  EXPECT_NEAR(shepp_logan_density_2d(0.0, -0.1), 0.3, 1e-12);    // ellipse g
  EXPECT_NEAR(shepp_logan_density_2d(0.22, 0.0), 0.0, 1e-12);    // right dark ellipse c
  EXPECT_NEAR(shepp_logan_density_2d(-0.22, 0.0), 0.0, 1e-12);   // left dark ellipse d
  EXPECT_NEAR(shepp_logan_density_2d(0.0, 0.9), 1.0, 1e-12);     // skull only
  EXPECT_NEAR(shepp_logan_density_2d(0.0, -0.606), 0.3, 1e-12);  // ellipse i
  EXPECT_DOUBLE_EQ(shepp_logan_density_2d(0.95, 0.95), 0.0);
  // Rotation sign: ellipse c (centre 0.22, 0; a = .11, b = .31, -18 degrees) reaches
  // (0.22 + 0.31 sin 18, 0.31 cos 18) * 0.95; its mirror image in x is outside c
  // but inside the top ellipse e (0.2 + 0.1).
  const double s = std::sin(18 * M_PI / 180), c = std::cos(18 * M_PI / 180);
  EXPECT_NEAR(shepp_logan_density_2d(0.22 + 0.95 * 0.31 * s, 0.95 * 0.31 * c), 0.0, 1e-12);
  EXPECT_NEAR(shepp_logan_density_2d(0.22 - 0.95 * 0.31 * s, 0.95 * 0.31 * c), 0.3, 1e-12);
}

TEST(SheppLogan, ThreeDimensionalEllipsoids) {
  EXPECT_DOUBLE_EQ(shepp_logan_density_3d(0.0, 0.0, 0.0), 0.2);
  EXPECT_NEAR(shepp_logan_density_3d(0.0, 0.1, 0.25), 0.3, 1e-12);   // f sits at z = 0.25
  EXPECT_NEAR(shepp_logan_density_3d(0.0, 0.1, 0.0), 0.2, 1e-12);    // ... not at z = 0
  EXPECT_NEAR(shepp_logan_density_3d(0.0, 0.35, -0.15), 0.3, 1e-12); // e centred at z = -0.15
  EXPECT_NEAR(shepp_logan_density_3d(0.0, 0.0, 0.79), 1.0, 1e-12);   // skull cap: outer c = .81, inner .78
  EXPECT_DOUBLE_EQ(shepp_logan_density_3d(0.0, 0.0, 0.85), 0.0);
}

TEST(SheppLogan, PixelsInsideRegionsMatchTheAnalyticValueScaled) {
  PhantomOptions o;
  o.size = 200;
  const auto img = make_phantom(o);
  ASSERT_EQ(img.depth, 1u);
  ASSERT_EQ(img.height, 200u);
  const double scale = o.attenuation / o.size;
  // Pixel (row, col) centre: x = -1 + (col + .5) * pitch, y = 1 - (row + .5) * pitch.
  auto at = [&](double x, double y) {
    const auto col = std::size_t((x + 1) / 0.01), row = std::size_t((1 - y) / 0.01);
    return img.at(0, row, col);
  };
  EXPECT_NEAR(at(0.0, 0.0), 0.2 * scale, 1e-7);
  EXPECT_NEAR(at(0.0, 0.35), 0.3 * scale, 1e-7);
  EXPECT_NEAR(at(0.22, 0.0), 0.0, 1e-7);
  EXPECT_NEAR(at(0.0, 0.9), 1.0 * scale, 1e-7);
  // Anti-aliased edges: pixels straddling the skull's outer edge take intermediate values.
  std::size_t partial = 0;
  for (float v : img.data)
    if (v > 0.05 * scale && v < 0.15 * scale) ++partial;
  EXPECT_GT(partial, 50u);
}

TEST(SheppLogan, ThreeDCentralSliceIsTheHead) {
  PhantomOptions o;
  o.size = 64;
  o.slices = 8;
  const auto vol = make_phantom(o);
  ASSERT_EQ(vol.depth, 8u);
  EXPECT_FALSE(vol.is_2d);
  const double scale = o.attenuation / o.size;
  // Slice 4 is centred at z = 0.5 pitch = 1/64; the image centre pixel is inside the brain.
  EXPECT_NEAR(vol.at(4, 31, 31), 0.2 * scale, 1e-7);
}

TEST(FoamPhantom, DeterministicBySeedAndDifferentAcrossSeeds) {
  PhantomOptions o;
  o.kind = PhantomKind::foam;
  o.size = 96;
  o.seed = 7;
  const auto a = make_phantom(o), b = make_phantom(o);
  EXPECT_EQ(a.data, b.data);
  o.seed = 8;
  const auto c = make_phantom(o);
  double diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff += std::abs(a.data[i] - c.data[i]);
  EXPECT_GT(diff / a.size(), 1e-3 * o.attenuation / o.size);
}

TEST(FoamPhantom, SameResultWithOneOrTwoThreads) {
  PhantomOptions o;
  o.kind = PhantomKind::foam;
  o.size = 48;
  o.slices = 6;
  o.seed = 3;
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = make_phantom(o);
  omp_set_num_threads(2);
  const auto two = make_phantom(o);
  omp_set_num_threads(before);
  EXPECT_EQ(one.data, two.data);
}

TEST(FoamPhantom, InsideCylinderWithPoresAndDenseGrains) {
  PhantomOptions o;
  o.kind = PhantomKind::foam;
  o.size = 128;
  o.seed = 1;
  const auto img = make_phantom(o);
  const double scale = o.attenuation / o.size, pitch = 2.0 / o.size;
  std::size_t inside = 0, pores = 0, dense = 0;
  for (std::size_t r = 0; r < o.size; ++r)
    for (std::size_t c = 0; c < o.size; ++c) {
      const double x = -1 + (c + 0.5) * pitch, y = 1 - (r + 0.5) * pitch;
      const double rad = std::hypot(x, y);
      const float v = img.at(0, r, c);
      ASSERT_GE(v, 0.0f);
      ASSERT_LE(v, 1.3 * scale);
      if (rad > 0.9 + pitch) { EXPECT_EQ(v, 0.0f) << "outside the sample at " << r << "," << c; }
      if (rad < 0.9 - pitch) {
        ++inside;
        if (v < 0.02 * scale) ++pores;
        if (v > 0.65 * scale) ++dense;
      }
    }
  EXPECT_GT(pores, inside / 100) << "pores expected";
  EXPECT_GT(dense, inside / 50) << "dense grains expected";
  EXPECT_LT(pores + dense, inside) << "matrix expected";
}

TEST(FoamPhantom, NeighbouringSlicesAreCorrelated) {
  PhantomOptions o;
  o.kind = PhantomKind::foam;
  o.size = 64;
  o.slices = 40;
  o.seed = 5;
  const auto vol = make_phantom(o);
  auto mean_abs_diff = [&](std::size_t a, std::size_t b) {
    double d = 0;
    for (std::size_t i = 0; i < vol.slice_size(); ++i) d += std::abs(vol.slice(a)[i] - vol.slice(b)[i]);
    return d / vol.slice_size();
  };
  EXPECT_LT(2 * mean_abs_diff(20, 21), mean_abs_diff(0, 39));
}

TEST(Phantom, RejectsBadOptions) {
  PhantomOptions o;
  o.size = 1;
  EXPECT_THROW(make_phantom(o), sira::Error);
  o.size = 16;
  o.attenuation = -1;
  EXPECT_THROW(make_phantom(o), sira::Error);
  EXPECT_THROW(parse_phantom_kind("cube"), sira::Error);
  EXPECT_EQ(parse_phantom_kind("foam"), PhantomKind::foam);
}

TEST(MixedPhantom, EachSeedIsItsOwnSampleAndTheSameSeedTheSameOne) {
  PhantomOptions o;
  o.kind = PhantomKind::mixed;
  o.size = 64;
  o.slices = 3;
  std::vector<double> filled;  // share of the field that is not air, per seed
  sira::Stack first;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    o.seed = seed;
    const sira::Stack p = make_phantom(o);
    if (seed == 1) first = p;
    EXPECT_GE(*std::min_element(p.data.begin(), p.data.end()), 0.0f);  // no negative attenuation
    std::size_t solid = 0;
    for (float v : p.data) solid += v > 1e-6f;
    filled.push_back(double(solid) / double(p.size()));
    // Outside the inscribed circle there is only air.
    EXPECT_EQ(p.at(1, 0, 0), 0.0f);
  }
  o.seed = 1;
  EXPECT_EQ(make_phantom(o).data, first.data);
  // The recipes differ: how much of the field a sample fills varies by seed.
  EXPECT_GT(*std::max_element(filled.begin(), filled.end()) - *std::min_element(filled.begin(), filled.end()), 0.1);
  EXPECT_EQ(parse_phantom_kind("mixed"), PhantomKind::mixed);
  EXPECT_STREQ(phantom_kind_name(PhantomKind::mixed), "mixed");
}
