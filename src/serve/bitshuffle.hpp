// Bitshuffle's bit transpose (K. Masui et al., the "bitshuffle" filter): a
// block of n elements of elem_size bytes (n a multiple of 8) becomes
// elem_size * 8 rows of n / 8 bytes, row (b * 8 + k) holding bit k of byte b
// of every element, element 8 * i + j in bit j of the row's byte i. Written
// here from that definition (portable C++); tested against the bitshuffle
// HDF5 filter through h5py (tests/cli/test_serve_codecs.py).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sira::serve {

void bitshuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::size_t elem_size);
void bitunshuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::size_t elem_size);

}  // namespace sira::serve
