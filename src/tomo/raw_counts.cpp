#include "sira/tomo/raw_counts.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sira/error.hpp"

namespace sira::tomo {

RawCountsCheck check_raw_counts(const float* data, std::size_t n, double min_median) {
  RawCountsCheck c;
  if (n == 0) return c;
  c.min = c.max = data[0];
  c.integers = true;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = data[i];
    c.min = std::min<double>(c.min, v);
    c.max = std::max<double>(c.max, v);
    c.integers = c.integers && std::isfinite(v) && v == std::nearbyint(v);
  }
  const std::size_t step = std::max<std::size_t>(1, n / 1000000);
  std::vector<float> sample;
  sample.reserve(n / step + 1);
  for (std::size_t i = 0; i < n; i += step) sample.push_back(data[i]);
  std::nth_element(sample.begin(), sample.begin() + sample.size() / 2, sample.end());
  c.median = sample[sample.size() / 2];
  c.looks_raw = c.min >= 0 && c.integers && c.median >= min_median;
  return c;
}

std::string raw_counts_warning(const RawCountsCheck& c, const std::string& source) {
  if (!c.looks_raw) return {};
  return cat(source, ": the values look like raw detector counts, not line integrals (all whole numbers >= 0, "
             "median ", c.median, ", max ", c.max, "; a line integral of ", c.median, " means a transmission of exp(-",
             c.median, ")). Reconstructing them as they are gives a meaningless image: pass --raw-counts (each "
             "projection normalised by its open-beam estimate, then -log), or give a Data Exchange file with flat "
             "and dark fields; if they are line integrals in scaled units, pass --scale (e.g. 0.001)");
}

}  // namespace sira::tomo
