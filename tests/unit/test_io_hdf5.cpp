// H5File: datasets, vectors, attributes, copy-on-write edits; files made with
// the HDF5 C API directly for types and shapes sira never writes.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using sira::H5File;
using namespace sira::test;

// Writes one dataset of `file_type` from `memory` data with the raw C API.
void raw_dataset(const std::string& path, const char* name, hid_t file_type, hid_t memory_type,
                 std::vector<hsize_t> dims, const void* data) {
  const hid_t file = std::filesystem::exists(path)
                         ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                         : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t ds = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  ASSERT_GE(H5Dwrite(ds, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  H5Dclose(ds);
  H5Sclose(space);
  H5Fclose(file);
}

TEST(IoHdf5, TomoganPairFileWithVectorsAndAttributes) {
  ScratchDir dir;
  const std::string path = dir.file("pairs.h5");
  const sira::Stack ns = sample_stack(3, 8, 6, DType::f32);
  const sira::Stack gt = sample_stack(3, 8, 6, DType::u16);
  {
    H5File f = H5File::create(path);
    for (const char* name : {"train_ns", "test_ns"}) f.write(name, ns, DType::f32);
    for (const char* name : {"train_gt", "test_gt"}) f.write(name, gt, DType::f32);
    f.write_vector("/meta/angles", {0.0, 0.5, 1.25});
    f.set_attr("/", "seed", 42.0);
    f.set_attr("/meta", "phantom", std::string("shepp-logan"));
    f.set_attr("/train_ns", "dose", 0.125);
    f.set_attr("/train_ns", "dose", 0.25);  // replaced, not duplicated
    EXPECT_FALSE(std::filesystem::exists(path)) << "visible before commit";
    f.commit();
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"pairs.h5"});

  const H5File f = H5File::open(path);
  EXPECT_TRUE(f.has("/train_ns"));
  EXPECT_TRUE(f.has("test_gt"));
  EXPECT_FALSE(f.has("/meta"));  // a group
  EXPECT_FALSE(f.has("/nothing/here"));
  EXPECT_EQ(f.shape("/train_gt"), (std::vector<std::size_t>{3, 8, 6}));
  expect_same_samples(f.read("/test_ns"), ns);
  const sira::Stack gt_back = f.read("/train_gt");
  EXPECT_EQ(gt_back.dtype, DType::f32);
  EXPECT_EQ(gt_back.data, gt.data);
  EXPECT_EQ(f.read_vector("/meta/angles"), (std::vector<double>{0.0, 0.5, 1.25}));
  EXPECT_EQ(f.attr_number("/", "seed"), 42.0);
  EXPECT_EQ(f.attr_number("/train_ns", "dose"), 0.25);
  EXPECT_EQ(f.attr_string("/meta", "phantom"), "shepp-logan");
  EXPECT_TRUE(f.has_attr("/", "seed"));
  EXPECT_FALSE(f.has_attr("/", "nope"));
  EXPECT_FALSE(f.has_attr("/missing", "seed"));
  expect_error([&] { f.attr_number("/meta", "phantom"); }, {"pairs.h5", "not a single number"});
  expect_error([&] { f.attr_string("/", "seed"); }, {"pairs.h5", "not a single string"});
  expect_error([&] { f.attr_number("/", "nope"); }, {"pairs.h5", "no attribute 'nope'"});

  const sira::Stack part = f.read_slices("/test_ns", 1, 2);
  ASSERT_EQ(part.depth, 2u);
  EXPECT_EQ(std::vector<float>(part.data.begin(), part.data.begin() + 48),
            std::vector<float>(ns.slice(1), ns.slice(2)));
}

TEST(IoHdf5, ErrorsNameFileAndDataset) {
  ScratchDir dir;
  const std::string path = dir.file("tooth.h5");
  {
    H5File f = H5File::create(path);
    f.write("/exchange/data", sample_stack(2, 3, 4, DType::u16), DType::u16);
    f.commit();
  }
  const H5File f = H5File::open(path);
  expect_error([&] { f.read("/exchange/dta"); }, {"tooth.h5", "no dataset '/exchange/dta'"});
  expect_error([&] { f.read("/nowhere/deep/x"); }, {"tooth.h5", "'/nowhere/deep/x'"});
  expect_error([&] { f.read("/exchange"); }, {"tooth.h5", "'/exchange' is a group"});
  expect_error([&] { f.read_vector("/exchange/data"); }, {"tooth.h5", "1-D"});
  expect_error([&] { f.read_slices("/exchange/data", 1, 5); }, {"tooth.h5:/exchange/data", "only 2"});
  expect_error([&] { sira::read_stack(path + ":/exchange/dta"); }, {"tooth.h5", "'/exchange/dta'"});
  expect_error([] { H5File::open("/nonexistent/x.h5"); }, {"/nonexistent/x.h5", "no such file"});
  const std::string text = dir.file("text.h5");
  write_bytes(text, "just text");
  expect_error([&] { H5File::open(text); }, {"text.h5", "not an HDF5 file"});
  expect_error([&] { sira::read_stack(text + ":/d"); }, {"text.h5", "not an HDF5 file"});

  H5File ro = H5File::open(path);
  expect_error([&] { ro.write("/x", sample_stack(1, 2, 2, DType::f32), DType::f32); },
               {"tooth.h5", "read-only"});
  expect_error([&] { ro.commit(); }, {"tooth.h5", "read-only"});
}

TEST(IoHdf5, RefusesWrongRanksAndNonNumbers) {
  ScratchDir dir;
  const std::string path = dir.file("shapes.h5");
  std::vector<float> zeros(2 * 3 * 4 * 5, 0.0f);
  raw_dataset(path, "four", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 3, 4, 5}, zeros.data());
  raw_dataset(path, "one", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {7}, zeros.data());
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  raw_dataset(path, "text", str, str, {2, 2}, "abcdefghijklmnop");
  H5Tclose(str);

  expect_error([&] { sira::read_stack(path + ":/four"); },
               {"shapes.h5", "'/four'", "(2, 3, 4, 5)", "4 dimensions"});
  expect_error([&] { sira::probe_stack(path + ":/four"); }, {"shapes.h5", "(2, 3, 4, 5)"});
  expect_error([&] { sira::read_stack(path + ":/one"); }, {"shapes.h5", "'/one'", "(7)"});
  expect_error([&] { sira::read_stack(path + ":/text"); }, {"shapes.h5", "'/text'", "numbers"});
  EXPECT_EQ(H5File::open(path).read_vector("/one"), std::vector<double>(7, 0.0));
}

