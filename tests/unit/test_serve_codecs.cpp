// sira serve's decoders of untrusted network bytes:
// - the bitshuffle transpose against its definition computed bit by bit
//   (row b*8+k, byte i, bit j = bit k of byte b of element 8i+j);
// - lz4 / bslz4 framing round trips over sizes with every tail (n % 8 != 0,
//   several blocks, one block, fewer than 8 elements);
// - Stream V2 and array-1.0 round trips, and malformed messages: every single-
//   byte corruption and every truncation of a compressed image message either
//   decodes to an image of the declared size or throws Rejection, never
//   anything else (the byte-for-byte comparison with the HDF5 filters is
//   tests/cli/test_serve_codecs.py).
#include <gtest/gtest.h>

#include <random>

#include "serve/array_v1.hpp"
#include "serve/bitshuffle.hpp"
#include "serve/cbor_guard.hpp"
#include "serve/lz4_blocks.hpp"
#include "serve/rejection.hpp"
#include "serve/stream_v2.hpp"

namespace {

using namespace sira::serve;

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed, int range = 256) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = std::uint8_t(rng() % unsigned(range));
  return v;
}

TEST(ServeBitshuffle, MatchesTheBitDefinition) {
  for (std::size_t elem : {1, 2, 4, 8})
    for (std::size_t n : {8, 16, 64, 136}) {
      const auto in = random_bytes(n * elem, unsigned(n * 31 + elem));
      std::vector<std::uint8_t> out(in.size()), back(in.size()), want(in.size(), 0);
      for (std::size_t b = 0; b < elem; ++b)
        for (std::size_t k = 0; k < 8; ++k)
          for (std::size_t e = 0; e < n; ++e)
            if ((in[e * elem + b] >> k) & 1) want[(b * 8 + k) * (n / 8) + e / 8] |= std::uint8_t(1u << (e % 8));
      bitshuffle(in.data(), out.data(), n, elem);
      EXPECT_EQ(out, want) << "elem " << elem << " n " << n;
      bitunshuffle(out.data(), back.data(), n, elem);
      EXPECT_EQ(back, in);
    }
}

TEST(ServeLz4, RoundTripsEveryTail) {
  for (std::size_t elem : {1, 2, 4})
    for (std::size_t n : {1, 7, 8, 9, 1000, 4096, 4097, 12345}) {
      const auto in = random_bytes(n * elem, unsigned(n + elem), 7);  // compressible
      const auto bs = bslz4_encode(in.data(), in.size(), elem);
      EXPECT_EQ(bslz4_decode(bs.data(), bs.size(), elem, in.size()), in) << "bslz4 elem " << elem << " n " << n;
      const auto bs_small = bslz4_encode(in.data(), in.size(), elem, 64);  // many blocks
      EXPECT_EQ(bslz4_decode(bs_small.data(), bs_small.size(), elem, in.size()), in);
      for (std::size_t block : {0, 100, 4096}) {
        const auto lz = lz4_encode(in.data(), in.size(), block);
        EXPECT_EQ(lz4_decode(lz.data(), lz.size(), in.size()), in) << "lz4 n " << n << " block " << block;
      }
      const auto noise = random_bytes(n * elem, unsigned(n * 7 + elem));  // incompressible: raw blocks
      const auto lz = lz4_encode(noise.data(), noise.size(), 256);
      EXPECT_EQ(lz4_decode(lz.data(), lz.size(), noise.size()), noise);
    }
}

TEST(ServeLz4, RejectsAWrongSizeBeforeDecoding) {
  const auto in = random_bytes(2000, 1, 5);
  const auto bs = bslz4_encode(in.data(), in.size(), 2);
  EXPECT_THROW(bslz4_decode(bs.data(), bs.size(), 2, 4000), Rejection);  // header says 2000
  EXPECT_THROW(bslz4_decode(bs.data(), bs.size(), 4, 2000), Rejection);  // blocks not whole 4-byte elements
  EXPECT_THROW(bslz4_decode(bs.data(), 11, 2, 2000), Rejection);
  const auto lz = lz4_encode(in.data(), in.size());
  EXPECT_THROW(lz4_decode(lz.data(), lz.size() - 1, 2000), Rejection);
}

