// TIFF: layouts written directly with libtiff (strips, tiles, byte orders,
// compression, refused kinds), a hand-built big-endian file, truncation.
#include <gtest/gtest.h>
#include <tiffio.h>

#include <cstdint>
#include <filesystem>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using namespace sira::test;

struct PageSpec {
  std::uint32_t width = 5, height = 3;
  std::uint16_t bits = 16, format = SAMPLEFORMAT_UINT, samples = 1;
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
  std::uint32_t tile = 0;  // tile edge (multiple of 16), 0 = strips
};

// The pixel value every test image holds at (page, y, x).
double pixel(std::size_t page, std::size_t y, std::size_t x) {
  return static_cast<double>((page * 31 + y * 7 + x * 3) % 250);
}

// Writes pages with libtiff; mode "wb" = big-endian, "wl" = little-endian.
void write_with_libtiff(const std::string& path, const char* mode, std::vector<PageSpec> pages) {
  TIFF* tif = TIFFOpen(path.c_str(), mode);
  ASSERT_NE(tif, nullptr);
  for (std::size_t p = 0; p < pages.size(); ++p) {
    const PageSpec& s = pages[p];
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, s.width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, s.height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, s.bits);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, s.format);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, s.samples);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s.photometric);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, s.compression);
    if (s.photometric == PHOTOMETRIC_PALETTE) {
      std::vector<std::uint16_t> map(std::size_t(1) << s.bits, 0);
      TIFFSetField(tif, TIFFTAG_COLORMAP, map.data(), map.data(), map.data());
    }
    const std::size_t bytes_per = s.bits / 8 ? s.bits / 8 : 1;
    const std::size_t row_values = std::size_t(s.width) * s.samples;
    auto fill = [&](std::vector<unsigned char>& buf, std::uint32_t y0, std::uint32_t x0,
                    std::uint32_t rows, std::uint32_t cols) {
      for (std::uint32_t r = 0; r < rows; ++r)
        for (std::uint32_t c = 0; c < cols * s.samples; ++c) {
          const double v = pixel(p, y0 + r, x0 + c / s.samples);
          unsigned char* at = buf.data() + (std::size_t(r) * cols * s.samples + c) * bytes_per;
          if (s.bits == 8) *at = static_cast<unsigned char>(v);
          if (s.bits == 16) { const std::uint16_t u = static_cast<std::uint16_t>(v * 250); std::memcpy(at, &u, 2); }
          if (s.bits == 32) { const float f = static_cast<float>(v) - 0.5f; std::memcpy(at, &f, 4); }
        }
    };
    if (s.tile) {
      TIFFSetField(tif, TIFFTAG_TILEWIDTH, s.tile);
      TIFFSetField(tif, TIFFTAG_TILELENGTH, s.tile);
      std::vector<unsigned char> buf(std::size_t(s.tile) * s.tile * s.samples * bytes_per);
      for (std::uint32_t y = 0; y < s.height; y += s.tile)
        for (std::uint32_t x = 0; x < s.width; x += s.tile) {
          std::fill(buf.begin(), buf.end(), 0);
          fill(buf, y, x, s.tile, s.tile);  // values past the edge are padding
          ASSERT_GE(TIFFWriteEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, 0), buf.data(),
                                         static_cast<tmsize_t>(buf.size())), 0);
        }
    } else if (s.bits >= 8) {
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 2);
      std::vector<unsigned char> row(row_values * bytes_per);
      for (std::uint32_t y = 0; y < s.height; ++y) {
        fill(row, y, 0, 1, s.width);
        ASSERT_GE(TIFFWriteScanline(tif, row.data(), y, 0), 0);
      }
    } else {  // 1-bit
      std::vector<unsigned char> row((s.width + 7) / 8, 0x55);
      for (std::uint32_t y = 0; y < s.height; ++y) ASSERT_GE(TIFFWriteScanline(tif, row.data(), y, 0), 0);
    }
    ASSERT_TRUE(TIFFWriteDirectory(tif));
  }
  TIFFClose(tif);
}

