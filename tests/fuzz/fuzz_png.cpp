// png images: probe, then read every slice, as `sira convert` does.
#include "fuzz_input_file.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::InputFile file(data, size, ".png");
  try {
    (void)sira::probe_stack(file.path());
    (void)sira::read_stack(file.path());
  } catch (const sira::Error&) {
  }
  return 0;
}
