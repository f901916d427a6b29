#include "serve/input_decoder.hpp"

#include "serve/array_v1.hpp"
#include "serve/rejection.hpp"
#include "serve/stream_v2.hpp"

namespace sira::serve {

Message decode_input(const std::vector<zmq::message_t>& frames, bool stream_v2, const std::string& channel) {
  if (stream_v2) {
    if (frames.size() != 1) reject(kBadEncoding, "Stream V2: a ", frames.size(), "-part ZeroMQ message (1 expected)");
    return decode_stream_v2(frames[0].data<std::uint8_t>(), frames[0].size(), channel);
  }
  std::vector<std::string> parts;
  for (const auto& f : frames) parts.emplace_back(f.to_string());
  return decode_array_v1(parts);
}

}  // namespace sira::serve
