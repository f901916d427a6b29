// One decoded message of a detector or reconstruction stream, whatever its wire
// protocol (Stream V2 CBOR or array-1.0 JSON + raw): the start or end of a
// series, or one image. Image samples stay in their wire type (little-endian,
// row-major) until the worker converts them, so decoding allocates once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sira::serve {

inline constexpr double kNoAngle = std::numeric_limits<double>::quiet_NaN();

enum class MessageKind { start, image, end };
enum class SampleType { u8, u16, u32, f32 };

const char* sample_type_name(SampleType t);        // uint8, uint16, uint32, float32
std::size_t sample_size(SampleType t);
bool parse_sample_type(const std::string& name, SampleType* t);

struct Message {
  MessageKind kind = MessageKind::image;
  bool has_series = false;       // array-1.0 frames may carry none
  std::uint64_t series_id = 0;
  std::string series_unique_id;

  // start: the series' image size and length (0 = not given)
  std::size_t width = 0, height = 0;
  std::uint64_t number_of_images = 0;
  std::vector<std::string> channels;
  std::vector<double> angles_deg;  // start user_data "angles_deg": one per projection, in order

  // What an image is, for --mode projections (Stream V2 user_data of the image
  // or its start, or the array-1.0 header): "image_type" dark | flat |
  // projection (empty = as the series' start says, else projection), and
  // "angle_deg" the rotation angle in degrees (NaN = not given).
  std::string image_type;
  double angle_deg = kNoAngle;

  // image
  std::uint64_t image_id = 0;
  std::string channel;           // the channel the samples are from (Stream V2)
  SampleType type = SampleType::u16;
  std::vector<std::uint8_t> samples;  // height * width * sample_size(type) bytes, little-endian
  std::string compression;       // "", "lz4" or "bslz4": how it came (for the log)
};

// Samples of an image message as floats (every uint16/uint32 value up to 2^24
// exactly; uint32 above that rounds as float32 does).
void samples_to_float(const Message& m, float* out);

}  // namespace sira::serve