void expect_pixels(const sira::Stack& s, const PageSpec& spec, std::size_t first_page = 0) {
  ASSERT_EQ(s.width, spec.width);
  ASSERT_EQ(s.height, spec.height);
  for (std::size_t d = 0; d < s.depth; ++d)
    for (std::size_t y = 0; y < s.height; ++y)
      for (std::size_t x = 0; x < s.width; ++x) {
        const double v = pixel(first_page + d, y, x);
        const double expected = spec.bits == 8 ? v : spec.bits == 16 ? v * 250 : v - 0.5;
        ASSERT_EQ(s.at(d, y, x), static_cast<float>(expected)) << d << "," << y << "," << x;
      }
}

TEST(IoTiff, ReadsStripsAndTilesInBothByteOrders) {
  ScratchDir dir;
  const std::string f = dir.file("t.tif");
  for (const char* mode : {"wl", "wb"}) {
    for (std::uint16_t bits : {8, 16, 32}) {
      for (std::uint32_t tile : {0u, 16u}) {
        PageSpec spec;
        spec.width = 37;
        spec.height = 21;
        spec.bits = bits;
        spec.format = bits == 32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT;
        spec.tile = tile;
        write_with_libtiff(f, mode, {spec, spec, spec});
        SCOPED_TRACE(testing::Message() << mode << " bits " << bits << " tile " << tile);
        const sira::Stack s = sira::read_stack(f);
        EXPECT_EQ(s.dtype, bits == 8 ? DType::u8 : bits == 16 ? DType::u16 : DType::f32);
        EXPECT_EQ(s.depth, 3u);
        EXPECT_FALSE(s.is_2d);
        expect_pixels(s, spec);
        expect_pixels(sira::read_slices(f, 2, 1), spec, 2);
      }
    }
  }
}

TEST(IoTiff, ReadsCompressedPages) {
  ScratchDir dir;
  const std::string f = dir.file("c.tif");
  for (std::uint16_t compression : {COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_PACKBITS}) {
    PageSpec spec;
    spec.width = 40;
    spec.height = 9;
    spec.compression = compression;
    write_with_libtiff(f, "wl", {spec});
    const sira::Stack s = sira::read_stack(f);
    EXPECT_TRUE(s.is_2d);
    expect_pixels(s, spec);
  }
}

// A hand-assembled big-endian ("MM") TIFF: 3x2 uint16, one strip.
TEST(IoTiff, ReadsAHandBuiltBigEndianFile) {
  ScratchDir dir;
  std::string b("MM\x00\x2a\x00\x00\x00\x08", 8);
  auto u16 = [&](std::uint16_t v) { b += static_cast<char>(v >> 8); b += static_cast<char>(v & 0xff); };
  auto u32 = [&](std::uint32_t v) { u16(static_cast<std::uint16_t>(v >> 16)); u16(static_cast<std::uint16_t>(v)); };
  auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint32_t value) {
    u16(tag); u16(type); u32(1);
    if (type == 3) { u16(static_cast<std::uint16_t>(value)); u16(0); } else u32(value);
  };
  const std::uint32_t data_offset = 8 + 2 + 8 * 12 + 4;
  u16(8);  // entries, sorted by tag
  entry(256, 3, 3);      // width
  entry(257, 3, 2);      // height
  entry(258, 3, 16);     // bits per sample
  entry(259, 3, 1);      // no compression
  entry(262, 3, 1);      // min-is-black
  entry(273, 4, data_offset);
  entry(278, 3, 2);      // rows per strip
  entry(279, 4, 12);     // strip bytes
  u32(0);                // no next page
  for (std::uint16_t v : {1, 256, 65535, 2, 4660, 0}) u16(v);
  write_bytes(dir.file("mm.tif"), b);
  const sira::Stack s = sira::read_stack(dir.file("mm.tif"));
  EXPECT_EQ(s.dtype, DType::u16);
  EXPECT_EQ(s.data, (std::vector<float>{1, 256, 65535, 2, 4660, 0}));
}

