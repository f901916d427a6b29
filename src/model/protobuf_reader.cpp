// The protobuf wire-format decoder (protobuf_reader.hpp).
#include "model/protobuf_reader.hpp"

#include <cstring>

#include "sira/error.hpp"

namespace sira::pb {

Reader::Reader(std::string_view bytes, int depth, std::size_t base_offset)
    : data_(bytes), depth_(depth), base_(base_offset) {
  if (depth > kMaxDepth) fail("protobuf: messages nested deeper than ", kMaxDepth, " at byte ", base_offset);
}

void Reader::need(std::size_t n, const char* what) const {
  if (n > data_.size() - pos_)
    fail("protobuf: truncated ", what, " at byte ", base_ + pos_, " (needs ", n, " bytes, ", data_.size() - pos_,
         " left)");
}

std::uint64_t Reader::read_varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    need(1, "varint");
    const auto b = static_cast<std::uint8_t>(data_[pos_++]);
    if (shift == 63 && b > 1) fail("protobuf: varint longer than 64 bits at byte ", base_ + pos_ - 1);
    v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("protobuf: varint longer than 10 bytes at byte ", base_ + pos_);
}

bool Reader::next() {
  if (pos_ >= data_.size()) return false;
  key_offset_ = base_ + pos_;
  const std::uint64_t key = read_varint();
  const std::uint64_t field = key >> 3;
  wire_ = int(key & 7);
  if (field == 0 || field > 536870911) fail("protobuf: invalid field number ", field, " at byte ", key_offset_);
  if (wire_ != kVarint && wire_ != kFixed64 && wire_ != kLengthDelimited && wire_ != kFixed32)
    fail("protobuf: unsupported wire type ", wire_, " (field ", field, ") at byte ", key_offset_);
  field_ = int(field);
  return true;
}

void Reader::expect(int wire, const char* what) const {
  if (wire_ != wire)
    fail("protobuf: field ", field_, " at byte ", key_offset_, " has wire type ", wire_, ", expected ", what);
}

std::uint64_t Reader::varint() {
  expect(kVarint, "a varint");
  return read_varint();
}

std::uint32_t Reader::fixed32() {
  expect(kFixed32, "32-bit");
  need(4, "32-bit value");
  std::uint32_t v;
  std::memcpy(&v, data_.data() + pos_, 4);  // little-endian hosts only, as the writer
  pos_ += 4;
  return v;
}

std::uint64_t Reader::fixed64() {
  expect(kFixed64, "64-bit");
  need(8, "64-bit value");
  std::uint64_t v;
  std::memcpy(&v, data_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

float Reader::float32() {
  const std::uint32_t u = fixed32();
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::string_view Reader::bytes() {
  expect(kLengthDelimited, "length-delimited");
  const std::uint64_t n = read_varint();
  if (n > data_.size() - pos_)
    fail("protobuf: field ", field_, " at byte ", key_offset_, " claims ", n, " bytes but ", data_.size() - pos_,
         " remain");
  std::string_view v = data_.substr(pos_, std::size_t(n));
  pos_ += std::size_t(n);
  return v;
}

Reader Reader::message() {
  const std::string_view b = bytes();
  return Reader(b, depth_ + 1, base_ + pos_ - b.size());
}

void Reader::append_int64s(std::vector<std::int64_t>& out) {
  if (wire_ != kLengthDelimited) {
    out.push_back(int64());
    return;
  }
  const std::string_view b = bytes();
  Reader packed(b, depth_ + 1, base_ + pos_ - b.size());
  while (packed.pos_ < packed.data_.size()) {
    out.push_back(static_cast<std::int64_t>(packed.read_varint()));
  }
}

void Reader::append_floats(std::vector<float>& out) {
  if (wire_ != kLengthDelimited) {
    out.push_back(float32());
    return;
  }
  const std::string_view b = bytes();
  if (b.size() % 4)
    fail("protobuf: packed floats of field ", field_, " at byte ", key_offset_, " are ", b.size(),
         " bytes, not a multiple of 4");
  const std::size_t n = b.size() / 4, old = out.size();
  out.resize(old + n);
  if (n) std::memcpy(out.data() + old, b.data(), b.size());
}

void Reader::skip() {
  switch (wire_) {
    case kVarint: read_varint(); break;
    case kFixed64: need(8, "64-bit value"); pos_ += 8; break;
    case kFixed32: need(4, "32-bit value"); pos_ += 4; break;
    case kLengthDelimited: bytes(); break;
    default: fail("protobuf: cannot skip wire type ", wire_, " at byte ", key_offset_);
  }
}

}  // namespace sira::pb
