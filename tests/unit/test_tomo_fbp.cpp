// FBP: filter responses against a direct DFT, scaling on a uniform disc, the
// Shepp-Logan accuracy bar, centre handling, and input validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "sira/error.hpp"
#include "sira/tomo/backprojection.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/phantom.hpp"
#include "sira/tomo/projector.hpp"

namespace {

using sira::Stack;
using sira::tomo::FbpOptions;
using sira::tomo::Filter;
using sira::tomo::Sinograms;

Stack disc(std::size_t size, double r, double value) {
  Stack s(1, size, size);
  const double mid = (size - 1) / 2.0;
  constexpr int sub = 8;
  for (std::size_t i = 0; i < size; ++i)
    for (std::size_t j = 0; j < size; ++j) {
      int inside = 0;
      for (int a = 0; a < sub; ++a)
        for (int b = 0; b < sub; ++b) {
          const double y = i - mid - 0.5 + (a + 0.5) / sub, x = j - mid - 0.5 + (b + 0.5) / sub;
          inside += x * x + y * y <= r * r;
        }
      s.at(0, i, j) = static_cast<float>(value * inside / (sub * sub));
    }
  return s;
}

// PSNR (dB) over pixels within `radius` of the centre, data range = reference max - min there.
double psnr_in_circle(const Stack& image, const Stack& reference, double radius) {
  const double mid = (image.width - 1) / 2.0;
  double lo = 1e30, hi = -1e30, se = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < image.height; ++i)
    for (std::size_t j = 0; j < image.width; ++j) {
      if ((i - mid) * (i - mid) + (j - mid) * (j - mid) > radius * radius) continue;
      const double r = reference.at(0, i, j), d = image.at(0, i, j) - r;
      lo = std::min(lo, r);
      hi = std::max(hi, r);
      se += d * d;
      ++n;
    }
  return 10.0 * std::log10((hi - lo) * (hi - lo) / (se / n));
}

double mean_in_circle(const Stack& image, double radius) {
  const double mid = (image.width - 1) / 2.0;
  double sum = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < image.height; ++i)
    for (std::size_t j = 0; j < image.width; ++j)
      if ((i - mid) * (i - mid) + (j - mid) * (j - mid) <= radius * radius) sum += image.at(0, i, j), ++n;
  return sum / n;
}

double mean_abs_difference(const Stack& a, const Stack& b) {
  double sum = 0.0;
  for (std::size_t k = 0; k < a.data.size(); ++k) sum += std::abs(a.data[k] - b.data[k]);
  return sum / a.data.size();
}

}  // namespace

TEST(TomoFbp, PaddedLengthIsTheNextEvenFftwFriendlySize) {
  EXPECT_EQ(sira::tomo::padded_length(1024), 2048u);
  EXPECT_EQ(sira::tomo::padded_length(640), 1280u);   // 2^8 * 5
  EXPECT_EQ(sira::tomo::padded_length(500), 1000u);   // 2^3 * 5^3
  EXPECT_EQ(sira::tomo::padded_length(129), 270u);    // 258..268 have a prime factor > 7
  EXPECT_EQ(sira::tomo::padded_length(1), 2u);
}

TEST(TomoFbp, RampResponseIsTheDftOfTheSpatialKernel) {
  // Direct double-precision DFT of h[0] = 1/4, h[d] = -1/(pi d)^2 (odd circular distance d).
  const std::size_t n = 64;
  const auto ramp = sira::tomo::filter_response(Filter::ramp, n);
  const auto shepp = sira::tomo::filter_response(Filter::shepp_logan, n);
  const auto hann = sira::tomo::filter_response(Filter::hann, n);
  ASSERT_EQ(ramp.size(), n / 2 + 1);
  for (std::size_t k = 0; k <= n / 2; ++k) {
    double h = 0.25;
    for (std::size_t m = 1; m < n; ++m) {
      const std::size_t d = std::min(m, n - m);
      if (d % 2 == 1) h += -1.0 / std::pow(std::numbers::pi * d, 2) * std::cos(2 * std::numbers::pi * k * m / n);
    }
    EXPECT_NEAR(ramp[k], h, 1e-6) << "bin " << k;
    const double w = std::numbers::pi * k / n;  // half the angular frequency
    EXPECT_NEAR(shepp[k], k == 0 ? h : h * std::sin(w) / w, 1e-6);
    EXPECT_NEAR(hann[k], h * 0.5 * (1 + std::cos(2 * w)), 1e-6);
  }
  // A ramp: about |f| in cycles per sample, 0.5 at Nyquist, small but positive at DC.
  EXPECT_NEAR(ramp[n / 2], 0.5, 5e-3);  // the kernel is truncated at n / 2
  EXPECT_GT(ramp[0], 0.0);
  EXPECT_LT(ramp[0], 0.01);
}

