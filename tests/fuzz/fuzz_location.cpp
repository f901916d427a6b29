// Command-line specs: locations ("file.h5:/path"), row lists and angle ranges.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/tomo/dxchange.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)sira::parse_location(text);
  } catch (const sira::Error&) {
  }
  try {
    (void)sira::tomo::parse_rows(text, 1 + size % 4096);
  } catch (const sira::Error&) {
  }
  try {
    (void)sira::tomo::parse_angle_range(text);
  } catch (const sira::Error&) {
  }
  return 0;
}
