// Conversions between the float32 samples of a Stack and the bytes of a file.
// Writing integers rounds to nearest and refuses NaN and out-of-range values,
// so a float result is never silently wrapped or clipped.
#pragma once

#include <cstddef>
#include <string>

#include "sira/stack.hpp"

namespace sira::io {

std::size_t dtype_size(DType t);

// Encodes samples [first, first + n) of `s` as `as` (native byte order) into
// `out`, which holds n * dtype_size(as) bytes. `what` names the output in errors;
// `slice_offset` is added to the slice number they give (s is a block of a larger stack).
void encode_samples(const Stack& s, std::size_t first, std::size_t n, DType as,
                    const std::string& what, unsigned char* out, std::size_t slice_offset = 0,
                    std::size_t row_offset = 0);

// Numeric sample types found in files (beyond the three sira keeps).
enum class SampleKind { unsigned_int, signed_int, ieee_float };

struct SampleType {
  SampleKind kind = SampleKind::ieee_float;
  std::size_t size = 4;  // bytes
  bool big_endian = false;
};

// Decodes n samples of type `t` from `in` into float32 (exact for 8/16-bit
// integers, rounded to nearest float for wider types).
void decode_samples(const unsigned char* in, std::size_t n, SampleType t, float* out);

// The dtype tag sira gives data of type `t` (uint8/uint16/float32 keep theirs,
// anything else is read as float32).
DType dtype_tag(SampleType t);

}  // namespace sira::io
