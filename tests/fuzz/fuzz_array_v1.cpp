// array-1.0 frames (JSON header + raw bytes): the input is split into parts at
// its first 0xFF byte (header | data), as a two-part ZeroMQ message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/array_v1.hpp"
#include "serve/message.hpp"
#include "serve/rejection.hpp"
#include "sira/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  const std::size_t cut = all.find('\xff');
  parts.push_back(all.substr(0, cut));
  if (cut != std::string::npos) parts.push_back(all.substr(cut + 1));
  try {
    const sira::serve::Message m = sira::serve::decode_array_v1(parts);
    if (m.kind == sira::serve::MessageKind::image) {
      std::vector<float> pixels(m.height * m.width);
      sira::serve::samples_to_float(m, pixels.data());
    }
  } catch (const sira::serve::Rejection&) {  // counted and logged by the service
  } catch (const sira::Error&) {
  }
  return 0;
}
