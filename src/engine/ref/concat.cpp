// Channel concatenation: planar layout makes it two block copies.
#include <algorithm>

#include "engine/ref/kernels.hpp"

namespace sira::ref {

void concat_channels(const float* a, std::size_t a_channels, const float* b,
                     std::size_t b_channels, std::size_t plane, float* out) {
  std::copy(a, a + a_channels * plane, out);
  std::copy(b, b + b_channels * plane, out + a_channels * plane);
}

}  // namespace sira::ref
