#include <gtest/gtest.h>

#include "sira/error.hpp"
#include "sira/tomo/angle_splits.hpp"

using namespace sira;
using namespace sira::tomo;

namespace {

// 2 slices of 7 angles x 3 columns; sample (d, a, c) = 100 d + 10 a + c.
Sinograms numbered() {
  Sinograms s{Stack(2, 7, 3), {}, 1.0};
  for (std::size_t a = 0; a < 7; ++a) s.theta.push_back(0.1 * double(a));
  for (std::size_t d = 0; d < 2; ++d)
    for (std::size_t a = 0; a < 7; ++a)
      for (std::size_t c = 0; c < 3; ++c) s.data.at(d, a, c) = float(100 * d + 10 * a + c);
  return s;
}

}  // namespace

TEST(AngleSplits, SubsetJHoldsEveryKthAngleFromJ) {
  const auto parts = split_angles(numbered(), 3);
  ASSERT_EQ(parts.size(), 3u);
  const std::vector<std::vector<std::size_t>> want{{0, 3, 6}, {1, 4}, {2, 5}};
  for (std::size_t j = 0; j < 3; ++j) {
    ASSERT_EQ(parts[j].theta.size(), want[j].size());
    EXPECT_EQ(parts[j].data.height, want[j].size());
    EXPECT_EQ(parts[j].center, 1.0);
    for (std::size_t i = 0; i < want[j].size(); ++i) {
      EXPECT_DOUBLE_EQ(parts[j].theta[i], 0.1 * double(want[j][i]));
      for (std::size_t d = 0; d < 2; ++d)
        for (std::size_t c = 0; c < 3; ++c)
          EXPECT_EQ(parts[j].data.at(d, i, c), float(100 * d + 10 * want[j][i] + c));
    }
  }
  EXPECT_THROW(split_angles(numbered(), 1), Error);
  EXPECT_THROW(split_angles(numbered(), 4), Error);  // 7 angles: a subset of 1
}

TEST(AngleSplits, PairJMapsTheMeanOfTheOthersToPartJ) {
  std::vector<Stack> parts;
  for (float v : {1.0f, 2.0f, 6.0f}) {
    Stack s(1, 2, 2);
    std::fill(s.data.begin(), s.data.end(), v);
    parts.push_back(s);
  }
  const auto pairs = split_pairs(parts);
  ASSERT_EQ(pairs.size(), 3u);
  const float inputs[3] = {4.0f, 3.5f, 1.5f}, targets[3] = {1, 2, 6};
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_FLOAT_EQ(pairs[j].input.data[0], inputs[j]);
    EXPECT_FLOAT_EQ(pairs[j].target.data[3], targets[j]);
  }
  EXPECT_THROW(split_pairs({parts[0]}), Error);
}