TEST(TomoFbp, UniformDiscKeepsItsValueOver180And360Degrees) {
  const std::size_t n = 97;
  const Stack phantom = disc(n, 30.0, 0.5);
  for (double arc : {std::numbers::pi, 2 * std::numbers::pi}) {
    const Sinograms s = sira::tomo::project(phantom, sira::tomo::uniform_angles(180, arc));
    const Stack rec = sira::tomo::fbp(s);
    EXPECT_NEAR(mean_in_circle(rec, 20.0), 0.5, 0.005) << "arc " << arc;
    EXPECT_NEAR(mean_in_circle(rec, 5.0), 0.5, 0.01) << "arc " << arc;
  }
}

TEST(TomoFbp, SheppLoganReachesThirtyDecibels) {
  // Noiseless 400-angle projections of the 256 Shepp-Logan phantom; judged inside
  // 90 % of the reconstruction circle.
  sira::tomo::PhantomOptions po;
  po.size = 256;
  const Stack phantom = sira::tomo::make_phantom(po);
  const Sinograms s = sira::tomo::project(phantom, sira::tomo::uniform_angles(400, std::numbers::pi));
  const Stack rec = sira::tomo::fbp(s, {Filter::ramp, 0, true});
  const double psnr = psnr_in_circle(rec, phantom, 0.9 * 127.5);
  EXPECT_GE(psnr, 30.0);
  // The smoother filters trade resolution for noise but still land close.
  EXPECT_GE(psnr_in_circle(sira::tomo::fbp(s, {Filter::shepp_logan, 0, false}), phantom, 0.9 * 127.5), 29.0);
  // Circle mask zeroes the corners.
  EXPECT_EQ(rec.at(0, 0, 0), 0.0f);
  EXPECT_EQ(rec.at(0, 255, 255), 0.0f);
}

TEST(TomoFbp, OffCentreAxisAndOutputSize) {
  // Projections taken with the axis at column 40.5 of a 96-column detector rebuild
  // the same disc when FBP is told that centre, at any output size.
  const Stack phantom = disc(64, 20.0, 1.0);
  Sinograms s = sira::tomo::project(phantom, sira::tomo::uniform_angles(200, std::numbers::pi), 96, 40.5);
  EXPECT_EQ(s.center, 40.5);
  const Stack rec = sira::tomo::fbp(s, {Filter::ramp, 64, false});
  ASSERT_EQ(rec.width, 64u);
  EXPECT_NEAR(mean_in_circle(rec, 15.0), 1.0, 0.01);
  EXPECT_NEAR(std::abs(rec.at(0, 1, 1)), 0.0, 0.05);  // outside the disc
  // A wrong centre smears the disc edge over a ring: the error grows several-fold.
  s.center = 44.5;
  const Stack wrong = sira::tomo::fbp(s, {Filter::ramp, 64, false});
  EXPECT_GT(mean_abs_difference(wrong, phantom), 3.0 * mean_abs_difference(rec, phantom));
}

TEST(TomoFbp, BackprojectLinearOfFilteredIsFbp) {
  // fbp = filter + backproject_linear: an unfiltered back-projection of a constant
  // sinogram is the angular weight times the number of angles at every pixel it covers.
  Sinograms s{Stack(1, 90, 41), sira::tomo::uniform_angles(90, std::numbers::pi), -1.0};
  std::fill(s.data.data.begin(), s.data.data.end(), 2.0f);
  const Stack b = sira::tomo::backproject_linear(s, 41, false);
  EXPECT_NEAR(b.at(0, 20, 20), 2.0 * std::numbers::pi, 1e-4);  // (pi / 90) * 90 * 2
  EXPECT_NEAR(b.at(0, 10, 25), 2.0 * std::numbers::pi, 1e-4);
}

