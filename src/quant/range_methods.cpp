// How a calibration method turns an activation histogram into a clip range.
// Candidates are the full range shrunk towards 0 by t = k/256 (both ends, so a
// zero point stays where it is); minmax keeps t = 1.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sira/error.hpp"
#include "sira/quant.hpp"
#include "sira/quantize.hpp"

namespace sira {
namespace {

double total(const std::vector<double>& counts) {
  double n = 0;
  for (double c : counts) n += c;
  return n;
}

double bin_centre(Range r, std::size_t bins, std::size_t i) {
  return r.lo + (double(i) + 0.5) * (r.hi - r.lo) / double(bins);
}

// Value below which `q` (0..1) of the samples lie, linear inside the bin.
double quantile(const std::vector<double>& counts, Range r, double q) {
  const double n = total(counts), want = q * n, width = (r.hi - r.lo) / double(counts.size());
  double seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (seen + counts[i] >= want && counts[i] > 0)
      return r.lo + width * (double(i) + (want - seen) / counts[i]);
    seen += counts[i];
  }
  return r.hi;
}

// Expected squared error of quantising the histogram to 256 codes over `clip`:
// clipping error outside, uniform rounding noise (step^2 / 12) inside.
double quantisation_mse(const std::vector<double>& counts, Range full, Range clip) {
  const ActivationParams p = quant::activation_params(clip.lo, clip.hi);
  const double step = p.scale, lo = -p.zero_point * step, hi = (255 - p.zero_point) * step;
  double err = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    const double v = bin_centre(full, counts.size(), i);
    const double e = v < lo ? (v - lo) * (v - lo) : v > hi ? (v - hi) * (v - hi) : step * step / 12.0;
    err += counts[i] * e;
  }
  return err;
}

// KL divergence (TensorRT-style calibration) between the histogram clipped to
// `clip` with the outliers folded into its end bins (P), and the quantised
// version of the clipped histogram WITHOUT the outliers (Q: the bins inside the
// clip merged into 255 code intervals, each interval's mass spread evenly over
// its non-empty bins). Leaving the outliers out of Q is what makes clipping
// cost something; a clip spanning fewer bins than codes is not a candidate
// (its Q would equal P).
double quantisation_kl(const std::vector<double>& counts, Range full, Range clip) {
  const std::size_t bins = counts.size();
  const double width = (full.hi - full.lo) / double(bins);
  const auto bin_of = [&](double v) {
    return std::size_t(std::clamp(std::floor((v - full.lo) / width), 0.0, double(bins - 1)));
  };
  const std::size_t b0 = bin_of(clip.lo), b1 = bin_of(clip.hi - 0.5 * width);
  const std::size_t m = b1 - b0 + 1, levels = 255;
  if (m < levels) return std::numeric_limits<double>::infinity();
  const std::vector<double> inside(counts.begin() + std::ptrdiff_t(b0), counts.begin() + std::ptrdiff_t(b1) + 1);
  std::vector<double> p = inside;
  for (std::size_t i = 0; i < b0; ++i) p.front() += counts[i];
  for (std::size_t i = b1 + 1; i < bins; ++i) p.back() += counts[i];
  std::vector<double> q(m, 0.0);
  for (std::size_t l = 0; l < levels; ++l) {
    const std::size_t a = l * m / levels, b = (l + 1) * m / levels;
    double mass = 0, nonzero = 0;
    for (std::size_t i = a; i < b; ++i) {
      mass += inside[i];
      nonzero += p[i] > 0;
    }
    for (std::size_t i = a; i < b; ++i)
      if (p[i] > 0) q[i] = mass / nonzero;
  }
  const double np = total(p), nq = total(q);
  double kl = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (p[i] <= 0) continue;
    if (q[i] <= 0) return std::numeric_limits<double>::infinity();  // mass Q cannot represent
    kl += p[i] / np * std::log((p[i] / np) / (q[i] / nq));
  }
  return kl;
}

}  // namespace

Range choose_range(const std::string& method, const std::vector<double>& counts, Range full, double percentile) {
  if (method == "minmax" || total(counts) == 0 || !(full.hi > full.lo)) return full;
  if (method == "percentile") {
    if (!(percentile > 50.0 && percentile <= 100.0))
      fail("percentile ", percentile, " is not in (50, 100]");
    const double tail = 1.0 - percentile / 100.0;
    Range r{full.lo < 0 ? quantile(counts, full, tail) : full.lo, quantile(counts, full, 1.0 - tail)};
    r.lo = std::min(r.lo, 0.0);
    r.hi = std::max(r.hi, 0.0);
    return r;
  }
  const bool mse = method == "mse";
  if (!mse && method != "entropy")
    fail("calibration method '", method, "' is unknown (expected minmax, percentile, mse or entropy)");
  Range best = full;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int k = 256; k >= 8; --k) {
    const double t = k / 256.0;
    const Range clip{std::min(full.lo, 0.0) * t, std::max(full.hi, 0.0) * t};
    const double cost = mse ? quantisation_mse(counts, full, clip) : quantisation_kl(counts, full, clip);
    if (cost < best_cost) {
      best_cost = cost;
      best = clip;
    }
  }
  return best;
}

}  // namespace sira