TEST(IoTiff, RefusesKindsItDoesNotRead) {
  ScratchDir dir;
  const std::string f = dir.file("bad.tif");
  PageSpec rgb;
  rgb.bits = 8;
  rgb.samples = 3;
  rgb.photometric = PHOTOMETRIC_RGB;
  write_with_libtiff(f, "wl", {rgb});
  expect_error([&] { sira::read_stack(f); }, {"bad.tif", "colour", "3 samples"});

  PageSpec palette;
  palette.bits = 8;
  palette.photometric = PHOTOMETRIC_PALETTE;
  write_with_libtiff(f, "wl", {palette});
  expect_error([&] { sira::read_stack(f); }, {"bad.tif", "palette"});

  PageSpec bilevel;
  bilevel.bits = 1;
  write_with_libtiff(f, "wl", {bilevel});
  expect_error([&] { sira::read_stack(f); }, {"bad.tif", "1-bit"});

  PageSpec signed16;
  signed16.format = SAMPLEFORMAT_INT;
  write_with_libtiff(f, "wl", {signed16});
  expect_error([&] { sira::probe_stack(f); }, {"bad.tif", "signed"});

  PageSpec small, large;
  large.width = 8;
  write_with_libtiff(f, "wl", {small, small, large});
  expect_error([&] { sira::read_stack(f); }, {"bad.tif", "page 2", "8x3", "5x3"});
  EXPECT_EQ(sira::read_slices(f, 0, 2).depth, 2u);  // the matching pages still read

  write_bytes(f, "II*\0 this is not really a TIFF");
  expect_error([&] { sira::read_stack(f); }, {"bad.tif"});
  expect_error([&] { sira::read_stack(dir.file("none.tif")); }, {"none.tif", "no such file"});
}

TEST(IoTiff, RefusesAbsurdDimensionsBeforeAllocating) {
  ScratchDir dir;
  const std::string f = dir.file("huge.tif");
  // A header claiming 1e9 x 1e9 (the strip data is absent: nothing may be read).
  std::string b("II\x2a\x00\x08\x00\x00\x00", 8);
  auto u16 = [&](std::uint16_t v) { b += static_cast<char>(v & 0xff); b += static_cast<char>(v >> 8); };
  auto u32 = [&](std::uint32_t v) { u16(static_cast<std::uint16_t>(v)); u16(static_cast<std::uint16_t>(v >> 16)); };
  auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint32_t value) {
    u16(tag); u16(type); u32(1);
    if (type == 3) { u16(static_cast<std::uint16_t>(value)); u16(0); } else u32(value);
  };
  u16(7);
  entry(256, 4, 1000000000);
  entry(257, 4, 1000000000);
  entry(258, 3, 8);
  entry(259, 3, 1);
  entry(262, 3, 1);
  entry(273, 4, 200);
  entry(279, 4, 100);
  u32(0);
  write_bytes(f, b);
  expect_error([&] { sira::read_stack(f); }, {"huge.tif"});
  expect_error([&] { sira::probe_stack(f); }, {"huge.tif"});
}

TEST(IoTiff, TruncatedFilesGiveAClearError) {
  ScratchDir dir;
  const std::string f = dir.file("cut.tif");
  const sira::Stack s = sample_stack(3, 64, 80, DType::u16);
  for (double fraction : {0.9, 0.5, 0.2}) {
    sira::write_stack(f, s);
    const auto size = std::filesystem::file_size(f);
    truncate_file(f, static_cast<std::uintmax_t>(size * fraction));
    expect_error([&] { sira::read_stack(f); }, {"cut.tif"});
  }
  // A single page cut in its pixel data (libtiff puts the directory last, so
  // this also loses the directory).
  PageSpec spec;
  spec.width = 200;
  spec.height = 100;
  write_with_libtiff(f, "wl", {spec});
  const auto size = std::filesystem::file_size(f);
  truncate_file(f, size / 2);
  expect_error([&] { sira::read_stack(f); }, {"cut.tif"});
}

TEST(IoTiff, ReadsTheRealNeutronSinogram) {
  const std::string f = std::string(SIRA_SHARED_DATA) + "/real/neutron_sinogram_360.tif";
  if (!std::filesystem::exists(f)) GTEST_SKIP() << f << " not present";
  const sira::StackInfo info = sira::probe_stack(f);
  // README: 16-bit big-endian, 459 angles x 503 pixels.
  EXPECT_EQ(info.dtype, DType::u16);
  EXPECT_EQ(info.height, 459u);
  EXPECT_EQ(info.width, 503u);
  const sira::Stack s = sira::read_stack(f);
  EXPECT_TRUE(s.is_2d);
  // A raw (not flat-corrected) neutron sinogram: counts, not all equal.
  const auto [lo, hi] = std::minmax_element(s.data.begin(), s.data.end());
  EXPECT_LT(*lo, *hi);
  EXPECT_GE(*lo, 0.0f);
}

}  // namespace
