// Reflect padding (PyTorch mode='reflect', bottom/right) and cropping back.
#include <gtest/gtest.h>

#include <vector>

#include "engine/tiling_padding.hpp"
#include "sira/error.hpp"

TEST(EnginePadding, ReflectsWithoutRepeatingTheEdge) {
  // numpy.pad([[1,2,3],[4,5,6]], ((0,1),(0,2)), mode='reflect')
  //   = [[1,2,3,2,1],[4,5,6,5,4],[1,2,3,2,1]]
  const std::vector<float> in{1, 2, 3, 4, 5, 6};
  std::vector<float> out(15);
  sira::reflect_pad(in.data(), 1, 2, 3, 3, 5, out.data());
  const std::vector<float> want{1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1};
  EXPECT_EQ(out, want);
}

TEST(EnginePadding, PadsEveryChannelAndCropsBack) {
  const std::size_t h = 5, w = 3, ph = 8, pw = 4;
  std::vector<float> in(2 * h * w);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(i);
  std::vector<float> out(2 * ph * pw);
  sira::reflect_pad(in.data(), 2, h, w, ph, pw, out.data());
  // Row 7 mirrors row 1 (7 -> 2*4 - 7), column 3 mirrors column 1.
  EXPECT_EQ(out[(1 * ph + 7) * pw + 3], in[(1 * h + 1) * w + 1]);
  EXPECT_EQ(out[(0 * ph + 5) * pw + 0], in[(0 * h + 3) * w + 0]);
  std::vector<float> back(h * w);
  sira::crop_top_left(out.data() + ph * pw, pw, h, w, back.data());
  EXPECT_EQ(back, std::vector<float>(in.begin() + h * w, in.end()));
}

TEST(EnginePadding, RefusesAPadAsLargeAsTheImage) {
  std::vector<float> in(4), out(64);
  EXPECT_THROW(sira::reflect_pad(in.data(), 1, 2, 2, 8, 8, out.data()), sira::Error);
}
