#include <gtest/gtest.h>

#include <algorithm>

#include "sira/error.hpp"
#include "sira/tomo/pairs.hpp"

using namespace sira::tomo;

TEST(PairSplit, TestBlockAtTheEndWithAGuardSlice) {
  const auto s = split_slices(20, 0.2);  // 4 test, 1 guard, 15 train
  EXPECT_EQ(s.test, (std::vector<std::size_t>{16, 17, 18, 19}));
  EXPECT_EQ(s.guard, 1u);
  ASSERT_EQ(s.train.size(), 15u);
  EXPECT_EQ(s.train.back(), 14u);
}

TEST(PairSplit, SmallCases) {
  const auto two = split_slices(2, 0.5);  // no room for a guard
  EXPECT_EQ(two.train, (std::vector<std::size_t>{0}));
  EXPECT_EQ(two.test, (std::vector<std::size_t>{1}));
  EXPECT_EQ(two.guard, 0u);
  const auto none = split_slices(5, 0.0);
  EXPECT_EQ(none.train.size(), 5u);
  EXPECT_TRUE(none.test.empty());
  EXPECT_EQ(split_slices(10, 0.01).test.size(), 1u);  // at least one test slice
  EXPECT_THROW(split_slices(1, 0.5), sira::Error);
}

TEST(Pairs, PhantomPairsHaveMatchingShapesAndDisjointSplit) {
  PairOptions o;
  o.phantom.kind = PhantomKind::foam;
  o.phantom.size = 32;
  o.phantom.slices = 6;
  o.dose.dose = 0.1;
  o.test_fraction = 0.34;  // 2 test slices
  const PairSet p = make_pairs(o);
  EXPECT_EQ(p.train_ns.depth, 3u);
  EXPECT_EQ(p.test_ns.depth, 2u);
  EXPECT_EQ(p.train_gt.depth, p.train_ns.depth);
  EXPECT_EQ(p.train_ns.height, 32u);
  EXPECT_EQ(p.test_gt.width, 32u);
  for (auto t : p.test_slices)
    EXPECT_EQ(std::find(p.train_slices.begin(), p.train_slices.end(), t), p.train_slices.end());
  EXPECT_NE(p.train_ns.data, p.train_gt.data);
}

TEST(Pairs, RejectsBadOptions) {
  PairOptions o;
  o.phantom.size = 16;
  o.phantom.slices = 2;
  o.test_fraction = 1.0;
  EXPECT_THROW(make_pairs(o), sira::Error);
  o.test_fraction = 0.5;
  o.sparse = 0;
  EXPECT_THROW(make_pairs(o), sira::Error);
  EXPECT_THROW(parse_recon_method("art"), sira::Error);
  EXPECT_THROW(parse_clean_target("truth"), sira::Error);
}

TEST(Pairs, DoseRangeGivesEachSliceItsOwnDoseAndNoise) {
  PairOptions o;
  o.phantom.kind = PhantomKind::mixed;
  o.phantom.size = 32;
  o.phantom.slices = 12;
  o.dose.dose = 0.5;
  o.dose_min = 0.005;
  o.test_fraction = 0.25;
  const PairSet p = make_pairs(o);
  ASSERT_EQ(p.train_dose.size(), p.train_slices.size());
  ASSERT_EQ(p.test_dose.size(), p.test_slices.size());
  std::vector<double> all(p.train_dose);
  all.insert(all.end(), p.test_dose.begin(), p.test_dose.end());
  for (double d : all) EXPECT_TRUE(d >= 0.005 && d <= 0.5) << d;
  // Log-uniform over two decades: 12 draws are not all within one of them.
  EXPECT_GT(*std::max_element(all.begin(), all.end()) / *std::min_element(all.begin(), all.end()), 10.0);
  // The lowest-dose slice is the noisiest (error against its clean slice).
  auto error = [&](std::size_t i) {
    double e = 0;
    for (std::size_t k = 0; k < p.train_ns.slice_size(); ++k) {
      const double d = p.train_ns.slice(i)[k] - p.train_gt.slice(i)[k];
      e += d * d;
    }
    return e;
  };
  const auto lo = std::size_t(std::min_element(p.train_dose.begin(), p.train_dose.end()) - p.train_dose.begin());
  const auto hi = std::size_t(std::max_element(p.train_dose.begin(), p.train_dose.end()) - p.train_dose.begin());
  EXPECT_GT(error(lo), 3 * error(hi));
  o.dose_min = 0.9;  // above --dose: refused
  EXPECT_THROW(make_pairs(o), sira::Error);
}

TEST(Pairs, DetectorBlurIsForPhantomsOnly) {
  PairOptions o;
  o.source = "measured.h5";
  o.dose.blur = 1.0;
  EXPECT_THROW(make_pairs(o), sira::Error);
}
