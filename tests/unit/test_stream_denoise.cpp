// denoise_stream (reader thread -> engine -> writer thread) against the
// whole-stack path it replaces in sira denoise: write_stack(engine.denoise(
// read_stack(input))) must give the same samples bit for bit, for 1- and 3-slice
// models, every stack format, 2-D images and 2-slice stacks (both edges at once);
// a failure mid-stack must leave no output and keep an existing one.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

#include "sira/denoise_stream.hpp"
#include "sira/engine.hpp"
#include "sira/io.hpp"
#include "sira/model.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using sira::Stack;
using namespace sira::test;

sira::Model small_model(int slices, const std::string& norm) {
  sira::TomoganConfig cfg;
  cfg.slices = slices;
  sira::parse_widths("4,6,8,8,8,8,6,6,4", cfg);
  sira::Model m = sira::init_model(cfg, 11);
  m.norm.mode = norm;
  if (norm == "fixed") {
    m.norm.offset = 100.0;
    m.norm.scale = 0.01;
  }
  return m;
}

// Smooth structure plus a different pattern per slice, so a wrong neighbour shows.
Stack test_stack(std::size_t depth, std::size_t h, std::size_t w) {
  Stack s(depth, h, w);
  for (std::size_t z = 0; z < depth; ++z)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x)
        s.at(z, y, x) = float(150 + 60 * std::sin(0.3 * double(x) + 0.7 * double(z)) *
                                        std::cos(0.21 * double(y)) +
                              7 * std::sin(double(x * y + 13 * z)));
  s.is_2d = depth == 1;
  return s;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Case {
  std::string ext;
  int slices;
  std::string norm;
};

class StreamDenoise : public ::testing::TestWithParam<Case> {};

TEST_P(StreamDenoise, EqualsTheWholeStackPathBitForBit) {
  const Case c = GetParam();
  ScratchDir dir;
  const sira::Model model = small_model(c.slices, c.norm);
  for (std::size_t depth : {std::size_t(7), std::size_t(2), std::size_t(1)}) {
    const std::string in = dir.file("in" + std::to_string(depth) + c.ext);
    const std::string out = dir.file("out" + std::to_string(depth) + c.ext);
    sira::write_stack(in, test_stack(depth, 21, 30));

    sira::Engine whole_engine(model, {.backend = "ref", .threads = 2});
    const Stack want = whole_engine.denoise(sira::read_stack(in));

    sira::Engine engine(model, {.backend = "ref", .threads = 2});
    std::size_t calls = 0;
    const sira::StreamReport r = sira::denoise_stream(
        engine, in, out, {.progress = [&](std::size_t done, std::size_t total) {
          EXPECT_EQ(done, ++calls);
          EXPECT_EQ(total, depth);
        }});
    EXPECT_EQ(calls, depth);
    EXPECT_EQ(r.input.depth, depth);
    const Stack got = sira::read_stack(out);
    EXPECT_EQ(got.is_2d, depth == 1);
    EXPECT_EQ(got.dtype, DType::f32);
    expect_same_samples(got, want);
  }
  EXPECT_EQ(dir.entries().size(), 6u);  // three inputs, three outputs, no temporaries
}

INSTANTIATE_TEST_SUITE_P(
    FormatsAndModels, StreamDenoise,
    ::testing::Values(Case{".h5:/exchange/data", 1, "per_image"}, Case{".h5:/exchange/data", 3, "per_image"},
                      Case{".tif", 1, "fixed"}, Case{".tif", 3, "per_image"},
                      Case{".npy", 1, "per_image"}, Case{".npy", 3, "fixed"}),
    [](const auto& info) {
      const Case& c = info.param;
      const std::string fmt = c.ext == ".tif" ? "tiff" : c.ext == ".npy" ? "npy" : "hdf5";
      return fmt + "_" + std::to_string(c.slices) + "slice_" + c.norm;
    });