TEST(ServeStreamV2, RoundTripsStartImageEnd) {
  const auto start = encode_stream_v2_start(7, "u7", 30, 50, 12, "threshold_1");
  Message s = decode_stream_v2(start.data(), start.size());
  EXPECT_EQ(s.kind, MessageKind::start);
  EXPECT_EQ(s.series_id, 7u);
  EXPECT_EQ(s.height, 30u);
  EXPECT_EQ(s.width, 50u);
  EXPECT_EQ(s.number_of_images, 12u);
  for (SampleType t : {SampleType::u8, SampleType::u16, SampleType::u32, SampleType::f32})
    for (const char* c : {"", "lz4", "bslz4"}) {
      if (t == SampleType::f32 && *c) continue;
      const auto px = random_bytes(30 * 50 * sample_size(t), 3, t == SampleType::f32 ? 64 : 256);
      const std::uint64_t id = (std::uint64_t(1) << 40) + 3;  // 64-bit ids
      const auto img = encode_stream_v2_image(7, "u7", id, "threshold_1", 30, 50, t, px.data(), c);
      Message m = decode_stream_v2(img.data(), img.size());
      EXPECT_EQ(m.kind, MessageKind::image);
      EXPECT_EQ(m.image_id, id);
      EXPECT_EQ(m.type, t);
      EXPECT_EQ(m.compression, c);
      EXPECT_EQ(m.samples, px) << sample_type_name(t) << " " << c;
    }
  const auto end = encode_stream_v2_end(7, "u7");
  EXPECT_EQ(decode_stream_v2(end.data(), end.size()).kind, MessageKind::end);
}

TEST(ServeStreamV2, CorruptionAndTruncationOnlyEverReject) {
  const auto px = random_bytes(20 * 24 * 2, 9, 11);
  for (const char* c : {"", "lz4", "bslz4"}) {
    const auto img = encode_stream_v2_image(1, "u", 5, "c", 20, 24, SampleType::u16, px.data(), c);
    std::size_t rejected = 0, decoded = 0;
    for (std::size_t cut = 0; cut < img.size(); ++cut) {
      try {
        decode_stream_v2(img.data(), cut);
        ++decoded;
      } catch (const Rejection&) {
        ++rejected;
      }
    }
    EXPECT_EQ(decoded, 0u) << c << ": a truncated message decoded";
    for (std::size_t at = 0; at < img.size(); ++at)
      for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
        auto bad = img;
        bad[at] ^= flip;
        try {
          const Message m = decode_stream_v2(bad.data(), bad.size());
          if (m.kind == MessageKind::image) {
            EXPECT_EQ(m.samples.size(), m.height * m.width * sample_size(m.type));
          }
        } catch (const Rejection&) {
        }
      }
  }
}

TEST(ServeCborGuard, RefusesBombs) {
  std::vector<std::uint8_t> deep(100, 0x81);  // [[[[...]]]] 100 deep
  deep.push_back(0x00);
  EXPECT_THROW(check_cbor(deep.data(), deep.size()), Rejection);
  const std::uint8_t huge_map[] = {0xbb, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};  // 2^60 pairs
  EXPECT_THROW(check_cbor(huge_map, sizeof huge_map), Rejection);
  const std::uint8_t indefinite[] = {0x9f, 0x01, 0xff};
  EXPECT_THROW(check_cbor(indefinite, sizeof indefinite), Rejection);
  const std::uint8_t two_items[] = {0x01, 0x02};
  EXPECT_THROW(check_cbor(two_items, sizeof two_items), Rejection);
  const std::uint8_t fine[] = {0xa1, 0x61, 'a', 0x82, 0x01, 0x02};  // {"a": [1, 2]}
  EXPECT_NO_THROW(check_cbor(fine, sizeof fine));
}

TEST(ServeArrayV1, RoundTripAndRejections) {
  const auto px = random_bytes(6 * 5 * 2, 4);
  const std::string header = array_v1_header(42, 6, 5, SampleType::u16, true, 3);
  Message m = decode_array_v1({header, std::string(px.begin(), px.end())});
  EXPECT_EQ(m.image_id, 42u);
  EXPECT_EQ(m.series_id, 3u);
  EXPECT_EQ(m.samples, px);
  auto reason = [](const std::vector<std::string>& parts) {
    try {
      decode_array_v1(parts);
    } catch (const Rejection& r) {
      return r.reason();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(reason({"{not json", "xx"}), kBadEncoding);
  EXPECT_EQ(reason({header, std::string(59, 'x')}), kBadSize);
  EXPECT_EQ(reason({array_v1_header(1, 6, 5, SampleType::u16, false, 0).replace(0, 0, ""), ""}), kBadSize);
  EXPECT_EQ(reason({R"({"htype":"array-1.0","shape":[6,5],"type":"int64","frame":1})", std::string(240, 'x')}),
            kBadDtype);
  EXPECT_EQ(reason({R"({"htype":"array-1.0","shape":[6],"type":"uint8","frame":1})", std::string(6, 'x')}), kBadSize);
  EXPECT_EQ(reason({R"({"htype":"other"})"}), kBadMessage);
}

}  // namespace
