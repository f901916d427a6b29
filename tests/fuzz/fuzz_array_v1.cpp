// array-1.0 frames (JSON header + raw bytes): the input is split into parts at
// its first 0xFF byte (header | data), as a two-part ZeroMQ message
// (fuzz_message.hpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_message.hpp"
#include "serve/array_v1.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  const std::size_t cut = all.find('\xff');
  parts.push_back(all.substr(0, cut));
  if (cut != std::string::npos) parts.push_back(all.substr(cut + 1));
  sira::fuzz::decode_and_convert([&] { return sira::serve::decode_array_v1(parts); });
  return 0;
}
