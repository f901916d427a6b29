// The raw-counts check: counts are whole numbers >= 0 with a large median; line
// integrals (even scaled) or small labels are not.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>
#include <vector>

#include "sira/io.hpp"
#include "sira/tomo/dxchange.hpp"
#include "sira/tomo/raw_counts.hpp"

using namespace sira::tomo;

TEST(RawCounts, CountsAreRecognised) {
  std::vector<float> counts = {0, 12000, 39320, 53711, 800, 20000, 31000};
  const auto c = check_raw_counts(counts.data(), counts.size());
  EXPECT_TRUE(c.looks_raw);
  EXPECT_EQ(c.median, 20000);
  const std::string w = raw_counts_warning(c, "s.tif");
  EXPECT_NE(w.find("--raw-counts"), std::string::npos) << w;
  EXPECT_NE(w.find("--scale"), std::string::npos) << w;
}

TEST(RawCounts, LineIntegralsAndSmallIntegersAreNot) {
  std::vector<float> p = {0.0f, 0.5f, 1.25f, 2.0f, 3.5f};
  EXPECT_FALSE(check_raw_counts(p.data(), p.size()).looks_raw);
  std::vector<float> scaled = {0.0f, 512.3f, 1250.7f, 2000.1f};  // line integrals x 1000, not whole
  EXPECT_FALSE(check_raw_counts(scaled.data(), scaled.size()).looks_raw);
  std::vector<float> small = {0, 1, 2, 3, 4, 5};  // whole but small: plausible line integrals
  EXPECT_FALSE(check_raw_counts(small.data(), small.size()).looks_raw);
  std::vector<float> negative = {-1, 100, 200, 300};
  EXPECT_FALSE(check_raw_counts(negative.data(), negative.size()).looks_raw);
  EXPECT_TRUE(raw_counts_warning(check_raw_counts(p.data(), p.size()), "x").empty());
}

TEST(RawCounts, PlainSinogramReadAsLineIntegralsWarnsUnlessRawCounts) {
  const auto path = (std::filesystem::temp_directory_path() / ("sira_raw_" + std::to_string(getpid()) + ".npy")).string();
  sira::Stack s(1, 8, 16);
  for (std::size_t i = 0; i < s.size(); ++i) s.data[i] = float(1000 + 37 * (i % 11));
  sira::write_stack(path, s, sira::DType::f32);
  ProjectionInput in;
  in.angle_range = AngleRange{0, 180, 0};
  InputReport report;
  read_sinogram(path, in, &report);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("raw detector counts"), std::string::npos) << report.warnings[0];
  in.raw_counts = true;
  read_sinogram(path, in, &report);
  EXPECT_TRUE(report.warnings.empty());
  std::filesystem::remove(path);
}
