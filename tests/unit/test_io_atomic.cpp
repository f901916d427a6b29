// Writers go through a temporary file: a failed write leaves no new file and
// never damages an existing target.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using namespace sira::test;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(IoAtomicWrite, FailedWritesLeaveNoFileAndKeepTheOldTarget) {
  ScratchDir dir;
  sira::Stack bad = sample_stack(2, 4, 4, DType::u8);
  bad.data.back() = 300.0f;  // out of range for uint8, found only at the end
  for (const char* name : {"out.tif", "out.npy", "out.h5"}) {
    const std::string file = dir.file(name);
    const std::string spec = file + (std::string(name).ends_with(".h5") ? ":/d" : "");
    expect_error([&] { sira::write_stack(spec, bad, DType::u8); }, {name, "300", "out of range"});
    EXPECT_FALSE(std::filesystem::exists(file)) << name;
    EXPECT_TRUE(dir.entries().empty()) << "temporary left behind for " << name;

    sira::write_stack(spec, sample_stack(1, 3, 3, DType::u8));
    const std::string before = contents(file);
    expect_error([&] { sira::write_stack(spec, bad, DType::u8); }, {name});
    EXPECT_EQ(contents(file), before) << name << " was modified by a failed write";
    EXPECT_EQ(dir.entries().size(), 1u) << name;
    std::filesystem::remove(file);
  }
}

TEST(IoAtomicWrite, RefusesMissingFoldersAndFolderTargets) {
  ScratchDir dir;
  const sira::Stack s = sample_stack(1, 2, 2, DType::u8);
  expect_error([&] { sira::write_stack(dir.file("no/such/dir/x.tif"), s); },
               {"x.tif", "does not exist"});
  expect_error([&] { sira::write_stack(dir.file("no/x.h5") + ":/d", s); }, {"x.h5", "does not exist"});
  std::filesystem::create_directory(dir.file("folder.npy"));
  expect_error([&] { sira::write_stack(dir.file("folder.npy"), s); }, {"folder.npy", "folder"});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"folder.npy"});
}

TEST(IoAtomicWrite, ReplacesAnExistingTargetWhole) {
  ScratchDir dir;
  const std::string f = dir.file("r.tif");
  sira::write_stack(f, sample_stack(5, 20, 20, DType::f32));
  sira::write_stack(f, sample_stack(1, 2, 3, DType::u8));
  const sira::Stack back = sira::read_stack(f);
  EXPECT_EQ(back.depth, 1u);
  EXPECT_EQ(back.dtype, DType::u8);
  EXPECT_EQ(dir.entries().size(), 1u);
}

}  // namespace
