// Minimal bounds-checked protobuf wire-format decoder, enough to read an ONNX
// ModelProto (the counterpart of protobuf_writer.hpp; docs/onnx.md says why not
// libprotobuf). Every length is checked against the bytes that remain, nesting
// is limited, and every problem throws sira::Error naming the byte offset: a
// hostile file gets a clear refusal, never undefined behaviour.
//
//   Reader r(bytes);
//   while (r.next()) {
//     switch (r.field()) {
//       case 1: name = r.string(); break;
//       case 2: sub(r.message()); break;
//       default: r.skip();   // unknown fields are skipped, as protobuf does
//     }
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sira::pb {

enum Wire { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

class Reader {
 public:
  // Nested messages deeper than this are refused (ONNX needs ~6 levels).
  static constexpr int kMaxDepth = 32;

  explicit Reader(std::string_view bytes, int depth = 0, std::size_t base_offset = 0);

  // Reads the next field's key; false at the end of the message.
  bool next();
  int field() const { return field_; }
  int wire() const { return wire_; }

  // The current field's value; each checks the wire type first.
  std::uint64_t varint();
  std::int64_t int64() { return static_cast<std::int64_t>(varint()); }
  std::uint32_t fixed32();
  std::uint64_t fixed64();
  float float32();
  std::string_view bytes();
  std::string string() { return std::string(bytes()); }
  Reader message();  // a nested message, one level deeper
  // Repeated scalars, packed (one length-delimited field) or not (one value per field).
  void append_int64s(std::vector<std::int64_t>& out);
  void append_floats(std::vector<float>& out);
  void skip();  // the current field, whatever its wire type

  // Offset of the next byte to read in the outermost buffer (for messages).
  std::size_t offset() const { return base_ + pos_; }

 private:
  std::uint64_t read_varint();
  void expect(int wire, const char* what) const;
  void need(std::size_t n, const char* what) const;

  std::string_view data_;
  std::size_t pos_ = 0;
  int depth_;
  std::size_t base_;
  int field_ = 0;
  int wire_ = -1;
  std::size_t key_offset_ = 0;
};

}  // namespace sira::pb
