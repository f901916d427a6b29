// .npy files built byte by byte (the oracle is the NumPy format spec).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>

#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using namespace sira::test;

// A version 1 (or 2/3) .npy file with the given dict and raw data.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  std::string header = dict;
  const std::size_t prefix = version == 1 ? 10 : 12;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  const std::size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (version != 1) out += std::string(2, '\0');
  return out + header + data;
}

std::string be16(std::initializer_list<std::uint16_t> values) {
  std::string s;
  for (auto v : values) { s += static_cast<char>(v >> 8); s += static_cast<char>(v & 0xff); }
  return s;
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  std::string s;
  for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);
  return s;
}

TEST(IoNpy, ReadsBigEndianUint16KeepingTheTag) {
  ScratchDir dir;
  const std::string f = dir.file("be.npy");
  write_bytes(f, npy_bytes("{'descr': '>u2', 'fortran_order': False, 'shape': (2, 3), }",
                           be16({1, 258, 65535, 0, 4096, 7})));
  const sira::Stack s = sira::read_stack(f);
  EXPECT_EQ(s.dtype, DType::u16);
  EXPECT_TRUE(s.is_2d);
  ASSERT_EQ(s.height, 2u);
  ASSERT_EQ(s.width, 3u);
  EXPECT_EQ(s.data, (std::vector<float>{1, 258, 65535, 0, 4096, 7}));
}

TEST(IoNpy, ReadsBigEndianFloat32) {
  ScratchDir dir;
  const std::string f = dir.file("bef.npy");
  // 1.5f = 0x3FC00000, -2.0f = 0xC0000000 (IEEE 754, big-endian bytes).
  write_bytes(f, npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }",
                           std::string("\x3f\xc0\x00\x00\xc0\x00\x00\x00", 8)));
  const sira::Stack s = sira::read_stack(f);
  EXPECT_EQ(s.dtype, DType::f32);
  EXPECT_EQ(s.data, (std::vector<float>{1.5f, -2.0f}));
}

TEST(IoNpy, OtherTypesReadAsFloat32) {
  ScratchDir dir;
  struct { std::string descr, data; std::vector<float> expected; } cases[] = {
      {"<i2", raw<std::int16_t>({-32768, -1, 300}), {-32768, -1, 300}},
      {"<u4", raw<std::uint32_t>({0, 70000, 16777216}), {0, 70000, 16777216}},
      {"<i8", raw<std::int64_t>({-5, 1, 1 << 20}), {-5, 1, 1 << 20}},
      {"<f8", raw<double>({0.25, -1e10, 3.0}), {0.25f, -1e10f, 3.0f}},
      {"|i1", raw<std::int8_t>({-128, 0, 127}), {-128, 0, 127}},
  };
  for (const auto& c : cases) {
    const std::string f = dir.file("t.npy");
    write_bytes(f, npy_bytes("{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': (1, 3), }",
                             c.data));
    const sira::Stack s = sira::read_stack(f);
    EXPECT_EQ(s.dtype, DType::f32) << c.descr;
    EXPECT_EQ(s.data, c.expected) << c.descr;
  }
}

TEST(IoNpy, ReadsVersion2And3Headers) {
  ScratchDir dir;
  for (int version : {2, 3}) {
    const std::string f = dir.file("v.npy");
    write_bytes(f, npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1, 2), }",
                             "\x01\x02\x03\xff", version));
    const sira::Stack s = sira::read_stack(f);
    EXPECT_EQ(s.dtype, DType::u8);
    EXPECT_FALSE(s.is_2d);
    EXPECT_EQ(s.depth, 2u);
    EXPECT_EQ(s.data, (std::vector<float>{1, 2, 3, 255}));
  }
}

TEST(IoNpy, FortranOrderIsTransposedIntoPlace) {
  ScratchDir dir;
  const std::string f = dir.file("f.npy");
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  write_bytes(f, npy_bytes("{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3), }",
                           raw<std::uint16_t>({1, 4, 2, 5, 3, 6})));
  EXPECT_EQ(sira::read_stack(f).data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // 3-D (2, 2, 2): element (d, y, x) is at d + 2 * (y + 2 * x).
  write_bytes(f, npy_bytes("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2), }",
                           std::string("\x00\x04\x02\x06\x01\x05\x03\x07", 8)));
  EXPECT_EQ(sira::read_stack(f).data, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(sira::read_slices(f, 1, 1).data, (std::vector<float>{4, 5, 6, 7}));
}

TEST(IoNpy, WritesTheVersion1HeaderNumpyWrites) {
  ScratchDir dir;
  const std::string f = dir.file("w.npy");
  sira::Stack s(1, 2, 3, DType::u16);
  s.data = {1, 2, 3, 4, 5, 65535};
  sira::write_stack(f, s);
  std::ifstream in(f, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string expected =
      npy_bytes("{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }",
                raw<std::uint16_t>({1, 2, 3, 4, 5, 65535}));
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ((bytes.size() - 12) % 64, 0u);  // header padded to 64 bytes
}

TEST(IoNpy, RefusesCorruptHeadersNamingTheFile) {
  ScratchDir dir;
  const std::string f = dir.file("bad.npy");
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }";
  const std::string two_floats(8, '\0');

  write_bytes(f, "PK\x03\x04 not numpy at all");
  expect_error([&] { sira::read_stack(f); }, {"bad.npy", "not a .npy"});

  std::string huge = npy_bytes(ok_dict, two_floats);
  huge[8] = '\xff';
  huge[9] = '\xff';  // header length 65535 > file size
  write_bytes(f, huge);
  expect_error([&] { sira::read_stack(f); }, {"bad.npy", "header length"});

  const std::pair<std::string, std::string> bad_dicts[] = {
      {"{'descr': '<f4', 'fortran_order': False, }", "missing"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1, 2), }", "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), ", "corrupt"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (1, 2), }", "'<c8'"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }", "'<f2'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 2), }", "structured"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2", "corrupt"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }", "too large"},
  };
  for (const auto& [dict, why] : bad_dicts) {
    write_bytes(f, npy_bytes(dict, two_floats));
    expect_error([&] { sira::read_stack(f); }, {"bad.npy", why});
  }
}

TEST(IoNpy, RefusesAbsurdShapesBeforeAllocating) {
  ScratchDir dir;
  const std::string f = dir.file("absurd.npy");
  write_bytes(f, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }",
                           std::string(16, '\0')));
  expect_error([&] { sira::read_stack(f); }, {"absurd.npy", "exceed"});
  expect_error([&] { sira::probe_stack(f); }, {"absurd.npy", "exceed"});
}

TEST(IoNpy, RefusesTruncatedDataAndWrongRank) {
  ScratchDir dir;
  const std::string f = dir.file("short.npy");
  write_bytes(f, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
                           std::string(60, '\0')));
  expect_error([&] { sira::read_stack(f); }, {"short.npy", "truncated", "64 bytes"});

  write_bytes(f, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2, 2), }",
                           std::string(64, '\0')));
  expect_error([&] { sira::read_stack(f); }, {"short.npy", "(2, 2, 2, 2)", "4 dimensions"});
  write_bytes(f, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
                           std::string(20, '\0')));
  expect_error([&] { sira::read_stack(f); }, {"short.npy", "(5)", "1 dimensions"});
  expect_error([&] { sira::read_stack(dir.file("missing.npy")); }, {"missing.npy", "cannot open"});
}

}  // namespace