TEST(IoHdf5, OtherNumericTypesReadAsFloat32) {
  ScratchDir dir;
  const std::string path = dir.file("types.h5");
  const std::int16_t i16[] = {-32768, -1, 0, 32767};
  const double f64[] = {0.5, -1e20, 1e-3, 7.0};
  const std::uint16_t u16[] = {0, 1, 256, 65535};
  const std::uint8_t u8[] = {0, 1, 128, 255};
  raw_dataset(path, "i16", H5T_STD_I16LE, H5T_NATIVE_INT16, {2, 2}, i16);
  raw_dataset(path, "f64be", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {1, 2, 2}, f64);
  raw_dataset(path, "u16be", H5T_STD_U16BE, H5T_NATIVE_UINT16, {2, 2}, u16);
  raw_dataset(path, "u8", H5T_STD_U8LE, H5T_NATIVE_UINT8, {2, 2}, u8);

  sira::Stack s = sira::read_stack(path + ":/i16");
  EXPECT_EQ(s.dtype, DType::f32);
  EXPECT_EQ(s.data, (std::vector<float>{-32768, -1, 0, 32767}));
  s = sira::read_stack(path + ":/f64be");
  EXPECT_EQ(s.dtype, DType::f32);
  EXPECT_FALSE(s.is_2d);
  EXPECT_EQ(s.data, (std::vector<float>{0.5f, -1e20f, 1e-3f, 7.0f}));
  s = sira::read_stack(path + ":/u16be");
  EXPECT_EQ(s.dtype, DType::u16);
  EXPECT_EQ(s.data, (std::vector<float>{0, 1, 256, 65535}));
  EXPECT_EQ(sira::probe_stack(path + ":/u8").dtype, DType::u8);
}

TEST(IoHdf5, UncommittedFilesVanish) {
  ScratchDir dir;
  {
    H5File f = H5File::create(dir.file("never.h5"));
    f.write("/a", sample_stack(1, 4, 4, DType::f32), DType::f32);
    // The temporary and the lock that makes other writers of never.h5 wait.
    auto entries = dir.entries();
    std::sort(entries.begin(), entries.end());
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0], ".never.h5.lock");
    EXPECT_EQ(entries[1].rfind(".never.h5.tmp-", 0), 0u) << entries[1];
  }
  EXPECT_TRUE(dir.entries().empty());
  H5File moved = H5File::create(dir.file("moved.h5"));
  H5File target = std::move(moved);
  expect_error([&] { moved.has("/a"); }, {"moved"});
  target.commit();
  expect_error([&] { target.has("/a"); }, {"moved.h5", "committed"});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"moved.h5"});
}

