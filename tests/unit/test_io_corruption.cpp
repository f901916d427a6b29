// Damaged files (truncated anywhere, random bytes overwritten) must either
// read or throw sira::Error: never crash, hang or read out of bounds (run
// under ASan in the sanitizer build).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using namespace sira::test;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Reading must succeed or throw sira::Error; anything else fails the test.
void read_survives(const std::string& spec) {
  try {
    const sira::Stack s = sira::read_stack(spec);
    EXPECT_EQ(s.data.size(), s.depth * s.height * s.width);
  } catch (const sira::Error&) {
  }
}

class IoTruncation : public ::testing::TestWithParam<const char*> {};
class IoByteDamage : public ::testing::TestWithParam<const char*> {};

TEST_P(IoTruncation, TruncatedAnywhereIsAnErrorNotACrash) {
  ScratchDir dir;
  const std::string name = std::string("f") + GetParam();
  const bool hdf5 = std::string(GetParam()) == ".h5";
  const std::string spec = dir.file(name) + (hdf5 ? ":/d" : "");
  const bool single = std::string(GetParam()) == ".png";
  sira::write_stack(spec, sample_stack(single ? 1 : 3, 24, 40, DType::u16));
  const std::string bytes = read_all(dir.file(name));
  const std::string cut = dir.file("cut") + GetParam();
  for (std::size_t size = 0; size < bytes.size(); size += 1 + bytes.size() / 97) {
    write_bytes(cut, bytes.substr(0, size));
    SCOPED_TRACE(size);
    // A strictly shorter file can never hold the whole stack.
    expect_error([&] { sira::read_stack(cut + (hdf5 ? ":/d" : "")); }, {"cut"});
  }
}

TEST_P(IoByteDamage, RandomByteDamageNeverCrashes) {
  ScratchDir dir;
  const std::string name = std::string("f") + GetParam();
  const bool single = std::string(GetParam()) == ".png";
  sira::write_stack(dir.file(name), sample_stack(single ? 1 : 2, 16, 24, single ? DType::u8 : DType::f32));
  const std::string bytes = read_all(dir.file(name));
  std::mt19937 rng(1234);
  const std::string damaged = dir.file("damaged") + GetParam();
  for (int trial = 0; trial < 200; ++trial) {
    std::string b = bytes;
    const int hits = 1 + static_cast<int>(rng() % 4);
    // Headers are where parsers go wrong: aim half of the hits at the first 200 bytes.
    for (int h = 0; h < hits; ++h) {
      const std::size_t span = (rng() % 2) ? std::min<std::size_t>(200, b.size()) : b.size();
      b[rng() % span] = static_cast<char>(rng() & 0xff);
    }
    write_bytes(damaged, b);
    read_survives(damaged);
  }
}

std::string format_name(const ::testing::TestParamInfo<const char*>& info) {
  return info.param + 1;
}

INSTANTIATE_TEST_SUITE_P(Formats, IoTruncation, ::testing::Values(".tif", ".png", ".npy", ".h5"),
                         format_name);
// Not HDF5: the HDF5 library itself is not hardened against forged metadata.
INSTANTIATE_TEST_SUITE_P(Formats, IoByteDamage, ::testing::Values(".tif", ".png", ".npy"),
                         format_name);

}  // namespace
