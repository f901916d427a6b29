// PNG: grayscale only; colour and stacks refused; preview stretch.
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <filesystem>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using namespace sira::test;

// Writes a small PNG of the given libpng simplified-API format.
void write_simple_png(const std::string& path, png_uint_32 format, std::size_t channels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = 4;
  image.height = 3;
  image.format = format;
  std::vector<unsigned char> pixels(4 * 3 * channels, 77);
  ASSERT_TRUE(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr));
}

TEST(IoPng, ReadsGrayscaleWrittenByLibpng) {
  ScratchDir dir;
  const std::string f = dir.file("gray.png");
  write_simple_png(f, PNG_FORMAT_GRAY, 1);
  const sira::Stack s = sira::read_stack(f);
  EXPECT_EQ(s.dtype, DType::u8);
  EXPECT_EQ(s.width, 4u);
  EXPECT_EQ(s.height, 3u);
  EXPECT_EQ(s.data, std::vector<float>(12, 77.0f));
}

TEST(IoPng, RefusesColourSaying) {
  ScratchDir dir;
  const std::pair<png_uint_32, std::size_t> formats[] = {
      {PNG_FORMAT_RGB, 3}, {PNG_FORMAT_RGBA, 4}, {PNG_FORMAT_GA, 2}};
  for (auto [format, channels] : formats) {
    const std::string f = dir.file("colour.png");
    write_simple_png(f, format, channels);
    expect_error([&] { sira::read_stack(f); }, {"colour.png", "refused", "grayscale"});
    expect_error([&] { sira::probe_stack(f); }, {"colour.png", "refused"});
  }
}

TEST(IoPng, RefusesStacksFloatsAndBrokenFiles) {
  ScratchDir dir;
  expect_error([&] { sira::write_stack(dir.file("s.png"), sample_stack(3, 4, 5, DType::u8)); },
               {"s.png", "3 slices"});
  expect_error([&] { sira::write_stack(dir.file("f.png"), sample_stack(1, 4, 5, DType::f32)); },
               {"f.png", "float32"});
  EXPECT_TRUE(dir.entries().empty());

  const std::string f = dir.file("cut.png");
  sira::write_stack(f, sample_stack(1, 64, 64, DType::u16));
  truncate_file(f, std::filesystem::file_size(f) / 2);
  expect_error([&] { sira::read_stack(f); }, {"cut.png", "PNG"});
  write_bytes(f, "\x89PNG\r\n\x1a\n but nothing after the signature");
  expect_error([&] { sira::read_stack(f); }, {"cut.png", "corrupt"});
  write_bytes(f, "GIF89a");
  expect_error([&] { sira::read_stack(f); }, {"cut.png", "not a PNG"});
  expect_error([&] { sira::read_stack(dir.file("none.png")); }, {"none.png"});
}

TEST(IoPng, PreviewStretchesBetweenPercentiles) {
  ScratchDir dir;
  sira::Stack s(2, 10, 10);
  for (std::size_t i = 0; i < 100; ++i) {
    s.data[i] = -5.0f;                       // slice 0: flat
    s.data[100 + i] = static_cast<float>(i);  // slice 1: 0..99
  }
  const std::string f = dir.file("p.png");
  sira::write_preview_png(f, s, 1, 0.0, 100.0);
  sira::Stack p = sira::read_stack(f);
  EXPECT_EQ(p.dtype, DType::u8);
  for (std::size_t i = 0; i < 100; ++i)  // hand-computed: v * 255 / 99, rounded
    ASSERT_EQ(p.data[i], std::round(i * 255.0 / 99.0)) << i;

  // 10th..90th percentile of 0..99 (linear interpolation) is 9.9..89.1.
  sira::write_preview_png(f, s, 1, 10.0, 90.0);
  p = sira::read_stack(f);
  for (std::size_t i = 0; i < 100; ++i) {
    const double v = std::clamp((i - 9.9) * 255.0 / (89.1 - 9.9), 0.0, 255.0);
    ASSERT_EQ(p.data[i], std::round(v)) << i;
  }
  sira::write_preview_png(f, s, 0);
  EXPECT_EQ(sira::read_stack(f).data, std::vector<float>(100, 0.0f));  // flat slice: black
  expect_error([&] { sira::write_preview_png(dir.file("q.png"), s, 2); }, {"q.png", "slice 2"});
  expect_error([&] { sira::write_preview_png(dir.file("q.png"), s, 0, 60, 40); }, {"q.png", "percentiles"});
}

}  // namespace
