#include "serve/recon_job.hpp"

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"

namespace sira::serve {

namespace {
constexpr double kMinTransmission = 1e-6;  // sira recon's default clip before -log

// One detector row of raw counts -> line integrals.
void row_line_integrals(const float* src, const double* dark, const double* denom, std::size_t cols, float* dst) {
  for (std::size_t c = 0; c < cols; ++c) {
    const float t = float((double(src[c]) - dark[c]) / denom[c]);
    dst[c] = float(-std::log(std::max(double(t), kMinTransmission)));
  }
}
}  // namespace

std::vector<double> flat_denominators(const std::vector<double>& flat, const std::vector<double>& dark,
                                      const std::vector<std::size_t>& rows, std::size_t cols, std::size_t* repaired) {
  const std::size_t nrows = rows.size();
  std::vector<double> denom(nrows * cols);
  for (std::size_t r = 0; r < nrows; ++r) {
    double* d = denom.data() + r * cols;
    double good_sum = 0;
    std::size_t good = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      d[c] = flat[r * cols + c] - dark[r * cols + c];
      if (d[c] > 0) good_sum += d[c], ++good;
    }
    if (good == 0) fail("detector row ", rows[r], ": no flat pixel is brighter than the dark field");
    for (std::size_t c = 0; c < cols; ++c)
      if (!(d[c] > 0)) d[c] = good_sum / double(good), ++*repaired;
  }
  return denom;
}

tomo::Sinograms line_integrals(const ReconJob& job, std::string* note) {
  const std::size_t nrows = job.rows.size(), cols = job.cols, n = job.projections;
  std::size_t repaired = 0;
  const std::vector<double> denom = flat_denominators(job.flat, job.dark, job.rows, cols, &repaired);
  if (note && repaired) *note = cat(repaired, " flat pixels with flat <= dark replaced by their row's mean");
  tomo::Sinograms out{Stack(nrows, n, cols), job.theta, job.center};
  out.data.is_2d = nrows == 1;
  for (std::size_t r = 0; r < nrows; ++r)
    for (std::size_t a = 0; a < n; ++a)
      row_line_integrals(job.counts.data() + (r * n + a) * cols, job.dark.data() + r * cols,
                         denom.data() + r * cols, cols, out.data.slice(r) + a * cols);
  return out;
}

void accumulate(const std::vector<const ReconJob*>& steps) {
  if (steps.empty()) return;
  IncrementalRecon& s = *steps.front()->incremental;
  if (!s.error.empty()) return;
  try {
    const std::size_t nrows = s.rows.size(), cols = s.cols, k = steps.size();
    if (!s.sums) s.sums = std::make_unique<tomo::BackprojectionAccumulator>(nrows, cols, cols, s.center);
    std::vector<float> p(nrows * k * cols);  // (row * k + step) * cols
    std::vector<double> theta(k);
    for (std::size_t a = 0; a < k; ++a) {
      const ReconJob& job = *steps[a];
      if (job.incremental.get() != &s) fail("incremental reconstruction: steps of two reconstructions mixed");
      theta[a] = job.theta.back();
      for (std::size_t r = 0; r < nrows; ++r)
        row_line_integrals(job.counts.data() + r * cols, s.dark.data() + r * cols, s.denom.data() + r * cols, cols,
                           p.data() + (r * k + a) * cols);
    }
    s.sums->add(p.data(), theta, s.filter);
  } catch (const Error& e) {
    s.error = e.what();
    s.sums.reset();
  }
}

void accumulate(const ReconJob& job) { accumulate(std::vector<const ReconJob*>{&job}); }

const tomo::BackprojectionAccumulator& incremental_sums(const ReconJob& job) {
  accumulate(job);
  const IncrementalRecon& s = *job.incremental;
  if (!s.error.empty()) fail(s.error);
  if (s.sums->angles() != job.theta.size())
    fail("incremental reconstruction: ", s.sums->angles(), " projections added for a window of ", job.theta.size());
  return *s.sums;
}

Stack reconstruct(const ReconJob& job) {
  tomo::FbpOptions fo;
  fo.filter = job.filter;
  fo.circle_mask = job.circle_mask;
  return tomo::fbp(line_integrals(job), fo);
}

}  // namespace sira::serve
