#include "sira/tomo/zingers.hpp"

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"
#include "tomo/reflect.hpp"

namespace sira::tomo {

void check_zinger_options(const ZingerOptions& o) {
  if (!(o.threshold > 0) || !std::isfinite(o.threshold))
    fail("zinger removal: the threshold must be a positive number (got ", o.threshold, ")");
  if (o.size != 3 && o.size != 5) fail("zinger removal: the neighbourhood must be 3 (3x3) or 5 (5x5), got ", o.size);
}

std::size_t remove_zingers(float* image, std::size_t height, std::size_t width, const ZingerOptions& o,
                           SampleDomain domain, const std::vector<std::size_t>* rows) {
  check_zinger_options(o);
  if (height == 0 || width == 0) return 0;
  std::vector<std::size_t> all;
  if (!rows) {
    all.resize(height);
    for (std::size_t r = 0; r < height; ++r) all[r] = r;
    rows = &all;
  }
  const std::ptrdiff_t h = o.size / 2, H = std::ptrdiff_t(height), W = std::ptrdiff_t(width);
  const double log_step = std::log1p(o.threshold);
  // Results per filtered row first, written back after every median is taken.
  std::vector<float> result(rows->size() * width);
  std::size_t replaced = 0;
#pragma omp parallel for reduction(+ : replaced) schedule(static)
  for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(rows->size()); ++k) {
    float window[25];
    const std::ptrdiff_t y = std::ptrdiff_t((*rows)[k]);
    const float* line[5];
    for (std::ptrdiff_t dy = -h; dy <= h; ++dy) line[dy + h] = image + reflect_index(y + dy, H) * W;
    float* out = result.data() + k * width;
    for (std::ptrdiff_t x = 0; x < W; ++x) {
      std::size_t n = 0;
      for (std::ptrdiff_t dy = 0; dy <= 2 * h; ++dy)
        for (std::ptrdiff_t dx = -h; dx <= h; ++dx) window[n++] = line[dy][reflect_index(x + dx, W)];
      std::nth_element(window, window + n / 2, window + n);
      const float m = window[n / 2], v = line[h][x];
      const bool zinger = domain == SampleDomain::intensity ? double(v) - m > o.threshold * std::abs(double(m))
                                                            : double(v) < double(m) - log_step;
      out[x] = zinger ? m : v;
      replaced += zinger;
    }
  }
  for (std::size_t k = 0; k < rows->size(); ++k)
    std::copy_n(result.data() + k * width, width, image + (*rows)[k] * width);
  return replaced;
}

std::size_t remove_zingers(Stack& frames, const ZingerOptions& o, SampleDomain domain) {
  std::size_t replaced = 0;
  for (std::size_t d = 0; d < frames.depth; ++d)
    replaced += remove_zingers(frames.slice(d), frames.height, frames.width, o, domain);
  return replaced;
}

}  // namespace sira::tomo
