// png images (fuzz_image_file.hpp).
#include "fuzz_image_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::read_image_file(data, size, ".png");
  return 0;
}
