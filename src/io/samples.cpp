#include "io/samples.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "sira/error.hpp"

namespace sira::io {

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8: return 1;
    case DType::u16: return 2;
    case DType::f32: return 4;
  }
  return 4;
}

namespace {

[[noreturn]] void fail_sample(const Stack& s, std::size_t index, float value, DType as,
                              const std::string& what, std::size_t slice_offset,
                              std::size_t row_offset, const char* problem) {
  const std::size_t plane = s.slice_size();
  fail(what, ": value ", value, " at slice ", slice_offset + index / plane, ", row ",
       row_offset + (index % plane) / s.width,
       ", column ", index % s.width, " ", problem, " for ", dtype_name(as),
       " (scale or clip the data, or write float32)");
}

template <typename Int>
void encode_integers(const Stack& s, std::size_t first, std::size_t n, DType as,
                     const std::string& what, std::size_t slice_offset, std::size_t row_offset,
                     unsigned char* out) {
  constexpr double top = static_cast<double>(std::numeric_limits<Int>::max());
  for (std::size_t i = 0; i < n; ++i) {
    const float v = s.data[first + i];
    if (std::isnan(v)) fail_sample(s, first + i, v, as, what, slice_offset, row_offset, "is not a number");
    const double r = std::round(static_cast<double>(v));  // halves away from zero
    if (r < 0.0 || r > top) fail_sample(s, first + i, v, as, what, slice_offset, row_offset, "is out of range");
    const Int x = static_cast<Int>(r);
    std::memcpy(out + i * sizeof(Int), &x, sizeof(Int));
  }
}

template <typename U>
U load_swapped(const unsigned char* p, bool swap) {
  U u;
  std::memcpy(&u, p, sizeof(U));
  if (!swap) return u;
  if constexpr (sizeof(U) == 1) return u;
  else if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(u));
  else if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(u));
  else return static_cast<U>(__builtin_bswap64(u));
}

// Reads type T stored as raw bits U (same size) with optional byte swap.
template <typename T, typename U>
void decode_as(const unsigned char* in, std::size_t n, bool swap, float* out) {
  static_assert(sizeof(T) == sizeof(U));
  for (std::size_t i = 0; i < n; ++i) {
    const U bits = load_swapped<U>(in + i * sizeof(U), swap);
    T value;
    std::memcpy(&value, &bits, sizeof(T));
    out[i] = static_cast<float>(value);
  }
}

}  // namespace

void encode_samples(const Stack& s, std::size_t first, std::size_t n, DType as,
                    const std::string& what, unsigned char* out, std::size_t slice_offset,
                    std::size_t row_offset) {
  if (first + n > s.data.size()) fail(what, ": sample range exceeds the stack");
  switch (as) {
    case DType::u8: encode_integers<std::uint8_t>(s, first, n, as, what, slice_offset, row_offset, out); return;
    case DType::u16: encode_integers<std::uint16_t>(s, first, n, as, what, slice_offset, row_offset, out); return;
    case DType::f32: std::memcpy(out, s.data.data() + first, n * sizeof(float)); return;
  }
}

void decode_samples(const unsigned char* in, std::size_t n, SampleType t, float* out) {
  const bool swap = t.big_endian != (std::endian::native == std::endian::big);
  switch (t.kind) {
    case SampleKind::unsigned_int:
      switch (t.size) {
        case 1: return decode_as<std::uint8_t, std::uint8_t>(in, n, swap, out);
        case 2: return decode_as<std::uint16_t, std::uint16_t>(in, n, swap, out);
        case 4: return decode_as<std::uint32_t, std::uint32_t>(in, n, swap, out);
        case 8: return decode_as<std::uint64_t, std::uint64_t>(in, n, swap, out);
      }
      break;
    case SampleKind::signed_int:
      switch (t.size) {
        case 1: return decode_as<std::int8_t, std::uint8_t>(in, n, swap, out);
        case 2: return decode_as<std::int16_t, std::uint16_t>(in, n, swap, out);
        case 4: return decode_as<std::int32_t, std::uint32_t>(in, n, swap, out);
        case 8: return decode_as<std::int64_t, std::uint64_t>(in, n, swap, out);
      }
      break;
    case SampleKind::ieee_float:
      switch (t.size) {
        case 4: return decode_as<float, std::uint32_t>(in, n, swap, out);
        case 8: return decode_as<double, std::uint64_t>(in, n, swap, out);
      }
      break;
  }
  fail("unsupported sample type of ", t.size, " bytes");
}

DType dtype_tag(SampleType t) {
  if (t.kind == SampleKind::unsigned_int && t.size == 1) return DType::u8;
  if (t.kind == SampleKind::unsigned_int && t.size == 2) return DType::u16;
  return DType::f32;
}

}  // namespace sira::io
