// protobuf_reader against hand-encoded bytes from the protobuf encoding
// specification (protobuf.dev/programming-guides/encoding): field 1 = 150 is
// 08 96 01, field 2 = "testing" is 12 07 74 65 73 74 69 6e 67, a packed
// repeated field 4 = {3, 270, 86942} is 22 06 03 8e 02 9e a7 05. And the
// refusals: truncated varints and lengths, wrong wire types, nesting too deep.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "model/protobuf_reader.hpp"
#include "sira/error.hpp"

using sira::pb::Reader;

namespace {

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(char(b));
  return s;
}

}  // namespace

TEST(ProtobufReader, DecodesTheSpecificationsExamples) {
  const std::string msg = bytes({0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g', 0x22, 0x06, 0x03,
                                 0x8e, 0x02, 0x9e, 0xa7, 0x05, 0x2d, 0x00, 0x00, 0x80, 0x3f});
  Reader r(msg);
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.field(), 1);
  EXPECT_EQ(r.varint(), 150u);
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.field(), 2);
  EXPECT_EQ(r.string(), "testing");
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.field(), 4);
  std::vector<std::int64_t> packed;
  r.append_int64s(packed);
  EXPECT_EQ(packed, (std::vector<std::int64_t>{3, 270, 86942}));
  ASSERT_TRUE(r.next());  // field 5, fixed32: 1.0f little-endian
  EXPECT_EQ(r.field(), 5);
  EXPECT_EQ(r.float32(), 1.0f);
  EXPECT_FALSE(r.next());
}

TEST(ProtobufReader, SkipsUnknownFieldsOfEveryWireType) {
  // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, then field 1 = 7.
  const std::string msg = bytes({0x48, 0xff, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 'a', 'b', 0x65, 1, 2,
                                 3, 4, 0x08, 0x07});
  Reader r(msg);
  for (int k = 0; k < 4; ++k) {
    ASSERT_TRUE(r.next());
    r.skip();
  }
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.field(), 1);
  EXPECT_EQ(r.varint(), 7u);
  EXPECT_FALSE(r.next());
}

TEST(ProtobufReader, RefusesTruncatedAndMistypedFields) {
  auto refused = [](const std::string& msg, auto&& read) {
    Reader r(msg);
    EXPECT_THROW(
        {
          while (r.next()) read(r);
        },
        sira::Error);
  };
  refused(bytes({0x08, 0x96}), [](Reader& r) { r.varint(); });                  // varint cut short
  refused(bytes({0x12, 0x07, 't', 'e'}), [](Reader& r) { r.bytes(); });         // length past the end
  refused(bytes({0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}), [](Reader& r) { r.bytes(); });  // 4 GB length
  refused(bytes({0x08, 0x01}), [](Reader& r) { r.bytes(); });                   // varint read as bytes
  refused(bytes({0x2d, 0x00, 0x00}), [](Reader& r) { r.float32(); });           // fixed32 cut short
  refused(bytes({0x0b}), [](Reader& r) { r.skip(); });                          // group wire types: not ONNX
  // An 11-byte varint (more than 64 bits).
  refused(bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
          [](Reader& r) { r.varint(); });
}

TEST(ProtobufReader, LimitsNesting) {
  // N levels of field 1 = { field 1 = { ... } }, built from the inside out.
  auto nested = [](int levels) {
    std::string msg;
    for (int level = 0; level < levels; ++level) msg = bytes({0x0a, int(msg.size())}) + msg;
    return msg;
  };
  std::function<void(Reader)> descend = [&](Reader r) {
    while (r.next()) descend(r.message());
  };
  EXPECT_NO_THROW(descend(Reader(nested(20))));
  EXPECT_THROW(descend(Reader(nested(40))), sira::Error);
}
