// The two compressed byte strings of DECTRIS's CBOR tag 56500, both in the HDF5
// filters' framing: a 12-byte header (uncompressed size, uint64 big-endian; block
// size in bytes, uint32 big-endian), then per block a uint32 big-endian
// compressed size and the LZ4 block.
//   "lz4":   the HDF5 LZ4 filter (id 32004): blocks of the raw bytes; a block
//            whose compressed size equals its size is stored uncompressed.
//   "bslz4": the bitshuffle filter (id 32008, LZ4): each block of elements is
//            bit-transposed (bitshuffle.hpp) before LZ4; blocks hold a multiple
//            of 8 elements and the last (size % 8) elements follow raw.
// Decoders check every size against `expected` (the caller's image size) before
// allocating, so a forged header cannot make them allocate or write past it;
// any inconsistency throws Rejection(kBadCompression).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sira::serve {

std::vector<std::uint8_t> lz4_decode(const std::uint8_t* data, std::size_t size, std::size_t expected);
std::vector<std::uint8_t> bslz4_decode(const std::uint8_t* data, std::size_t size, std::size_t elem_size,
                                       std::size_t expected);

// Encoders (sira stream-sim). block_bytes 0 = the filters' defaults (1 GiB for
// lz4, i.e. one block; 8192 bytes' worth of elements for bslz4).
std::vector<std::uint8_t> lz4_encode(const std::uint8_t* data, std::size_t size, std::size_t block_bytes = 0);
std::vector<std::uint8_t> bslz4_encode(const std::uint8_t* data, std::size_t size, std::size_t elem_size,
                                       std::size_t block_elems = 0);

}  // namespace sira::serve
