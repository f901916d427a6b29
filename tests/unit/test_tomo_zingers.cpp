// Zinger removal against scipy.ndimage.median_filter (mode 'reflect') and the rule
// where(a - m > t * |m|, m, a), computed with Debian's scipy 1.10 on the hand case:
//   rng = np.random.default_rng(3); img = (1 + 0.03 * rng.standard_normal((5, 7)))
//   img[0,0] = 1.5; img[2,3] = 2.0; img[4,6] = 1.3; img[1,5] = 1.15; img[3,1] = 0.5
//   img = np.round(img, 3).astype(np.float32); m = ndi.median_filter(img, size=S, mode='reflect')
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sira/error.hpp"
#include "sira/tomo/zingers.hpp"

using namespace sira::tomo;

namespace {

const std::vector<float> kImage = {
    1.5f,        0.922999978f, 1.01300001f, 0.98299998f, 0.986000001f, 0.994000018f, 0.93900001f,
    0.992999971f, 0.973999977f, 1.10000002f, 1.00699997f, 0.989000022f, 1.14999998f, 0.980000019f,
    0.967999995f, 0.987999976f, 1.01400006f, 2.f,         1.02900004f, 0.994000018f, 1.00100005f,
    1.046f,      0.5f,         0.985000014f, 0.995000005f, 1.01600003f, 1.05799997f, 0.991999984f,
    0.992999971f, 1.02999997f, 0.97299999f, 0.990999997f, 1.02600002f, 1.01699996f, 1.29999995f};

// scipy, size 3, threshold 0.2: 3 replaced (the corner, the centre spike, the far corner).
const std::vector<float> kScipy3 = {
    0.992999971f, 0.922999978f, 1.01300001f, 0.98299998f, 0.986000001f, 0.994000018f, 0.93900001f,
    0.992999971f, 0.973999977f, 1.10000002f, 1.00699997f, 0.989000022f, 1.14999998f, 0.980000019f,
    0.967999995f, 0.987999976f, 1.01400006f, 1.01400006f, 1.02900004f, 0.994000018f, 1.00100005f,
    1.046f,      0.5f,         0.985000014f, 0.995000005f, 1.01600003f, 1.05799997f, 0.991999984f,
    0.992999971f, 1.02999997f, 0.97299999f, 0.990999997f, 1.02600002f, 1.01699996f, 1.05799997f};

// scipy, size 5, threshold 0.1: 5 replaced (also the 1.10 and 1.15; the 0.5 dip stays).
const std::vector<float> kScipy5 = {
    0.992999971f, 0.922999978f, 1.01300001f, 0.98299998f, 0.986000001f, 0.994000018f, 0.93900001f,
    0.992999971f, 0.973999977f, 0.992999971f, 1.00699997f, 0.989000022f, 0.991999984f, 0.980000019f,
    0.967999995f, 0.987999976f, 1.01400006f, 0.995000005f, 1.02900004f, 0.994000018f, 1.00100005f,
    1.046f,      0.5f,         0.985000014f, 0.995000005f, 1.01600003f, 1.05799997f, 0.991999984f,
    0.992999971f, 1.02999997f, 0.97299999f, 0.990999997f, 1.02600002f, 1.01699996f, 1.01699996f};

}  // namespace

TEST(Zingers, Size3MatchesScipyMedianRule) {
  std::vector<float> img = kImage;
  const std::size_t n = remove_zingers(img.data(), 5, 7, ZingerOptions{0.2, 3});
  EXPECT_EQ(n, 3u);
  for (std::size_t i = 0; i < img.size(); ++i) EXPECT_FLOAT_EQ(img[i], kScipy3[i]) << "sample " << i;
}

TEST(Zingers, Size5MatchesScipyMedianRule) {
  std::vector<float> img = kImage;
  const std::size_t n = remove_zingers(img.data(), 5, 7, ZingerOptions{0.1, 5});
  EXPECT_EQ(n, 5u);
  for (std::size_t i = 0; i < img.size(); ++i) EXPECT_FLOAT_EQ(img[i], kScipy5[i]) << "sample " << i;
}

// TomoPy-style hand cases: a flat field with one spike; the spike's excess decides.
TEST(Zingers, ThresholdIsRelativeToTheMedian) {
  for (const float scale : {1.0f, 1000.0f}) {  // transmission or raw counts: the same decision
    std::vector<float> a(9, 1.0f * scale);
    a[4] = 1.25f * scale;  // 25 % above the median
    auto b = a;
    EXPECT_EQ(remove_zingers(a.data(), 3, 3, ZingerOptions{0.2, 3}), 1u);
    EXPECT_FLOAT_EQ(a[4], 1.0f * scale);
    EXPECT_EQ(remove_zingers(b.data(), 3, 3, ZingerOptions{0.3, 3}), 0u);
    EXPECT_FLOAT_EQ(b[4], 1.25f * scale);
  }
  std::vector<float> dip(9, 1.0f);
  dip[4] = 0.1f;  // dark outliers are the object, never zingers
  EXPECT_EQ(remove_zingers(dip.data(), 3, 3, ZingerOptions{0.2, 3}), 0u);
}

TEST(Zingers, LineIntegralRuleEqualsTheRuleOnTransmission) {
  std::vector<float> t = kImage, p(kImage.size());
  for (std::size_t i = 0; i < t.size(); ++i) p[i] = -std::log(t[i]);
  const std::size_t nt = remove_zingers(t.data(), 5, 7, ZingerOptions{0.1, 5}, SampleDomain::intensity);
  const std::size_t np = remove_zingers(p.data(), 5, 7, ZingerOptions{0.1, 5}, SampleDomain::line_integral);
  EXPECT_EQ(nt, np);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(p[i], -std::log(t[i]), 1e-6) << "sample " << i;
}

TEST(Zingers, OnlyListedRowsAreFilteredFromTheirNeighbours) {
  std::vector<float> img = kImage;
  const std::vector<std::size_t> rows = {2, 4};
  EXPECT_EQ(remove_zingers(img.data(), 5, 7, ZingerOptions{0.2, 3}, SampleDomain::intensity, &rows), 2u);
  for (std::size_t y = 0; y < 5; ++y)
    for (std::size_t x = 0; x < 7; ++x) {
      const std::size_t i = y * 7 + x;
      EXPECT_FLOAT_EQ(img[i], (y == 2 || y == 4) ? kScipy3[i] : kImage[i]) << y << "," << x;
    }
}

TEST(Zingers, RejectsBadOptions) {
  std::vector<float> a(9, 1.0f);
  EXPECT_THROW(remove_zingers(a.data(), 3, 3, ZingerOptions{0.0, 3}), sira::Error);
  EXPECT_THROW(remove_zingers(a.data(), 3, 3, ZingerOptions{0.2, 4}), sira::Error);
}
