// Reflect padding (PyTorch mode='reflect', bottom/right), region gathering with
// normalisation, and cropping back.
#include <gtest/gtest.h>

#include <vector>

#include "engine/tiling_padding.hpp"
#include "sira/error.hpp"

namespace {

// Pads whole planes (channels consecutive h x w planes) with no normalisation.
std::vector<float> pad_whole(const std::vector<float>& in, std::size_t channels, std::size_t h,
                             std::size_t w, std::size_t ph, std::size_t pw) {
  std::vector<const float*> planes;
  for (std::size_t c = 0; c < channels; ++c) planes.push_back(in.data() + c * h * w);
  std::vector<float> out(channels * ph * pw);
  sira::gather_padded(planes, h, w, ph, pw, sira::Rect{0, 0, ph, pw}, 0.0f, 1.0f, out.data());
  return out;
}

}  // namespace

TEST(EnginePadding, ReflectsWithoutRepeatingTheEdge) {
  // numpy.pad([[1,2,3],[4,5,6]], ((0,1),(0,2)), mode='reflect')
  //   = [[1,2,3,2,1],[4,5,6,5,4],[1,2,3,2,1]]
  const std::vector<float> in{1, 2, 3, 4, 5, 6};
  const std::vector<float> want{1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1};
  EXPECT_EQ(pad_whole(in, 1, 2, 3, 3, 5), want);
}

TEST(EnginePadding, PadsEveryChannelAndCropsBack) {
  const std::size_t h = 5, w = 3, ph = 8, pw = 4;
  std::vector<float> in(2 * h * w);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(i);
  const std::vector<float> out = pad_whole(in, 2, h, w, ph, pw);
  // Row 7 mirrors row 1 (7 -> 2*4 - 7), column 3 mirrors column 1.
  EXPECT_EQ(out[(1 * ph + 7) * pw + 3], in[(1 * h + 1) * w + 1]);
  EXPECT_EQ(out[(0 * ph + 5) * pw + 0], in[(0 * h + 3) * w + 0]);
  std::vector<float> back(h * w);
  sira::crop_top_left(out.data() + ph * pw, pw, h, w, back.data());
  EXPECT_EQ(back, std::vector<float>(in.begin() + h * w, in.end()));
}

TEST(EnginePadding, ARegionIsThatWindowOfThePaddedImageNormalised) {
  const std::size_t h = 13, w = 11, ph = 16, pw = 16;
  std::vector<float> in(2 * h * w);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(i % 37) * 0.5f - 3.0f;
  const std::vector<float> whole = pad_whole(in, 2, h, w, ph, pw);
  const float offset = 1.25f, scale = 0.3f;
  // Regions inside, straddling the right/bottom padding, and wholly in it.
  for (const sira::Rect r : {sira::Rect{2, 3, 9, 8}, sira::Rect{8, 5, 16, 16},
                             sira::Rect{13, 12, 16, 16}}) {
    std::vector<float> got(2 * r.height() * r.width());
    sira::gather_padded({in.data(), in.data() + h * w}, h, w, ph, pw, r, offset, scale,
                        got.data());
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t y = r.y0; y < r.y1; ++y)
        for (std::size_t x = r.x0; x < r.x1; ++x)
          ASSERT_EQ(got[(c * r.height() + y - r.y0) * r.width() + x - r.x0],
                    (whole[(c * ph + y) * pw + x] - offset) * scale)
              << "c=" << c << " y=" << y << " x=" << x;
  }
}

TEST(EnginePadding, RefusesAPadAsLargeAsTheImageOrARegionOutside) {
  std::vector<float> in(4), out(64);
  EXPECT_THROW(pad_whole(in, 1, 2, 2, 8, 8), sira::Error);
  EXPECT_THROW(sira::gather_padded({in.data()}, 2, 2, 2, 2, sira::Rect{0, 0, 3, 2}, 0.0f, 1.0f,
                                   out.data()),
               sira::Error);
}
