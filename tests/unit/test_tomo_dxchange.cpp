#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>

#include "sira/error.hpp"
#include "sira/tomo/dxchange.hpp"
#include "test_io_helpers.hpp"

using namespace sira::tomo;

TEST(DxchangeRows, ParsesSinglesRangesStepsAndLists) {
  EXPECT_EQ(parse_rows("all", 3), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(parse_rows("5", 10), (std::vector<std::size_t>{5}));
  EXPECT_EQ(parse_rows("2-4", 10), (std::vector<std::size_t>{2, 3, 4}));
  EXPECT_EQ(parse_rows("0-9:4", 10), (std::vector<std::size_t>{0, 4, 8}));
  EXPECT_EQ(parse_rows("1,3-4", 10), (std::vector<std::size_t>{1, 3, 4}));
}

TEST(DxchangeRows, RejectsOutOfRangeAndMalformed) {
  EXPECT_THROW(parse_rows("10", 10), sira::Error);
  EXPECT_THROW(parse_rows("4-2", 10), sira::Error);
  EXPECT_THROW(parse_rows("a", 10), sira::Error);
  EXPECT_THROW(parse_rows("0-4:0", 10), sira::Error);
  try {
    parse_rows("3-12", 10);
    FAIL();
  } catch (const sira::Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
  }
}

TEST(DxchangeRows, AHugeStepGivesTheFirstRowNotWrappedOnes) {
  // r += step wrapped around to rows below the range (5, 4, 3, 2, 1, 0).
  EXPECT_EQ(parse_rows("5-9:18446744073709551615", 10), (std::vector<std::size_t>{5}));
  EXPECT_EQ(parse_rows("3-9:18446744073709551614", 10), (std::vector<std::size_t>{3}));
  EXPECT_EQ(parse_rows("0-9:9", 10), (std::vector<std::size_t>{0, 9}));
  EXPECT_EQ(parse_rows("9:18446744073709551615", 10), (std::vector<std::size_t>{9}));
}

TEST(DxchangeAngles, DegreesDetectedAboveTwoPi) {
  bool degrees = false;
  const auto rad = angles_to_radians({0.0, 90.0, 180.0}, AngleUnit::automatic, &degrees);
  EXPECT_TRUE(degrees);
  EXPECT_NEAR(rad[1], M_PI / 2, 1e-15);
  EXPECT_NEAR(rad[2], M_PI, 1e-15);
  // 0 .. 2 pi in radians stays radians (a 360-degree scan in radians).
  const auto same = angles_to_radians({0.0, 3.0, 2 * M_PI}, AngleUnit::automatic, &degrees);
  EXPECT_FALSE(degrees);
  EXPECT_DOUBLE_EQ(same[2], 2 * M_PI);
  // Explicit units win: 3 degrees stay degrees.
  EXPECT_NEAR(angles_to_radians({3.0}, AngleUnit::degrees)[0], 3 * M_PI / 180, 1e-15);
  EXPECT_DOUBLE_EQ(angles_to_radians({100.0}, AngleUnit::radians)[0], 100.0);
  EXPECT_THROW(parse_angle_unit("grad"), sira::Error);
}

TEST(DxchangeAngles, RangeSyntax) {
  const auto r = parse_angle_range("0:360:459");
  EXPECT_EQ(r.start, 0);
  EXPECT_EQ(r.stop, 360);
  EXPECT_EQ(r.count, 459u);
  EXPECT_EQ(parse_angle_range("-90:90").count, 0u);
  EXPECT_THROW(parse_angle_range("0"), sira::Error);
  EXPECT_THROW(parse_angle_range("5:5"), sira::Error);
  EXPECT_THROW(parse_angle_range("0:x"), sira::Error);
}

TEST(Dxchange, MissingFileIsAnErrorNamingIt) {
  try {
    read_dxchange("/nonexistent/scan.h5", {});
    FAIL();
  } catch (const sira::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/scan.h5"), std::string::npos) << e.what();
  }
}

namespace {
// A float64 dataset of the given shape (zeros, or nothing when a dimension is 0).
void put(hid_t file, const char* name, std::vector<hsize_t> dims) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t ds = H5Dcreate2(file, name, H5T_IEEE_F64LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  std::vector<double> ones(n, 1.0);
  if (n) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ones.data());
  H5Dclose(ds);
  H5Sclose(space);
  H5Pclose(lcpl);
}
}  // namespace

// 0 projections and 0 angles: theta.front() of the empty angle list was read
// (undefined behaviour) with --subtract-first-angle, and the error that came
// later ("stack: empty image") named neither the file nor the problem.
TEST(Dxchange, NoProjectionsIsAClearError) {
  sira::test::ScratchDir dir;
  const std::string path = dir.file("empty_scan.h5");
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  put(file, "/exchange/data", {0, 4, 4});
  put(file, "/exchange/data_white", {1, 4, 4});
  put(file, "/exchange/theta", {0});
  H5Fclose(file);
  for (bool subtract : {true, false}) {
    ProjectionInput in;
    in.subtract_first_angle = subtract;
    try {
      read_dxchange(path, in);
      FAIL() << "a scan without projections was read";
    } catch (const sira::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("empty_scan.h5"), std::string::npos) << what;
      EXPECT_NE(what.find("no projections"), std::string::npos) << what;
    }
  }
}
