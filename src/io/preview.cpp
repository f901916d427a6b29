// write_preview_png: one slice contrast-stretched to 8 bits for viewing.
#include <algorithm>
#include <cmath>
#include <vector>

#include "io/formats.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"

namespace sira {

namespace {

// Percentile with linear interpolation between order statistics (NumPy's
// default), of sorted values.
double percentile(const std::vector<float>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const std::size_t below = static_cast<std::size_t>(std::floor(rank));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double t = rank - static_cast<double>(below);
  return sorted[below] + t * (static_cast<double>(sorted[above]) - sorted[below]);
}

}  // namespace

void write_preview_png(const std::string& file, const Stack& s, std::size_t slice,
                       double low_percentile, double high_percentile) {
  if (slice >= s.depth) fail(file, ": preview of slice ", slice, " but the stack has ", s.depth);
  if (!(low_percentile >= 0 && low_percentile < high_percentile && high_percentile <= 100))
    fail(file, ": preview percentiles must satisfy 0 <= low < high <= 100 (got ", low_percentile,
         ", ", high_percentile, ")");
  const float* values = s.slice(slice);
  std::vector<float> sorted;
  sorted.reserve(s.slice_size());
  for (std::size_t i = 0; i < s.slice_size(); ++i)
    if (std::isfinite(values[i])) sorted.push_back(values[i]);

  Stack preview(1, s.height, s.width, DType::u8);
  if (!sorted.empty()) {
    std::sort(sorted.begin(), sorted.end());
    const double lo = percentile(sorted, low_percentile);
    const double hi = percentile(sorted, high_percentile);
    const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;  // a flat slice previews black
    for (std::size_t i = 0; i < s.slice_size(); ++i) {
      const double v = std::isfinite(values[i]) ? (values[i] - lo) * scale : 0.0;
      preview.data[i] = static_cast<float>(std::round(std::clamp(v, 0.0, 255.0)));
    }
  }
  io::write_png(file, preview, DType::u8);
}

}  // namespace sira
