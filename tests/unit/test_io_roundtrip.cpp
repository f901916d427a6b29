// Every writable format x sample type x 2-D/3-D round-trips losslessly.
#include <gtest/gtest.h>

#include <tuple>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using sira::Stack;
using namespace sira::test;

struct Case {
  const char* name;
  std::string suffix;  // extension (plus dataset for HDF5)
  DType dtype;
  bool three_d;
};

class IoRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(IoRoundTrip, WriteThenReadIsExact) {
  const Case& c = GetParam();
  ScratchDir dir;
  const std::string spec = dir.file("image") + c.suffix;
  const Stack original = c.three_d ? sample_stack(4, 5, 7, c.dtype) : sample_stack(1, 6, 9, c.dtype);
  sira::write_stack(spec, original);

  const Stack back = sira::read_stack(spec);
  EXPECT_EQ(back.dtype, c.dtype);
  EXPECT_EQ(back.is_2d, !c.three_d);
  expect_same_samples(back, original);

  const sira::StackInfo info = sira::probe_stack(spec);
  EXPECT_EQ(info.depth, original.depth);
  EXPECT_EQ(info.height, original.height);
  EXPECT_EQ(info.width, original.width);
  EXPECT_EQ(info.dtype, c.dtype);
  EXPECT_EQ(info.is_2d, !c.three_d);
  EXPECT_EQ(dir.entries().size(), 1u) << "temporary file left behind";

  if (c.three_d) {  // a range of slices equals those slices of the whole
    const Stack part = sira::read_slices(spec, 1, 2);
    ASSERT_EQ(part.depth, 2u);
    Stack expected(2, original.height, original.width, c.dtype);
    std::copy(original.slice(1), original.slice(3), expected.data.begin());
    expect_same_samples(part, expected);
    expect_error([&] { sira::read_slices(spec, 3, 2); }, {"image", "only 4 slices"});
    expect_error([&] { sira::read_slices(spec, 4, 0); }, {"image", "beyond"});
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  const std::pair<const char*, std::string> formats[] = {
      {"tif", ".tif"}, {"npy", ".npy"}, {"h5", ".h5:/group/data"}};
  const std::pair<const char*, DType> types[] = {
      {"u8", DType::u8}, {"u16", DType::u16}, {"f32", DType::f32}};
  for (auto [fname, suffix] : formats)
    for (auto [tname, t] : types)
      for (bool three_d : {false, true}) cases.push_back({fname, suffix, t, three_d});
  cases.push_back({"png", ".png", DType::u8, false});
  cases.push_back({"png", ".png", DType::u16, false});
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.name) + "_" + sira::dtype_name(info.param.dtype) +
         (info.param.three_d ? "_3d" : "_2d");
}

INSTANTIATE_TEST_SUITE_P(AllFormats, IoRoundTrip, ::testing::ValuesIn(all_cases()), case_name);

TEST(IoIntegerWrites, RoundToNearestAndRefuseOutOfRangeOrNaN) {
  ScratchDir dir;
  Stack s(1, 1, 6);
  s.data = {1.4f, 2.5f, -0.4f, 254.5f, 0.49f, 65535.4f};
  sira::write_stack(dir.file("u16.npy"), s, DType::u16);
  const Stack back = sira::read_stack(dir.file("u16.npy"));
  EXPECT_EQ(back.dtype, DType::u16);
  // Hand-computed: halves round away from zero.
  EXPECT_EQ(back.data, (std::vector<float>{1, 3, 0, 255, 0, 65535}));

  for (const char* ext : {".npy", ".tif", ".png", ".h5:/d"}) {
    const std::string spec = dir.file("u8") + ext;
    expect_error([&] { sira::write_stack(spec, s, DType::u8); },
                 {"u8", "65535.4", "column 5", "out of range", "uint8"});
    Stack nan = s;
    nan.data[4] = std::numeric_limits<float>::quiet_NaN();
    expect_error([&] { sira::write_stack(spec, nan, DType::u16); },
                 {"u8", "not a number", "column 4"});
    Stack negative = s;
    negative.data[2] = -0.6f;
    expect_error([&] { sira::write_stack(spec, negative, DType::u16); }, {"out of range"});
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"u16.npy"}) << "failed writes left files";
}

TEST(IoIntegerWrites, DtypeConversionOnWrite) {
  ScratchDir dir;
  const Stack u8 = sample_stack(2, 3, 4, DType::u8);
  sira::write_stack(dir.file("f.tif"), u8, DType::f32);
  const Stack back = sira::read_stack(dir.file("f.tif"));
  EXPECT_EQ(back.dtype, DType::f32);
  EXPECT_EQ(back.data, u8.data);
}

}  // namespace
