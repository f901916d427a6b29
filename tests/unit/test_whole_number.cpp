#include <gtest/gtest.h>

#include "core/whole_number.hpp"

namespace sira {

TEST(WholeNumber, ReadsADecimalNumberWhole) {
  EXPECT_EQ(whole_double("1.5"), 1.5);
  EXPECT_EQ(whole_double("-2"), -2.0);
  EXPECT_EQ(whole_double("3e2"), 300.0);
  EXPECT_EQ(whole_double("0.25"), 0.25);
  for (const char* bad : {"", " 2", "2 ", "1.5x", "x1", "0x10", "inf", "-inf", "nan", "1e999", "1,5", "+"})
    EXPECT_FALSE(whole_double(bad).has_value()) << "'" << bad << "'";
}

TEST(WholeNumber, ReadsACountWhole) {
  EXPECT_EQ(whole_count("0"), 0u);
  EXPECT_EQ(whole_count("1024"), 1024u);
  for (const char* bad : {"", "-1", "1.0", " 1", "1 ", "12a", "99999999999999999999999"})
    EXPECT_FALSE(whole_count(bad).has_value()) << "'" << bad << "'";
}

}  // namespace sira
