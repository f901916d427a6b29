// StackReader / StackWriter: slice-wise reads equal the whole-stack reader's
// slices in any order, block-wise writes give the same file as write_stack, and
// an unfinished or failed writer leaves no output.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/stack_stream.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using sira::Stack;
using sira::StackInfo;
using namespace sira::test;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Stack block_of(const Stack& s, std::size_t first, std::size_t count) {
  Stack b(count, s.height, s.width, s.dtype);
  std::copy(s.slice(first), s.slice(first) + count * s.slice_size(), b.data.begin());
  return b;
}

StackInfo shape_of(const Stack& s) { return StackInfo{s.depth, s.height, s.width, s.dtype, s.is_2d}; }

// Writes `s` in blocks of 1, 2, 3... slices through a StackWriter.
void write_in_blocks(const std::string& spec, const Stack& s, DType as) {
  auto writer = sira::create_stack_writer(spec, shape_of(s), as);
  for (std::size_t z = 0, n = 1; z < s.depth; z += n, ++n) {
    n = std::min(n, s.depth - z);
    writer->write_slices(z, block_of(s, z, n));
  }
  writer->commit();
}

class StackStreamFormats : public ::testing::TestWithParam<std::string> {};

TEST_P(StackStreamFormats, ReadsAnySliceRangeAsTheWholeStackReaderDoes) {
  ScratchDir dir;
  const std::string spec = dir.file("s" + GetParam());
  const Stack s = sample_stack(7, 9, 11, DType::u16);
  sira::write_stack(spec, s);
  auto reader = sira::open_stack_reader(spec);
  EXPECT_EQ(reader->info().depth, 7u);
  EXPECT_EQ(reader->info().height, 9u);
  EXPECT_EQ(reader->info().width, 11u);
  EXPECT_EQ(reader->info().dtype, DType::u16);
  EXPECT_FALSE(reader->info().is_2d);
  const Stack whole = sira::read_stack(spec);
  // Forwards, backwards, repeated and skipping (TIFF steps its page chain).
  for (std::size_t z : {0u, 1u, 2u, 6u, 3u, 3u, 0u, 5u}) {
    const Stack one = reader->read_slices(z, 1);
    EXPECT_EQ(one.dtype, DType::u16);
    expect_same_samples(one, block_of(whole, z, 1));
  }
  expect_same_samples(reader->read_slices(2, 4), block_of(whole, 2, 4));
  expect_same_samples(reader->read_slices(0, 0), whole);
  expect_error([&] { reader->read_slices(7, 1); }, {"s" + GetParam(), "beyond the last slice"});
  expect_error([&] { reader->read_slices(5, 3); }, {"only 7 slices"});
}

TEST_P(StackStreamFormats, BlockWiseWritesGiveWhatWriteStackWrites) {
  ScratchDir dir;
  for (DType as : {DType::f32, DType::u8, DType::u16}) {
    const Stack s = sample_stack(6, 5, 13, as);
    const std::string whole = dir.file(std::string("whole_") + sira::dtype_name(as) + GetParam());
    const std::string blocks = dir.file(std::string("blocks_") + sira::dtype_name(as) + GetParam());
    sira::write_stack(whole, s, as);
    write_in_blocks(blocks, s, as);
    const Stack a = sira::read_stack(whole), b = sira::read_stack(blocks);
    expect_same_samples(a, b);
    EXPECT_EQ(a.dtype, b.dtype);
    if (GetParam().find(".h5") == std::string::npos) {  // HDF5 files carry creation times
      EXPECT_EQ(file_bytes(whole), file_bytes(blocks)) << sira::dtype_name(as);
    }
  }
}

TEST_P(StackStreamFormats, AnUnfinishedWriterLeavesNoOutput) {
  ScratchDir dir;
  const std::string spec = dir.file("out" + GetParam());
  const Stack s = sample_stack(4, 8, 8, DType::u8);
  {
    auto writer = sira::create_stack_writer(spec, shape_of(s), DType::u8);
    writer->write_slices(0, block_of(s, 0, 2));
    expect_error([&] { writer->write_slices(3, block_of(s, 3, 1)); }, {"out of order"});
    expect_error([&] { writer->commit(); }, {"only 2 of 4 slices"});
  }  // destroyed without commit
  EXPECT_TRUE(dir.entries().empty());
}

TEST_P(StackStreamFormats, AnIntegerOverflowNamesTheSliceInTheWholeOutput) {
  ScratchDir dir;
  const std::string spec = dir.file("o" + GetParam());
  Stack s(5, 8, 8);
  s.at(3, 2, 1) = 300.0f;  // does not fit uint8
  {
    auto writer = sira::create_stack_writer(spec, shape_of(s), DType::u8);
    writer->write_slices(0, block_of(s, 0, 3));
    expect_error([&] { writer->write_slices(3, block_of(s, 3, 2)); },
                 {"value 300 at slice 3, row 2, column 1", "out of range"});
  }
  EXPECT_TRUE(dir.entries().empty());
}

// Rows [first, first + count) of slice z as a depth-1 band.
Stack band_of(const Stack& s, std::size_t z, std::size_t first, std::size_t count) {
  Stack b(1, count, s.width, s.dtype);
  std::copy(s.slice(z) + first * s.width, s.slice(z) + (first + count) * s.width, b.data.begin());
  return b;
}