TEST(TomoFbp, AccumulatorFedAngleByAngleEqualsFbp) {
  // sira serve feeds the back-projection one projection at a time: the slices must
  // equal fbp()'s of the same projections bit for bit, with and without the mask,
  // for an off-centre axis and a size that is not a multiple of the tiles.
  const std::size_t size = 77, n = 50, depth = 2;
  Stack phantom(depth, size, size);
  const Stack d = disc(size, 30.0, 1.0);
  for (std::size_t z = 0; z < depth; ++z)
    for (std::size_t k = 0; k < size * size; ++k) phantom.slice(z)[k] = d.data[k] * (1.0f + 0.5f * z);
  const auto theta = sira::tomo::uniform_angles(n, std::numbers::pi);
  Sinograms s = sira::tomo::project(phantom, theta, size, 37.25);
  for (bool mask : {false, true}) {
    const Stack whole = sira::tomo::fbp(s, {Filter::shepp_logan, 0, mask});
    sira::tomo::BackprojectionAccumulator acc(depth, size, size, 37.25);
    std::vector<float> one(depth * size);
    for (std::size_t a = 0; a < n; ++a) {
      for (std::size_t z = 0; z < depth; ++z)
        std::copy_n(s.data.slice(z) + a * size, size, one.data() + z * size);
      acc.add(one.data(), {theta[a]}, Filter::shepp_logan);
    }
    EXPECT_EQ(acc.angles(), n);
    const Stack inc = acc.finish(sira::tomo::angular_weight(theta), mask);
    ASSERT_EQ(inc.data.size(), whole.data.size());
    std::size_t differ = 0;
    for (std::size_t k = 0; k < inc.data.size(); ++k) differ += inc.data[k] != whole.data[k];
    EXPECT_EQ(differ, 0u) << "mask " << mask;
    EXPECT_GT(mean_in_circle(inc, 20.0), 0.9);  // a reconstruction, not zeros
  }
  EXPECT_THROW(sira::tomo::BackprojectionAccumulator(1, size, size, 80.0), sira::Error);  // centre off the detector
}

TEST(TomoFbp, AccumulatorMaskIsInsideCircle) {
  // The mask applied per slice is inside_circle, pixel by pixel, for odd and even sizes.
  for (std::size_t size : {77u, 64u, 5u, 1u}) {
    sira::tomo::BackprojectionAccumulator acc(1, size, size, -1.0);
    std::vector<float> ones(size, 1.0f);
    acc.add_filtered(ones.data(), {0.3});
    std::vector<float> masked(size * size), plain(size * size);
    acc.finish_slice(0, 1.0, true, masked.data());
    acc.finish_slice(0, 1.0, false, plain.data());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < size; ++i)
      for (std::size_t j = 0; j < size; ++j) {
        const float want = sira::tomo::inside_circle(i, j, size) ? plain[i * size + j] : 0.0f;
        wrong += masked[i * size + j] != want;
      }
    EXPECT_EQ(wrong, 0u) << "size " << size;
    const Stack whole = acc.finish(1.0, true);
    EXPECT_TRUE(std::equal(masked.begin(), masked.end(), whole.data.begin())) << "size " << size;
  }
}

TEST(TomoFbp, RejectsBadInput) {
  const auto theta = sira::tomo::uniform_angles(10, std::numbers::pi);
  Sinograms s{Stack(1, 10, 16), theta, -1.0};
  EXPECT_NO_THROW(sira::tomo::fbp(s));
  s.theta.resize(12);
  EXPECT_THROW(sira::tomo::fbp(s), sira::Error);
  s.theta = theta;
  s.data.at(0, 4, 3) = std::numeric_limits<float>::quiet_NaN();
  try {
    sira::tomo::fbp(s);
    FAIL() << "NaN accepted";
  } catch (const sira::Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
  s.data.at(0, 4, 3) = 0.0f;
  s.center = 20.0;
  EXPECT_THROW(sira::tomo::fbp(s), sira::Error);
  s.center = -1.0;
  EXPECT_THROW(sira::tomo::fbp(Sinograms{Stack(), {}, -1.0}), sira::Error);
  EXPECT_THROW(sira::tomo::parse_filter("butterworth"), sira::Error);
  EXPECT_EQ(sira::tomo::parse_filter("shepp-logan"), Filter::shepp_logan);
}
