#include <gtest/gtest.h>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

using sira::Format;
using sira::parse_location;
using sira::test::expect_error;

TEST(IoLocation, HdfSplitsAtTheFirstColonAfterTheExtension) {
  auto loc = parse_location("data/tooth.h5:/exchange/data");
  EXPECT_EQ(loc.format, Format::hdf5);
  EXPECT_EQ(loc.file, "data/tooth.h5");
  EXPECT_EQ(loc.dataset, "/exchange/data");

  // ".h5" inside a folder name is not the extension; the dataset may hold ':'.
  loc = parse_location("run.h5data/Scan.HDF5:/a:b");
  EXPECT_EQ(loc.format, Format::hdf5);
  EXPECT_EQ(loc.file, "run.h5data/Scan.HDF5");
  EXPECT_EQ(loc.dataset, "/a:b");

  loc = parse_location("beam.nxs:entry/data");
  EXPECT_EQ(loc.file, "beam.nxs");
  EXPECT_EQ(loc.dataset, "/entry/data");
  EXPECT_EQ(parse_location("x.hdf:/d").file, "x.hdf");
}

TEST(IoLocation, OtherFormatsFollowTheExtension) {
  EXPECT_EQ(parse_location("a.tif").format, Format::tiff);
  EXPECT_EQ(parse_location("dir.v2/A.TIFF").format, Format::tiff);
  EXPECT_EQ(parse_location("a.png").format, Format::png);
  EXPECT_EQ(parse_location("a.npy").format, Format::npy);
  EXPECT_TRUE(parse_location("a.npy").dataset.empty());
}

TEST(IoLocation, RefusesMissingDatasetAndUnknownExtensions) {
  expect_error([] { parse_location("tooth.h5"); }, {"tooth.h5", "dataset"});
  expect_error([] { parse_location("tooth.h5:"); }, {"tooth.h5", "dataset"});
  expect_error([] { parse_location("tooth.h5:/"); }, {"tooth.h5", "dataset"});
  expect_error([] { parse_location("photo.jpg"); }, {"photo.jpg", ".jpg"});
  expect_error([] { parse_location("v1.0/noext"); }, {"v1.0/noext"});
  expect_error([] { parse_location(""); }, {"empty"});
}
