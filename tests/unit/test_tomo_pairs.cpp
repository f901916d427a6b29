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
