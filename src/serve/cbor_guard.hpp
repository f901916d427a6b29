// A first pass over untrusted CBOR before libcbor builds its tree: exactly one
// well-formed item, definite lengths only (Stream V2 sends no other), nesting no
// deeper than `max_depth` (libcbor frees trees recursively), and no container
// declaring more entries than bytes remain (libcbor preallocates them). Throws
// Rejection(kBadEncoding) naming the byte where it stopped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sira::serve {

void check_cbor(const std::uint8_t* data, std::size_t size, std::size_t max_depth = 16);

}  // namespace sira::serve
