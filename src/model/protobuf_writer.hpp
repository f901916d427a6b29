// Minimal protobuf wire-format encoder, enough to write an ONNX ModelProto.
// Why not libprotobuf + onnx.pb.h: Debian's libonnx-dev ships no generated
// onnx.pb.h for C++ users and protoc would add a build-time code generator for
// ~15 message fields; the wire format (varints and length-delimited fields) is
// small and stable (docs/onnx.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace sira::pb {

// One message being built; nested messages are built separately and added as bytes.
class Message {
 public:
  void varint_field(int field, std::uint64_t v) {
    key(field, 0);
    varint(v);
  }
  void bytes_field(int field, const std::string& bytes) {
    key(field, 2);
    varint(bytes.size());
    out_ += bytes;
  }
  void message_field(int field, const Message& m) { bytes_field(field, m.out_); }
  void float_field(int field, float f) {
    key(field, 5);
    char b[4];
    std::memcpy(b, &f, 4);  // little-endian hosts only (x86-64, aarch64)
    out_.append(b, 4);
  }
  const std::string& bytes() const { return out_; }

 private:
  void key(int field, int wire) { varint((std::uint64_t(field) << 3) | std::uint64_t(wire)); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(char((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(char(v));
  }
  std::string out_;
};

}  // namespace sira::pb