TEST(StreamDenoiseOutput, IntegerOutputAndPreviewMatchTheWholeStackWriters) {
  ScratchDir dir;
  const sira::Model model = small_model(3, "fixed");
  const std::string in = dir.file("in.h5:/d");
  sira::write_stack(in, test_stack(5, 16, 24));
  sira::Engine engine(model, {.backend = "ref", .threads = 2});
  const Stack want = engine.denoise(sira::read_stack(in));
  for (float v : want.data) ASSERT_TRUE(v > -0.5f && v < 65535.5f) << "test premise: " << v;
  sira::write_stack(dir.file("want.tif"), want, DType::u16);
  sira::write_preview_png(dir.file("want.png"), want, want.depth / 2);

  sira::denoise_stream(engine, in, dir.file("got.tif"),
                       {.dtype = DType::u16, .preview = dir.file("got.png")});
  EXPECT_EQ(file_bytes(dir.file("got.tif")), file_bytes(dir.file("want.tif")));
  EXPECT_EQ(file_bytes(dir.file("got.png")), file_bytes(dir.file("want.png")));
}

TEST(StreamDenoiseFailure, NanInSliceFiveLeavesNoOutputAndKeepsAnExistingOne) {
  ScratchDir dir;
  const sira::Model model = small_model(3, "per_image");
  for (const std::string ext : {".h5", ".tif", ".npy"}) {
    const std::string in = dir.file("nan" + ext + (ext == ".h5" ? ":/d" : ""));
    Stack s = test_stack(9, 16, 16);
    s.at(5, 3, 4) = std::numeric_limits<float>::quiet_NaN();
    sira::write_stack(in, s);
    const std::string out_file = dir.file("out" + ext);
    const std::string out = out_file + (ext == ".h5" ? ":/d" : "");
    sira::write_stack(out, test_stack(2, 8, 8));
    const std::string before = file_bytes(out_file);
    const auto entries = dir.entries().size();

    sira::Engine engine(model, {.backend = "ref", .threads = 2});
    expect_error([&] { sira::denoise_stream(engine, in, out); },
                 {"nan" + ext, "non-finite", "slice 5, row 3, column 4"});
    EXPECT_EQ(file_bytes(out_file), before) << ext;
    EXPECT_EQ(dir.entries().size(), entries) << ext << ": a temporary file was left";
  }
}

TEST(StreamDenoiseFailure, AWriteErrorMidStackLeavesNoOutput) {
  ScratchDir dir;
  const sira::Model model = small_model(1, "fixed");
  const std::string in = dir.file("in.npy");
  Stack s = test_stack(8, 16, 16);
  for (std::size_t i = 0; i < s.slice_size(); ++i) s.slice(6)[i] *= 1e5f;  // far beyond uint8
  sira::write_stack(in, s);
  sira::Engine engine(model, {.backend = "ref", .threads = 2});
  // Premise, from the whole-stack path: slice 6 is the first that uint8 cannot hold.
  const Stack plain = engine.denoise(sira::read_stack(in));
  std::size_t first_bad = plain.depth;
  for (std::size_t i = 0; i < plain.size() && first_bad == plain.depth; ++i)
    if (!(plain.data[i] > -0.5f && plain.data[i] < 255.5f)) first_bad = i / plain.slice_size();
  ASSERT_EQ(first_bad, 6u);
  for (const std::string& out : {dir.file("o.tif"), dir.file("o.npy"), dir.file("o.h5") + ":/x"}) {
    expect_error([&] { sira::denoise_stream(engine, in, out, {.dtype = DType::u8}); },
                 {"out of range", "at slice 6"});
    EXPECT_EQ(dir.entries().size(), 1u) << out;
  }
}

TEST(StreamDenoiseFailure, RefusesATooSmallImageBeforeCreatingTheOutput) {
  ScratchDir dir;
  sira::Engine engine(small_model(1, "per_image"), {.backend = "ref", .threads = 1});
  sira::write_stack(dir.file("tiny.npy"), test_stack(3, 6, 40));
  expect_error([&] { sira::denoise_stream(engine, dir.file("tiny.npy"), dir.file("o.npy")); },
               {"tiny.npy", "6x40", "minimum 8x8"});
  EXPECT_EQ(dir.entries().size(), 1u);
}

}  // namespace
