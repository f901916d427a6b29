#pragma once
// scipy.ndimage mode 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a)
// for any distance outside [0, n): -1 -> 0, -2 -> 1, n -> n - 1. Shared by the
// projection pre-processing filters (zingers, dead pixels, stripes).
#include <cstddef>

namespace sira::tomo {

inline std::ptrdiff_t reflect_index(std::ptrdiff_t i, std::ptrdiff_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i - 1;
    if (i >= n) i = 2 * n - i - 1;
  }
  return i;
}

}  // namespace sira::tomo
