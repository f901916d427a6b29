// SSIM with scikit-image's Gaussian-window definition (docs/metrics.md).
// The five local moments (means, second moments, cross moment) are filtered
// row by row: a vertical 11-tap pass into one padded row per moment, a
// reflect-padding of that row, then the horizontal pass, so memory stays
// O(width) per thread and the work is split over output rows.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include "metrics/data_range.hpp"
#include "sira/error.hpp"
#include "sira/metrics.hpp"

namespace sira {
namespace {

constexpr std::size_t R = kSsimRadius;
constexpr double kK1 = 0.01, kK2 = 0.03;

using Kernel = std::array<double, kSsimWindow>;

// scipy.ndimage's Gaussian kernel: exp(-x^2 / (2 sigma^2)) at x = -R..R, normalised to sum 1.
Kernel gaussian_kernel() {
  Kernel w{};
  double sum = 0.0;
  for (std::size_t k = 0; k < kSsimWindow; ++k) {
    const double x = double(k) - double(R);
    w[k] = std::exp(-0.5 / (kSsimSigma * kSsimSigma) * x * x);
    sum += w[k];
  }
  for (double& v : w) v /= sum;
  return w;
}

// scipy.ndimage mode 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a).
// One reflection suffices because every side is at least the window (n > R).
std::size_t reflect(std::ptrdiff_t i, std::size_t n) {
  if (i < 0) return std::size_t(-i - 1);
  if (std::size_t(i) >= n) return 2 * n - std::size_t(i) - 1;
  return std::size_t(i);
}

void check_shape(std::size_t height, std::size_t width) {
  if (height < kSsimWindow || width < kSsimWindow)
    fail("ssim: image of ", height, "x", width, " is smaller than the ", kSsimWindow, "x",
         kSsimWindow, " Gaussian window (sigma ", kSsimSigma,
         "); SSIM needs at least that many rows and columns");
}

// Calls row_done(y, S) for each output row y in [y_begin, y_end), where S
// holds the SSIM of the `width` pixels of that row. Rows run in parallel, so
// row_done must only write state that belongs to row y.
template <typename RowDone>
void ssim_rows(const float* image, const float* reference, std::size_t height, std::size_t width,
               double data_range, std::size_t y_begin, std::size_t y_end, RowDone row_done) {
  const Kernel w = gaussian_kernel();
  const double c1 = (kK1 * data_range) * (kK1 * data_range);
  const double c2 = (kK2 * data_range) * (kK2 * data_range);
  const std::size_t padded = width + 2 * R;
  const std::ptrdiff_t rows = std::ptrdiff_t(y_end - y_begin);

#pragma omp parallel
  {
    // Vertically filtered moments of one row, with R reflected samples each side.
    std::vector<double> mx(padded), my(padded), mxx(padded), myy(padded), mxy(padded);
    std::vector<double> s(width);
    std::array<double*, 5> moments{mx.data(), my.data(), mxx.data(), myy.data(), mxy.data()};

#pragma omp for schedule(static)
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
      const std::size_t y = y_begin + std::size_t(r);
      for (double* m : moments) std::fill(m + R, m + R + width, 0.0);
      for (std::size_t k = 0; k < kSsimWindow; ++k) {
        const std::size_t src = reflect(std::ptrdiff_t(y + k) - std::ptrdiff_t(R), height);
        const float* a = image + src * width;
        const float* b = reference + src * width;
        const double wk = w[k];
        double* ox = mx.data() + R;
        double* oy = my.data() + R;
        double* oxx = mxx.data() + R;
        double* oyy = myy.data() + R;
        double* oxy = mxy.data() + R;
#pragma omp simd
        for (std::size_t x = 0; x < width; ++x) {
          const double ax = a[x], by = b[x];
          ox[x] += wk * ax;
          oy[x] += wk * by;
          oxx[x] += wk * (ax * ax);
          oyy[x] += wk * (by * by);
          oxy[x] += wk * (ax * by);
        }
      }
      for (double* m : moments) {
        for (std::size_t j = 0; j < R; ++j) {
          m[R - 1 - j] = m[R + j];                  // column -1-j mirrors column j
          m[R + width + j] = m[R + width - 1 - j];  // column width+j mirrors width-1-j
        }
      }
#pragma omp simd
      for (std::size_t x = 0; x < width; ++x) {
        double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
        for (std::size_t k = 0; k < kSsimWindow; ++k) {
          ux += w[k] * mx[x + k];
          uy += w[k] * my[x + k];
          uxx += w[k] * mxx[x + k];
          uyy += w[k] * myy[x + k];
          uxy += w[k] * mxy[x + k];
        }
        const double vx = uxx - ux * ux;
        const double vy = uyy - uy * uy;
        const double vxy = uxy - ux * uy;
        const double a1 = 2 * ux * uy + c1, a2 = 2 * vxy + c2;
        const double b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
        s[x] = (a1 * a2) / (b1 * b2);
      }
      row_done(y, s.data());
    }
  }
}

}  // namespace

double ssim(const float* image, const float* reference, std::size_t height, std::size_t width,
            double data_range) {
  metrics_detail::check_data_range(data_range);
  check_shape(height, width);
  // Like skimage: the mean over the interior that excludes R pixels at each
  // border, where the window reaches into reflected samples.
  const std::size_t y0 = R, y1 = height - R, x0 = R, x1 = width - R;
  std::vector<double> row_sums(height, 0.0);
  ssim_rows(image, reference, height, width, data_range, y0, y1, [&](std::size_t y, const double* s) {
    double sum = 0.0;
    for (std::size_t x = x0; x < x1; ++x) sum += s[x];
    row_sums[y] = sum;
  });
  double total = 0.0;  // summed in row order: the result does not depend on the thread count
  for (std::size_t y = y0; y < y1; ++y) total += row_sums[y];
  return total / (double(y1 - y0) * double(x1 - x0));
}

std::vector<double> ssim_map(const float* image, const float* reference, std::size_t height,
                             std::size_t width, double data_range) {
  metrics_detail::check_data_range(data_range);
  check_shape(height, width);
  std::vector<double> map(height * width);
  ssim_rows(image, reference, height, width, data_range, 0, height, [&](std::size_t y, const double* s) {
    std::copy(s, s + width, map.begin() + std::ptrdiff_t(y * width));
  });
  return map;
}

}  // namespace sira