TEST(IoHdf5, WriteStackIntoAnExistingFileKeepsOtherDatasets) {
  ScratchDir dir;
  const std::string path = dir.file("multi.h5");
  const sira::Stack a = sample_stack(2, 3, 4, DType::u8);
  const sira::Stack b = sample_stack(1, 5, 5, DType::f32);
  sira::write_stack(path + ":/a", a);
  sira::write_stack(path + ":/deep/group/b", b);
  sira::write_stack(path + ":/a", b);  // replaces /a
  expect_same_samples(sira::read_stack(path + ":/deep/group/b"), b);
  expect_same_samples(sira::read_stack(path + ":/a"), b);

  // A failed write (out of range for uint8) leaves the file as it was.
  const auto before = std::filesystem::file_size(path);
  expect_error([&] { sira::write_stack(path + ":/c", b, DType::u8); }, {"multi.h5", "uint8"});
  EXPECT_EQ(std::filesystem::file_size(path), before);
  EXPECT_FALSE(H5File::open(path).has("/c"));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"multi.h5"});
}

TEST(IoHdf5, ReadsTheRealToothAndDendriteFiles) {
  const std::string tooth = std::string(SIRA_SHARED_DATA) + "/real/tooth_aps.h5";
  const std::string dendrite = std::string(SIRA_SHARED_DATA) + "/real/dendrite_sinogram.h5";
  if (!std::filesystem::exists(tooth) || !std::filesystem::exists(dendrite))
    GTEST_SKIP() << "shared real data not present";
  // Shapes and units from the data's README.
  const H5File f = H5File::open(tooth);
  EXPECT_EQ(f.shape("/exchange/data"), (std::vector<std::size_t>{181, 2, 640}));
  EXPECT_EQ(f.dtype("/exchange/data"), DType::f32);
  const std::vector<double> theta = f.read_vector("/exchange/theta");
  ASSERT_EQ(theta.size(), 181u);
  for (std::size_t i = 0; i < theta.size(); ++i)  // 181 equal steps over [0, 180) degrees
    ASSERT_NEAR(theta[i], i * 180.0 / 181.0, 1e-6) << i;
  const sira::Stack data = sira::read_stack(tooth + ":/exchange/data");
  EXPECT_EQ(data.depth, 181u);
  EXPECT_EQ(sira::read_stack(tooth + ":/exchange/data_white").depth, 10u);
  const sira::Stack sino = sira::read_stack(dendrite + ":/sinogram");
  EXPECT_TRUE(sino.is_2d);
  EXPECT_EQ(sino.height, 1260u);
  EXPECT_EQ(sino.width, 360u);
  EXPECT_EQ(H5File::open(dendrite).read_vector("/angles_rad").size(), 360u);
}

}  // namespace

// read_block: a hyperslab of rows equals those rows of the whole read (what the
// tomography readers use to read only a rank's or --rows' detector rows).
TEST(IoHdf5, ReadBlockGivesTheRowsOfTheWholeRead) {
  ScratchDir dir;
  const std::string path = dir.file("block.h5");
  {
    H5File f = H5File::create(path);
    f.write("/d", sample_stack(4, 7, 5, DType::u16), DType::u16);
    f.commit();
  }
  const H5File f = H5File::open(path);
  const sira::Stack whole = f.read("/d");
  const sira::Stack block = f.read_block("/d", 1, 2, 3, 4);  // slices 1-2, rows 3-6
  ASSERT_EQ(block.depth, 2u);
  ASSERT_EQ(block.height, 4u);
  ASSERT_EQ(block.width, 5u);
  for (std::size_t z = 0; z < 2; ++z)
    for (std::size_t y = 0; y < 4; ++y)
      for (std::size_t x = 0; x < 5; ++x) EXPECT_EQ(block.at(z, y, x), whole.at(z + 1, y + 3, x));
  EXPECT_THROW(f.read_block("/d", 0, 1, 5, 3), sira::Error);  // rows 5-7 of 7
}
