// Dead/hot pixels: a synthetic projection set (Data Exchange, and a plain sinogram
// of counts like the neutron one: a column reading 0 in a quarter of the
// projections and too bright in the others) whose defects must be found and
// interpolated; and the rules on hand cases.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/tomo/dead_pixels.hpp"
#include "sira/tomo/dxchange.hpp"

using namespace sira;
using namespace sira::tomo;

namespace {

constexpr std::size_t kAngles = 40, kRows = 4, kCols = 32;

// Line integral of an off-centre Gaussian blob (smooth, so linear interpolation across
// one column is accurate to ~0.01).
double disk(std::size_t a, std::size_t c) {
  const double theta = M_PI * double(a) / kAngles, s = double(c) - 15.5 - 4 * std::cos(theta);
  return 0.8 * std::exp(-s * s / (2 * 36.0));
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sira_dead_" + std::to_string(getpid()) + "_" + name)).string();
}

}  // namespace

TEST(DeadPixels, HandCasesOfTheThreeRules) {
  // Two frames of one row: column 2 has no response, column 5 is twice as bright
  // as its neighbours, column 7 is stuck (given), the rest are uniform.
  std::vector<float> frames = {10, 10, 0, 10, 10, 20, 10, 10, 10, 10,
                               11, 11, 0, 11, 11, 22, 11, 11, 11, 11};
  FrameSource refs{2, 1, 10, [&](std::size_t f, std::size_t) { return frames.data() + f * 10; }};
  std::vector<std::uint8_t> stuck(10, 0);
  stuck[7] = 1;
  const DeadPixelMap map = find_dead_pixels(refs, DeadPixelOptions{}, SampleDomain::intensity, {}, stuck);
  EXPECT_EQ(map.count(), 3u);
  EXPECT_EQ(map.reason[2], DeadReason::zero);
  EXPECT_EQ(map.reason[5], DeadReason::off);
  EXPECT_EQ(map.reason[7], DeadReason::constant);
  EXPECT_EQ(map.dead_columns(), (std::vector<std::size_t>{2, 5, 7}));
  // 5 % off its neighbours is within the default tolerance (0.1).
  frames[5] = 10.5f, frames[15] = 11.55f;
  EXPECT_EQ(find_dead_pixels(refs, DeadPixelOptions{}).count(DeadReason::off), 0u);
}

TEST(DeadPixels, InterpolationIsLinearAlongTheRow) {
  DeadPixelMap map;
  map.rows = 1, map.cols = 8;
  map.reason.assign(8, DeadReason::good);
  map.reason[0] = map.reason[3] = map.reason[4] = map.reason[7] = DeadReason::zero;
  std::vector<float> line = {9, 1, 2, 0, 0, 5, 6, 9};
  interpolate_dead_pixels(line.data(), 0, map);
  EXPECT_EQ(line, (std::vector<float>{1, 1, 2, 3, 4, 5, 6, 6}));  // edges take the nearest good pixel
}

TEST(DeadPixels, FoundInDataExchangeFlatsAndInterpolated) {
  const std::string path = temp_path("dx.h5");
  Stack data(kAngles, kRows, kCols), white(3, kRows, kCols), dark(3, kRows, kCols);
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t r = 0; r < kRows; ++r)
      for (std::size_t c = 0; c < kCols; ++c) {
        dark.at(k, r, c) = 100;
        white.at(k, r, c) = c == 13 ? 0.0f : float(1100 + 10 * c);  // column 13 is dead
      }
  white.at(0, 1, 20) = white.at(1, 1, 20) = white.at(2, 1, 20) = 3000;  // a hot flat pixel
  for (std::size_t a = 0; a < kAngles; ++a)
    for (std::size_t r = 0; r < kRows; ++r)
      for (std::size_t c = 0; c < kCols; ++c)
        data.at(a, r, c) = c == 13 ? 0.0f : float(100 + (1000 + 10 * c) * std::exp(-disk(a, c)));
  for (std::size_t a = 0; a < kAngles; ++a) data.at(a, 2, 5) = 555;  // stuck
  std::vector<double> theta(kAngles);
  for (std::size_t a = 0; a < kAngles; ++a) theta[a] = 180.0 * double(a) / kAngles;
  {
    H5File f = H5File::create(path);
    f.write("/exchange/data", data, DType::f32);
    f.write("/exchange/data_white", white, DType::f32);
    f.write("/exchange/data_dark", dark, DType::f32);
    f.write_vector("/exchange/theta", theta);
    f.commit();
  }
  ProjectionInput in;
  in.max_bad_flat_fraction = 0.1;  // a whole dead column of this small detector is 3 %
  in.dead_pixels = DeadPixelOptions{};
  InputReport report;
  const Sinograms s = read_dxchange(path, in, &report);
  EXPECT_EQ(report.dead_pixels, kRows + 2);
  EXPECT_EQ(report.dead_columns, (std::vector<std::size_t>{13}));
  double worst = 0;
  for (std::size_t r = 0; r < kRows; ++r)
    for (std::size_t a = 0; a < kAngles; ++a)
      for (std::size_t c = 0; c < kCols; ++c) worst = std::max(worst, std::abs(s.data.at(r, a, c) - disk(a, c)));
  EXPECT_LT(worst, 0.02);  // p reaches 0.8; one interpolated column is off by at most the curvature
  // Without the option the dead column and the stuck pixel are wrong by far more.
  in.dead_pixels.reset();
  const Sinograms raw = read_dxchange(path, in);
  EXPECT_GT(std::abs(raw.data.at(2, 0, 5) - disk(0, 5)), 0.3);
  std::filesystem::remove(path);
}

TEST(DeadPixels, FoundInAPlainSinogramOfCounts) {
  // A neutron-like column: 0 counts in every 4th projection, 25 % too bright otherwise.
  const std::string path = temp_path("sino.npy");
  Stack sino(1, kAngles, kCols);
  for (std::size_t a = 0; a < kAngles; ++a)
    for (std::size_t c = 0; c < kCols; ++c) {
      float v = float(20000 * std::exp(-disk(a, c)));
      if (c == 9) v = a % 4 == 0 ? 0.0f : 1.25f * v;
      sino.at(0, a, c) = std::round(v);
    }
  write_stack(path, sino, DType::f32);
  ProjectionInput in;
  in.raw_counts = true;
  in.angle_range = AngleRange{0, 180, 0};
  in.dead_pixels = DeadPixelOptions{};
  InputReport report;
  const Sinograms s = read_sinogram(path, in, &report);
  EXPECT_EQ(report.dead_columns, (std::vector<std::size_t>{9}));
  EXPECT_EQ(report.dead_pixels, 1u);
  // Interpolated counts, then -log against the open beam (20000 at the edges): linear in
  // counts, so a little below the curved -log profile (the defect was off by 0.22 .. 14).
  for (std::size_t a = 0; a < kAngles; ++a) EXPECT_NEAR(s.data.at(0, a, 9), disk(a, 9), 0.05) << "angle " << a;
  std::filesystem::remove(path);
}
