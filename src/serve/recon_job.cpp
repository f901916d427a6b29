#include "serve/recon_job.hpp"

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"

namespace sira::serve {

namespace {
constexpr double kMinTransmission = 1e-6;  // sira recon's default clip before -log
}

tomo::Sinograms line_integrals(const ReconJob& job, std::string* note) {
  const std::size_t nrows = job.rows.size(), cols = job.cols, n = job.projections;
  std::vector<double> denom(nrows * cols);
  std::size_t repaired = 0;
  for (std::size_t r = 0; r < nrows; ++r) {
    double* d = denom.data() + r * cols;
    double good_sum = 0;
    std::size_t good = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      d[c] = job.flat[r * cols + c] - job.dark[r * cols + c];
      if (d[c] > 0) good_sum += d[c], ++good;
    }
    if (good == 0) fail("detector row ", job.rows[r], ": no flat pixel is brighter than the dark field");
    for (std::size_t c = 0; c < cols; ++c)
      if (!(d[c] > 0)) d[c] = good_sum / double(good), ++repaired;
  }
  if (note && repaired) *note = cat(repaired, " flat pixels with flat <= dark replaced by their row's mean");
  tomo::Sinograms out{Stack(nrows, n, cols), job.theta, job.center};
  out.data.is_2d = nrows == 1;
  for (std::size_t r = 0; r < nrows; ++r)
    for (std::size_t a = 0; a < n; ++a) {
      const float* src = job.counts.data() + (r * n + a) * cols;
      float* dst = out.data.slice(r) + a * cols;
      for (std::size_t c = 0; c < cols; ++c) {
        const float t = float((double(src[c]) - job.dark[r * cols + c]) / denom[r * cols + c]);
        dst[c] = float(-std::log(std::max(double(t), kMinTransmission)));
      }
    }
  return out;
}

Stack reconstruct(const ReconJob& job) {
  tomo::FbpOptions fo;
  fo.filter = job.filter;
  fo.circle_mask = job.circle_mask;
  return tomo::fbp(line_integrals(job), fo);
}

}  // namespace sira::serve
