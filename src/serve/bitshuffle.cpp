// The transpose in two steps: gather byte b of 8 consecutive elements into one
// 64-bit word (byte j = element j), transpose that 8 x 8 bit matrix (Hacker's
// Delight 7-3; the transpose is its own inverse), and scatter its 8 bytes to
// the 8 bit rows of byte b. Unshuffling walks the same indices the other way.
#include "serve/bitshuffle.hpp"

#include <cstring>

namespace sira::serve {
namespace {

inline std::uint64_t transpose8x8(std::uint64_t x) {
  std::uint64_t t;
  t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x = x ^ t ^ (t << 28);
  return x;
}

}  // namespace

void bitshuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::size_t elem_size) {
  const std::size_t row = n / 8;  // bytes per bit row
  for (std::size_t b = 0; b < elem_size; ++b)
    for (std::size_t i = 0; i < row; ++i) {
      std::uint64_t x = 0;
      for (std::size_t j = 0; j < 8; ++j)
        x |= std::uint64_t(in[(8 * i + j) * elem_size + b]) << (8 * j);
      x = transpose8x8(x);
      for (std::size_t k = 0; k < 8; ++k) out[(b * 8 + k) * row + i] = std::uint8_t(x >> (8 * k));
    }
}

void bitunshuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::size_t elem_size) {
  const std::size_t row = n / 8;
  for (std::size_t b = 0; b < elem_size; ++b)
    for (std::size_t i = 0; i < row; ++i) {
      std::uint64_t x = 0;
      for (std::size_t k = 0; k < 8; ++k) x |= std::uint64_t(in[(b * 8 + k) * row + i]) << (8 * k);
      x = transpose8x8(x);
      for (std::size_t j = 0; j < 8; ++j) out[(8 * i + j) * elem_size + b] = std::uint8_t(x >> (8 * j));
    }
}

}  // namespace sira::serve
