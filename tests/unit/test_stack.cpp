#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sira/error.hpp"
#include "sira/stack.hpp"

using sira::Stack;

TEST(Stack, IndexingIsRowMajorDepthHeightWidth) {
  Stack s(2, 3, 4);
  s.at(1, 2, 3) = 7.0f;
  EXPECT_EQ(s.data[(1 * 3 + 2) * 4 + 3], 7.0f);
  EXPECT_EQ(s.slice(1)[2 * 4 + 3], 7.0f);
  EXPECT_FALSE(s.is_2d);
  EXPECT_TRUE(Stack(1, 3, 4).is_2d);
}

TEST(Stack, RejectsEmptyAndAbsurdDimensions) {
  EXPECT_THROW(Stack(0, 3, 4), sira::Error);
  EXPECT_THROW(sira::check_dims(1, 1u << 20, 8, "x"), sira::Error);
  EXPECT_THROW(sira::check_dims(60000, 60000, 60000, "x"), sira::Error);
  EXPECT_NO_THROW(sira::check_dims(64, 1024, 1024, "x"));
}

TEST(Stack, CheckFiniteNamesThePosition) {
  Stack s(2, 2, 3);
  s.at(1, 1, 2) = std::numeric_limits<float>::quiet_NaN();
  try {
    sira::check_finite(s, "input.tif");
    FAIL() << "NaN not detected";
  } catch (const sira::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("input.tif"), std::string::npos) << msg;
    EXPECT_NE(msg.find("slice 1, row 1, column 2"), std::string::npos) << msg;
  }
  s.at(1, 1, 2) = INFINITY;
  EXPECT_THROW(sira::check_finite(s, "x"), sira::Error);
}

TEST(Stack, DtypeNamesRoundTrip) {
  for (auto t : {sira::DType::u8, sira::DType::u16, sira::DType::f32})
    EXPECT_EQ(sira::parse_dtype(sira::dtype_name(t)), t);
  EXPECT_THROW(sira::parse_dtype("int64"), sira::Error);
}
