#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "metrics/data_range.hpp"
#include "sira/error.hpp"
#include "sira/metrics.hpp"

namespace sira {

double psnr(const float* image, const float* reference, std::size_t n, double data_range) {
  metrics_detail::check_data_range(data_range);
  if (n == 0) fail("psnr: empty image");
  // Fixed-size blocks summed in order: the result does not depend on the thread count.
  constexpr std::size_t kBlock = 1 << 16;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> block_sums(blocks, 0.0);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (std::ptrdiff_t b = 0; b < std::ptrdiff_t(blocks); ++b) {
    const std::size_t begin = std::size_t(b) * kBlock, end = std::min(n, begin + kBlock);
    double sum = 0.0;
    for (std::size_t i = begin; i < end; ++i) {
      const double d = double(image[i]) - double(reference[i]);
      sum += d * d;
    }
    block_sums[std::size_t(b)] = sum;
  }
  double sum = 0.0;
  for (double s : block_sums) sum += s;
  const double mse = sum / double(n);
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / mse);
}

}  // namespace sira
