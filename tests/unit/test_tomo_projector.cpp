// Joseph projector and its adjoint: exact transpose pair, hand-computed projections,
// analytic line integrals of a disc, and input validation.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "sira/error.hpp"
#include "sira/tomo/projector.hpp"

namespace {

using sira::Stack;
using sira::tomo::Sinograms;

Stack random_stack(std::size_t d, std::size_t h, std::size_t w, unsigned seed) {
  Stack s(d, h, w);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : s.data) v = dist(rng);
  return s;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) s += static_cast<double>(a[k]) * b[k];
  return s;
}

// Disc of radius r (pixels) centred in a size x size image, value 1, area-weighted
// by 16 x 16 sub-samples per pixel so the edge is not a staircase.
Stack disc(std::size_t size, double r) {
  Stack s(1, size, size);
  const double mid = (size - 1) / 2.0;
  constexpr int sub = 16;
  for (std::size_t i = 0; i < size; ++i)
    for (std::size_t j = 0; j < size; ++j) {
      int inside = 0;
      for (int a = 0; a < sub; ++a)
        for (int b = 0; b < sub; ++b) {
          const double y = i - mid - 0.5 + (a + 0.5) / sub, x = j - mid - 0.5 + (b + 0.5) / sub;
          inside += x * x + y * y <= r * r;
        }
      s.at(0, i, j) = static_cast<float>(inside) / (sub * sub);
    }
  return s;
}

}  // namespace

TEST(TomoProjector, AdjointMatchesForwardToFloatPrecision) {
  // Odd and even sizes, a detector wider than the image, an off-centre axis, and
  // angles that include 45 degrees (where the walk switches axis) and a full turn.
  for (const auto& [size, width, center] : {std::tuple{37, 45, 21.3}, std::tuple{32, 32, 15.5},
                                            std::tuple{40, 29, 12.0}}) {
    std::vector<double> theta = sira::tomo::uniform_angles(48, 2 * std::numbers::pi);
    theta.push_back(std::numbers::pi / 4);
    theta.push_back(0.123);
    const Stack x = random_stack(2, size, size, 1);
    const Sinograms ax = sira::tomo::project(x, theta, width, center);
    Sinograms y{random_stack(2, theta.size(), width, 2), theta, center};
    const Stack aty = sira::tomo::backproject(y, size);
    ASSERT_EQ(aty.width, static_cast<std::size_t>(size));
    const double lhs = dot(ax.data.data, y.data.data), rhs = dot(x.data, aty.data);
    EXPECT_NEAR(lhs, rhs, 1e-5 * (std::abs(lhs) + std::abs(rhs)) + 1e-6) << "size " << size;
  }
}

TEST(TomoProjector, AxisAlignedAnglesSumColumnsAndRows) {
  // theta = 0: the ray through column u runs down column u; theta = pi/2: the ray of
  // column u runs along row size-1-u (x cos - y sin = -y with y pointing down).
  const std::size_t n = 9;
  const Stack img = random_stack(1, n, n, 3);
  const Sinograms s = sira::tomo::project(img, {0.0, std::numbers::pi / 2}, 0, -1.0);
  for (std::size_t u = 0; u < n; ++u) {
    double col = 0.0, row = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      col += img.at(0, k, u);
      row += img.at(0, n - 1 - u, k);
    }
    EXPECT_NEAR(s.data.at(0, 0, u), col, 1e-5);
    EXPECT_NEAR(s.data.at(0, 1, u), row, 1e-5);
  }
}

TEST(TomoProjector, DiscProjectionIsTheChordLength) {
  // Line integral of a unit disc of radius R at distance t from its centre: 2 sqrt(R^2 - t^2).
  const std::size_t n = 129;
  const double r = 40.0;
  const Stack img = disc(n, r);
  const std::vector<double> theta = {0.0, 0.3, std::numbers::pi / 4, 1.1, 2.0};
  const Sinograms s = sira::tomo::project(img, theta, 0, -1.0);
  const double mid = (n - 1) / 2.0;
  for (std::size_t a = 0; a < theta.size(); ++a)
    for (std::size_t u = 0; u < n; ++u) {
      const double t = u - mid;
      if (std::abs(t) > 0.9 * r) continue;
      const double chord = 2.0 * std::sqrt(r * r - t * t);
      EXPECT_NEAR(s.data.at(0, a, u), chord, 0.01 * chord) << "angle " << theta[a] << " column " << u;
    }
}

TEST(TomoProjector, CenterShiftsTheSinogram) {
  // Moving the axis by a whole number of columns moves every projection by as much.
  const Stack img = disc(33, 10.0);
  const auto theta = sira::tomo::uniform_angles(20, std::numbers::pi);
  const Sinograms a = sira::tomo::project(img, theta, 48, 20.0);
  const Sinograms b = sira::tomo::project(img, theta, 48, 25.0);
  for (std::size_t k = 0; k < theta.size(); ++k)
    for (std::size_t u = 0; u + 5 < 48; ++u) EXPECT_NEAR(a.data.at(0, k, u), b.data.at(0, k, u + 5), 1e-4);
}

TEST(TomoProjector, RejectsBadInput) {
  const auto theta = sira::tomo::uniform_angles(10, std::numbers::pi);
  EXPECT_THROW(sira::tomo::project(Stack(1, 8, 9), theta), sira::Error);  // not square
  EXPECT_THROW(sira::tomo::project(Stack(), theta), sira::Error);         // empty
  EXPECT_THROW(sira::tomo::project(Stack(1, 8, 8), {}), sira::Error);     // no angles
  EXPECT_THROW(sira::tomo::project(Stack(1, 8, 8), theta, 8, 7.5), sira::Error);  // centre off detector
  Stack nan_image(1, 8, 8);
  nan_image.at(0, 3, 4) = std::nanf("");
  EXPECT_THROW(sira::tomo::project(nan_image, theta), sira::Error);

  Sinograms s{Stack(1, 10, 16), theta, -1.0};
  s.theta.pop_back();  // 9 angles for 10 projections
  try {
    sira::tomo::backproject(s);
    FAIL() << "mismatched angle count accepted";
  } catch (const sira::Error& e) {
    EXPECT_NE(std::string(e.what()).find("9 angles"), std::string::npos) << e.what();
  }
  s.theta = theta;
  s.center = 16.0;  // detector columns are 0..15
  EXPECT_THROW(sira::tomo::backproject(s), sira::Error);
}
