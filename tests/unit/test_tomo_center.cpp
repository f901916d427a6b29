// Rotation-centre finding on simulated scans with a known axis.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <utility>

#include "sira/error.hpp"
#include "sira/tomo/center.hpp"
#include "sira/tomo/phantom.hpp"
#include "sira/tomo/projector.hpp"

namespace {

using sira::Stack;
using sira::tomo::Sinograms;

Sinograms scan(std::size_t n_angles, double arc, bool endpoint, double center) {
  sira::tomo::PhantomOptions po;
  po.size = 96;
  const Stack phantom = sira::tomo::make_phantom(po);
  std::vector<double> theta(n_angles);
  for (std::size_t k = 0; k < n_angles; ++k) theta[k] = arc * k / (endpoint ? n_angles - 1 : n_angles);
  return sira::tomo::project(phantom, theta, 128, center);
}

}  // namespace

TEST(TomoCenter, OppositeProjectionsGiveTheAxis) {
  // 0..180 degrees inclusive, 0..180 exclusive (like the APS tooth: the partner of 0 is
  // 180 - step, good to about a pixel), and a 360-degree scan.
  for (double truth : {61.3, 66.0, 70.75}) {
    const Sinograms a = scan(91, std::numbers::pi, true, truth);
    EXPECT_NEAR(sira::tomo::center_from_opposite_projections(a), truth, 0.25) << "180, centre " << truth;
    const Sinograms open = scan(181, std::numbers::pi, false, truth);
    EXPECT_NEAR(sira::tomo::center_from_opposite_projections(open), truth, 1.0) << "[0, 180), centre " << truth;
    const Sinograms b = scan(120, 2 * std::numbers::pi, false, truth);
    EXPECT_NEAR(sira::tomo::center_from_opposite_projections(b), truth, 0.25) << "360, centre " << truth;
  }
}

TEST(TomoCenter, FindCenterRefinesToSubPixel) {
  const Sinograms a = scan(91, std::numbers::pi, true, 62.4);
  EXPECT_NEAR(sira::tomo::find_center(a), 62.4, 0.5);
  // Without an opposite pair (a 0..160 degree scan) the wide entropy search alone finds it.
  const Sinograms b = scan(80, 8 * std::numbers::pi / 9, false, 66.2);
  EXPECT_THROW(sira::tomo::center_from_opposite_projections(b), sira::Error);
  EXPECT_NEAR(sira::tomo::find_center(b), 66.2, 1.0);
}

TEST(TomoCenter, EntropyIsLowestNearTheTruth) {
  const Sinograms a = scan(91, std::numbers::pi, true, 63.0);
  const auto scores = sira::tomo::score_centers(a, {57.0, 60.0, 63.0, 66.0, 69.0});
  ASSERT_EQ(scores.size(), 5u);
  for (std::size_t k = 0; k < scores.size(); ++k)
    if (k != 2) {
      EXPECT_GT(scores[k].score, scores[2].score) << "candidate " << scores[k].center;
    }
}

TEST(TomoCenter, RejectsBadInput) {
  Sinograms s{Stack(1, 10, 16), sira::tomo::uniform_angles(10, std::numbers::pi), -1.0};
  EXPECT_THROW(sira::tomo::score_centers(s, {20.0}), sira::Error);  // outside the detector
  EXPECT_THROW(sira::tomo::score_centers(s, {}), sira::Error);
  s.data.at(0, 1, 1) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(sira::tomo::find_center(s), sira::Error);
  EXPECT_THROW(sira::tomo::find_center(Sinograms{}), sira::Error);
}

TEST(TomoCenter, SurvivesDeadColumnsStripesAndNoise) {
  // What real detectors add (the neutron scan has dead columns reading 0 counts, i.e. a
  // clipped, huge line integral, next to brighter stripes): the cleaning before the
  // registration and the blurred entropy must keep the axis to within a pixel.
  sira::tomo::PhantomOptions po;
  po.kind = sira::tomo::PhantomKind::foam;
  po.size = 128;
  po.seed = 3;
  const Stack phantom = sira::tomo::make_phantom(po);
  std::mt19937_64 rng(11);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (const auto& [arc, truth] : {std::pair{std::numbers::pi, 83.3}, std::pair{2 * std::numbers::pi, 76.6}}) {
    std::vector<double> theta(240);
    for (std::size_t k = 0; k < theta.size(); ++k) theta[k] = arc * k / theta.size();  // open: no partner for 0 at 180
    Sinograms s = sira::tomo::project(phantom, theta, 160, truth);
    for (std::size_t a = 0; a < theta.size(); ++a) {
      float* row = s.data.slice(0) + a * 160;
      for (std::size_t u = 0; u < 160; ++u) row[u] += noise(rng);
      row[40] = 13.8f;   // dead column: -log of the transmission floor
      row[41] = 13.8f;
      row[101] += 0.3f;  // stripe
    }
    EXPECT_NEAR(sira::tomo::find_center(s), truth, 1.0) << "arc " << arc;
  }
}

// center_rows names the slices find_center uses, so find_center of just those slices
// (what one MPI rank reads) is find_center of all of them, bit for bit.
TEST(TomoCenter, CenterRowsAreTheSlicesFindCenterUses) {
  EXPECT_EQ(sira::tomo::center_rows(20, 8), (std::vector<std::size_t>{0, 2, 5, 8, 10, 13, 16, 19}));
  EXPECT_EQ(sira::tomo::center_rows(3, 8), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(sira::tomo::center_rows(5, 1), (std::vector<std::size_t>{2}));
  const Sinograms one = scan(91, std::numbers::pi, true, 63.2);
  const std::size_t depth = 11, plane = one.data.slice_size();
  Sinograms all{Stack(depth, one.data.height, one.data.width), one.theta, -1.0};
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (std::size_t z = 0; z < depth; ++z)
    for (std::size_t k = 0; k < plane; ++k) all.data.slice(z)[k] = one.data.data[k] * (1.0f + 0.03f * z) + noise(rng);
  const auto rows = sira::tomo::center_rows(depth, sira::tomo::CenterOptions{}.max_rows);
  Sinograms picked{Stack(rows.size(), all.data.height, all.data.width), all.theta, -1.0};
  for (std::size_t k = 0; k < rows.size(); ++k)
    std::copy(all.data.slice(rows[k]), all.data.slice(rows[k]) + plane, picked.data.slice(k));
  EXPECT_EQ(sira::tomo::find_center(all), sira::tomo::find_center(picked));
}
