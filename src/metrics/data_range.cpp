#include "metrics/data_range.hpp"

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"
#include "sira/metrics.hpp"

namespace sira {

namespace metrics_detail {

void check_data_range(double data_range) {
  if (!std::isfinite(data_range) || data_range <= 0.0)
    fail("metrics: data range must be a finite value > 0, got ", data_range);
}

}  // namespace metrics_detail

double value_range(const Stack& s) {
  if (s.data.empty()) fail("metrics: cannot take the value range of an empty stack");
  const auto [lo, hi] = std::minmax_element(s.data.begin(), s.data.end());
  return double(*hi) - double(*lo);
}

}  // namespace sira
