#include "serve/message.hpp"

#include <cstring>

namespace sira::serve {

const char* sample_type_name(SampleType t) {
  switch (t) {
    case SampleType::u8: return "uint8";
    case SampleType::u16: return "uint16";
    case SampleType::u32: return "uint32";
    case SampleType::f32: return "float32";
  }
  return "?";
}

std::size_t sample_size(SampleType t) {
  switch (t) {
    case SampleType::u8: return 1;
    case SampleType::u16: return 2;
    case SampleType::u32: return 4;
    case SampleType::f32: return 4;
  }
  return 1;
}

bool parse_sample_type(const std::string& name, SampleType* t) {
  for (SampleType c : {SampleType::u8, SampleType::u16, SampleType::u32, SampleType::f32})
    if (name == sample_type_name(c)) {
      *t = c;
      return true;
    }
  return false;
}

void samples_to_float(const Message& m, float* out) {
  const std::uint8_t* p = m.samples.data();
  const std::size_t n = m.width * m.height;
  switch (m.type) {
    case SampleType::u8:
      for (std::size_t i = 0; i < n; ++i) out[i] = float(p[i]);
      break;
    case SampleType::u16:
      for (std::size_t i = 0; i < n; ++i) out[i] = float(std::uint16_t(p[2 * i] | (p[2 * i + 1] << 8)));
      break;
    case SampleType::u32:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t v = std::uint32_t(p[4 * i]) | (std::uint32_t(p[4 * i + 1]) << 8) |
                                (std::uint32_t(p[4 * i + 2]) << 16) | (std::uint32_t(p[4 * i + 3]) << 24);
        out[i] = float(v);
      }
      break;
    case SampleType::f32:
      std::memcpy(out, p, n * 4);  // x86 and ARM Linux are little-endian
      break;
  }
}

}  // namespace sira::serve
