#include "sira/tomo/stripes.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sira/error.hpp"
#include "tomo/reflect.hpp"

namespace sira::tomo {

void check_stripe_options(const StripeOptions& o, std::size_t width) {
  if (o.size < 3 || o.size % 2 == 0)
    fail("stripe removal: the window must be odd and at least 3 (got ", o.size, ")");
  if (std::size_t(o.size) > width)
    fail("stripe removal: the window (", o.size, ") is wider than the detector (", width, " columns)");
}

void remove_stripes_sorting(float* sino, std::size_t angles, std::size_t width, const StripeOptions& o) {
  check_stripe_options(o, width);
  if (angles == 0) return;
  // Column c sorted along the angles: sorted[a * width + c] is its a-th smallest value,
  // which came from angle order[a * width + c].
  std::vector<float> sorted(angles * width), filtered(angles * width);
  std::vector<std::uint32_t> order(angles * width);
  {
    std::vector<std::uint32_t> idx(angles);
    for (std::size_t c = 0; c < width; ++c) {
      std::iota(idx.begin(), idx.end(), 0u);
      std::stable_sort(idx.begin(), idx.end(),
                       [&](std::uint32_t a, std::uint32_t b) { return sino[a * width + c] < sino[b * width + c]; });
      for (std::size_t a = 0; a < angles; ++a) {
        order[a * width + c] = idx[a];
        sorted[a * width + c] = sino[idx[a] * width + c];
      }
    }
  }
  const std::ptrdiff_t h = o.size / 2, W = std::ptrdiff_t(width);
  std::vector<float> window(o.size);
  for (std::size_t a = 0; a < angles; ++a) {
    const float* in = sorted.data() + a * width;
    float* out = filtered.data() + a * width;
    for (std::ptrdiff_t c = 0; c < W; ++c) {
      for (std::ptrdiff_t d = -h; d <= h; ++d) window[d + h] = in[reflect_index(c + d, W)];
      std::nth_element(window.begin(), window.begin() + h, window.end());
      out[c] = window[h];
    }
  }
  for (std::size_t a = 0; a < angles; ++a)
    for (std::size_t c = 0; c < width; ++c) sino[order[a * width + c] * width + c] = filtered[a * width + c];
}

void remove_stripes_sorting(Sinograms& s, const StripeOptions& o) {
  check_stripe_options(o, s.data.width);
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t z = 0; z < std::ptrdiff_t(s.data.depth); ++z)
    remove_stripes_sorting(s.data.slice(std::size_t(z)), s.data.height, s.data.width, o);
}

}  // namespace sira::tomo
