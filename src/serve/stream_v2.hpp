// DECTRIS SIMPLON Stream V2: one CBOR map per ZeroMQ message, "type" = start,
// image or end (docs/serve.md lists the fields sira reads). Image samples are an
// RFC 8746 multi-dimensional array (tag 40: [[height, width], typed array]) per
// channel; typed arrays are tag 64 (uint8), 65/69 (uint16 big/little-endian),
// 66/70 (uint32) or 85 (float32 little-endian) on a byte string, itself possibly
// DECTRIS tag 56500 ["lz4" | "bslz4", elem_size, bytes] (lz4_blocks.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/message.hpp"

namespace sira::serve {

// Decodes one message; throws Rejection for anything malformed. `channel`
// picks the image channel (empty = the first of the data map).
Message decode_stream_v2(const std::uint8_t* data, std::size_t size, const std::string& channel = {});

// The user_data sira's encoders can attach (message.hpp: image_type, angles).
struct UserData {
  std::string image_type;
  double angle_deg = kNoAngle;     // an image's
  std::vector<double> angles_deg;  // a start's
};

// Encoders (sira stream-sim, tests). `compression` "", "lz4" or "bslz4".
std::vector<std::uint8_t> encode_stream_v2_start(std::uint64_t series_id, const std::string& unique_id,
                                                 std::size_t height, std::size_t width,
                                                 std::uint64_t number_of_images, const std::string& channel,
                                                 const UserData& user = {});
std::vector<std::uint8_t> encode_stream_v2_image(std::uint64_t series_id, const std::string& unique_id,
                                                 std::uint64_t image_id, const std::string& channel,
                                                 std::size_t height, std::size_t width, SampleType type,
                                                 const std::uint8_t* samples, const std::string& compression,
                                                 const UserData& user = {});
std::vector<std::uint8_t> encode_stream_v2_end(std::uint64_t series_id, const std::string& unique_id);

}  // namespace sira::serve
