// What the tiff, png and npy targets do: the input as an image file of that
// extension, probed then read whole, as `sira convert` does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input_file.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"

namespace sira::fuzz {

inline void read_image_file(const std::uint8_t* data, std::size_t size, const std::string& extension) {
  InputFile file(data, size, extension);
  try {
    (void)probe_stack(file.path());
    (void)read_stack(file.path());
  } catch (const Error&) {  // a clear refusal is the expected outcome
  }
}

}  // namespace sira::fuzz
