#include "sira/stack.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "sira/error.hpp"

namespace sira {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::u8: return "uint8";
    case DType::u16: return "uint16";
    case DType::f32: return "float32";
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  if (name == "uint8" || name == "u8") return DType::u8;
  if (name == "uint16" || name == "u16") return DType::u16;
  if (name == "float32" || name == "f32" || name == "float") return DType::f32;
  fail("unknown sample type '", name, "' (expected uint8, uint16 or float32)");
}

void check_dims(std::size_t d, std::size_t h, std::size_t w, const std::string& what) {
  if (d == 0 || h == 0 || w == 0)
    fail(what, ": empty image (", d, "x", h, "x", w, ")");
  if (d > kMaxDim || h > kMaxDim || w > kMaxDim)
    fail(what, ": dimensions ", d, "x", h, "x", w, " exceed the limit of ", kMaxDim, " per axis");
  if (d * h > kMaxSamples / w)
    fail(what, ": ", d, "x", h, "x", w, " samples exceed the limit of ", kMaxSamples);
}

std::size_t sample_budget() {
  if (const char* text = std::getenv("SIRA_MAX_SAMPLES"); text && *text) {
    const std::string s(text);
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    unsigned shift = 0;
    if (used + 1 == s.size()) {
      const char unit = s.back();
      shift = unit == 'k' || unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 64;
      if (shift < 64) ++used;
    }
    if (used == 0 || used != s.size() || s[0] == '-' || v == 0 || (shift && v > (kMaxSamples >> shift)))
      fail("SIRA_MAX_SAMPLES='", s, "': expected a whole number of samples from 1 to ", kMaxSamples,
           " (suffix k, M or G allowed)");
    return std::min<std::size_t>(kMaxSamples, std::size_t(std::min<unsigned long long>(v, kMaxSamples)) << shift);
  }
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return kMaxSamples;
  const std::size_t bytes = std::size_t(pages) * std::size_t(page);
  return std::min(kMaxSamples, bytes / sizeof(float));
}

void check_sample_budget(std::size_t samples, const std::string& what) {
  const std::size_t budget = sample_budget();
  if (samples > budget)
    fail(what, ": reading ", samples, " samples (", samples * sizeof(float) / (1u << 20),
         " MiB as float32) exceeds the sample budget of ", budget,
         " (physical memory by default); set SIRA_MAX_SAMPLES to raise it");
}

Stack::Stack(std::size_t d, std::size_t h, std::size_t w, DType t)
    : depth(d), height(h), width(w), dtype(t), is_2d(d == 1) {
  check_dims(d, h, w, "stack");
  data.assign(d * h * w, 0.0f);
}

void check_finite(const float* data, std::size_t depth, std::size_t height, std::size_t width,
                  const std::string& what) {
  const std::size_t plane = height * width;
  for (std::size_t i = 0; i < depth * plane; ++i) {
    if (!std::isfinite(data[i]))
      fail(what, ": non-finite value (", data[i], ") at slice ", i / plane, ", row ", (i % plane) / width,
           ", column ", i % width);
  }
}

void check_finite(const Stack& s, const std::string& what) {
  check_finite(s.data.data(), s.depth, s.height, s.width, what);
}

}  // namespace sira