TEST_P(StackStreamFormats, RowBandWritesGiveWhatWriteStackWrites) {
  ScratchDir dir;
  for (DType as : {DType::f32, DType::u8, DType::u16}) {
    // 37 rows of 3000 bytes (u16) / 6000 (f32): TIFF strips of 21 / 10 rows,
    // which bands of 1, 5, 9... rows straddle.
    const Stack s = sample_stack(3, 37, 1500, as);
    const std::string whole = dir.file(std::string("whole_") + sira::dtype_name(as) + GetParam());
    const std::string rows = dir.file(std::string("rows_") + sira::dtype_name(as) + GetParam());
    sira::write_stack(whole, s, as);
    auto writer = sira::create_stack_writer(rows, shape_of(s), as);
    for (std::size_t z = 0; z < s.depth; ++z)
      for (std::size_t y = 0, n = 1; y < s.height; y += n, n += 4) {
        n = std::min(n, s.height - y);
        writer->write_rows(z, y, band_of(s, z, y, n));
      }
    writer->commit();
    const Stack a = sira::read_stack(whole), b = sira::read_stack(rows);
    expect_same_samples(a, b);
    if (GetParam().find(".h5") == std::string::npos) {
      EXPECT_EQ(file_bytes(whole), file_bytes(rows)) << sira::dtype_name(as);
    }
  }
}

TEST_P(StackStreamFormats, RowBandsOutOfOrderOrOverflowingAreRefusedAndLeaveNoOutput) {
  ScratchDir dir;
  const std::string spec = dir.file("bands" + GetParam());
  Stack s(2, 8, 8);
  s.at(1, 6, 5) = 300.0f;  // does not fit uint8
  {
    auto writer = sira::create_stack_writer(spec, shape_of(s), DType::u8);
    writer->write_rows(0, 0, band_of(s, 0, 0, 3));
    expect_error([&] { writer->write_rows(0, 4, band_of(s, 0, 4, 2)); }, {"out of order"});
    expect_error([&] { writer->write_rows(0, 3, band_of(s, 0, 3, 6)); }, {"does not fit"});
    expect_error([&] { writer->write_slices(1, block_of(s, 1, 1)); }, {"out of order"});
    writer->write_rows(0, 3, band_of(s, 0, 3, 5));
    writer->write_rows(1, 0, band_of(s, 1, 0, 4));
    expect_error([&] { writer->write_rows(1, 4, band_of(s, 1, 4, 4)); },
                 {"value 300 at slice 1, row 6, column 5", "out of range"});
  }
  EXPECT_TRUE(dir.entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Formats, StackStreamFormats,
                         ::testing::Values(".tif", ".npy", ".h5:/group/data"),
                         [](const auto& info) {
                           return info.param == ".tif" ? std::string("tiff")
                                  : info.param == ".npy" ? std::string("npy")
                                                         : std::string("hdf5");
                         });

TEST(StackStream, HdfWriterIntoAnExistingFileKeepsItsOtherDatasets) {
  ScratchDir dir;
  const std::string file = dir.file("both.h5");
  const Stack a = sample_stack(2, 4, 5, DType::f32), b = sample_stack(3, 6, 7, DType::u16);
  sira::write_stack(file + ":/a", a);
  write_in_blocks(file + ":/b", b, DType::u16);
  expect_same_samples(sira::read_stack(file + ":/a"), a);
  expect_same_samples(sira::read_stack(file + ":/b"), b);
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(StackStream, TwoDimensionalImagesStayTwoDimensional) {
  ScratchDir dir;
  Stack image = sample_stack(1, 10, 12, DType::u8);
  image.is_2d = true;
  for (const std::string ext : {".tif", ".npy", ".h5:/img", ".png"}) {
    const std::string spec = dir.file("img" + ext);
    write_in_blocks(spec, image, DType::u8);
    EXPECT_TRUE(sira::probe_stack(spec).is_2d) << ext;
    auto reader = sira::open_stack_reader(spec);
    EXPECT_TRUE(reader->info().is_2d) << ext;
    expect_same_samples(reader->read_slices(0, 1), image);
  }
}

TEST(StackStream, PngGathersRowBandsIntoItsImage) {
  ScratchDir dir;
  const Stack s = sample_stack(1, 21, 17, DType::u8);
  auto writer = sira::create_stack_writer(dir.file("b.png"), shape_of(s), DType::u8);
  writer->write_rows(0, 0, band_of(s, 0, 0, 8));
  writer->write_rows(0, 8, band_of(s, 0, 8, 13));
  writer->commit();
  expect_same_samples(sira::read_stack(dir.file("b.png")), s);
}

TEST(StackStream, PngRefusesStacksAndFloatBeforeAnySliceIsWritten) {
  ScratchDir dir;
  expect_error([&] { sira::create_stack_writer(dir.file("s.png"), {3, 8, 8, DType::u8, false}, DType::u8); },
               {"s.png", "3 slices"});
  expect_error([&] { sira::create_stack_writer(dir.file("f.png"), {1, 8, 8, DType::f32, true}, DType::f32); },
               {"f.png", "float32"});
  EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
