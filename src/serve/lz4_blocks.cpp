// HDF5-framed LZ4 and bitshuffle-LZ4 (lz4_blocks.hpp) on liblz4's block API.
#include "serve/lz4_blocks.hpp"

#include <lz4.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "serve/bitshuffle.hpp"
#include "serve/rejection.hpp"

namespace sira::serve {
namespace {

std::uint64_t read_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}
void put_be64(std::vector<std::uint8_t>& v, std::uint64_t x) {
  for (int i = 7; i >= 0; --i) v.push_back(std::uint8_t(x >> (8 * i)));
}
void put_be32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int i = 3; i >= 0; --i) v.push_back(std::uint8_t(x >> (8 * i)));
}
void set_be32(std::uint8_t* p, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(x >> (8 * (3 - i)));
}

// Reads the 12-byte header; checks the total against `expected`.
std::size_t read_header(const char* what, const std::uint8_t* data, std::size_t size, std::size_t expected) {
  if (size < 12) reject(kBadCompression, what, ": ", size, " bytes, shorter than the 12-byte header");
  const std::uint64_t total = read_be64(data);
  if (total != expected)
    reject(kBadCompression, what, ": header says ", total, " uncompressed bytes, the image needs ", expected);
  const std::uint32_t block = read_be32(data + 8);
  if (block == 0) reject(kBadCompression, what, ": block size 0 in the header");
  return block;
}

// Decompresses one LZ4 block of exactly `want` bytes from data[*pos..] to out.
void lz4_block(const char* what, const std::uint8_t* data, std::size_t size, std::size_t* pos,
               std::uint8_t* out, std::size_t want, bool raw_if_equal) {
  if (size - *pos < 4) reject(kBadCompression, what, ": truncated at byte ", *pos, " (block size expected)");
  const std::uint32_t n = read_be32(data + *pos);
  *pos += 4;
  if (n > size - *pos)
    reject(kBadCompression, what, ": block of ", n, " bytes at byte ", *pos, " runs past the end (", size, ")");
  if (raw_if_equal && n == want) {
    std::memcpy(out, data + *pos, want);
  } else {
    if (n > std::size_t(std::numeric_limits<int>::max()) || want > std::size_t(std::numeric_limits<int>::max()))
      reject(kBadCompression, what, ": block too large");
    const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(data + *pos), reinterpret_cast<char*>(out),
                                        int(n), int(want));
    if (got < 0 || std::size_t(got) != want)
      reject(kBadCompression, what, ": corrupt LZ4 block at byte ", *pos, " (", got < 0 ? "undecodable" : "short", ")");
  }
  *pos += n;
}

// Appends an LZ4-compressed block with its big-endian size.
void lz4_append(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t n, bool raw_if_larger) {
  const std::size_t at = out.size();
  const int bound = LZ4_compressBound(int(n));
  out.resize(at + 4 + std::size_t(bound));
  int c = LZ4_compress_default(reinterpret_cast<const char*>(data), reinterpret_cast<char*>(out.data() + at + 4),
                               int(n), bound);
  if (c <= 0) fail("LZ4 compression failed");
  if (raw_if_larger && std::size_t(c) >= n) {  // the LZ4 filter stores such a block raw
    std::memcpy(out.data() + at + 4, data, n);
    c = int(n);
  }
  set_be32(out.data() + at, std::uint32_t(c));
  out.resize(at + 4 + std::size_t(c));
}

}  // namespace

std::vector<std::uint8_t> lz4_decode(const std::uint8_t* data, std::size_t size, std::size_t expected) {
  const std::size_t block = read_header("lz4", data, size, expected);
  std::vector<std::uint8_t> out(expected);
  std::size_t pos = 12;
  for (std::size_t done = 0; done < expected;) {
    const std::size_t n = std::min<std::size_t>(block, expected - done);
    lz4_block("lz4", data, size, &pos, out.data() + done, n, true);
    done += n;
  }
  if (pos != size) reject(kBadCompression, "lz4: ", size - pos, " bytes after the last block");
  return out;
}

std::vector<std::uint8_t> bslz4_decode(const std::uint8_t* data, std::size_t size, std::size_t elem_size,
                                       std::size_t expected) {
  if (elem_size == 0 || elem_size > 8) reject(kBadCompression, "bslz4: element size ", elem_size, " (1..8 expected)");
  if (expected % elem_size)
    reject(kBadCompression, "bslz4: ", expected, " bytes are not whole elements of ", elem_size);
  const std::size_t block_bytes = read_header("bslz4", data, size, expected);
  if (block_bytes % (8 * elem_size))
    reject(kBadCompression, "bslz4: block of ", block_bytes, " bytes is not a multiple of 8 elements of ", elem_size);
  const std::size_t block = block_bytes / elem_size;  // elements
  const std::size_t n = expected / elem_size;
  std::vector<std::uint8_t> out(expected), shuffled(std::min(block, n) * elem_size);
  std::size_t pos = 12, done = 0;
  while (done < n) {
    std::size_t count = std::min(block, n - done);
    count -= count % 8;  // the last (n % 8) elements follow raw
    if (count == 0) break;
    lz4_block("bslz4", data, size, &pos, shuffled.data(), count * elem_size, false);
    bitunshuffle(shuffled.data(), out.data() + done * elem_size, count, elem_size);
    done += count;
  }
  const std::size_t tail = (n - done) * elem_size;
  if (size - pos != tail)
    reject(kBadCompression, "bslz4: ", size - pos, " bytes after the blocks, ", tail, " raw tail bytes expected");
  std::memcpy(out.data() + done * elem_size, data + pos, tail);
  return out;
}

std::vector<std::uint8_t> lz4_encode(const std::uint8_t* data, std::size_t size, std::size_t block_bytes) {
  if (block_bytes == 0) block_bytes = std::size_t(1) << 30;
  std::vector<std::uint8_t> out;
  put_be64(out, size);
  put_be32(out, std::uint32_t(block_bytes));
  for (std::size_t done = 0; done < size; done += block_bytes)
    lz4_append(out, data + done, std::min(block_bytes, size - done), true);
  return out;
}

std::vector<std::uint8_t> bslz4_encode(const std::uint8_t* data, std::size_t size, std::size_t elem_size,
                                       std::size_t block_elems) {
  if (block_elems == 0) block_elems = std::max<std::size_t>(128, (8192 / elem_size) / 8 * 8);
  const std::size_t n = size / elem_size;
  std::vector<std::uint8_t> out, shuffled(std::min(block_elems, n) * elem_size);
  put_be64(out, size);
  put_be32(out, std::uint32_t(block_elems * elem_size));
  std::size_t done = 0;
  while (done < n) {
    std::size_t count = std::min(block_elems, n - done);
    count -= count % 8;
    if (count == 0) break;
    bitshuffle(data + done * elem_size, shuffled.data(), count, elem_size);
    lz4_append(out, shuffled.data(), count * elem_size, false);
    done += count;
  }
  out.insert(out.end(), data + done * elem_size, data + size);
  return out;
}

}  // namespace sira::serve
