// Rotation-centre finding: opposite-projection registration, refined by the
// entropy of trial reconstructions.
#include "sira/tomo/center.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "sira/error.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::tomo {

namespace {

constexpr double kPi = std::numbers::pi;

// Distance of angle a from b + pi, modulo 2 pi.
double opposite_error(double a, double b) {
  const double d = std::remainder(a - b - kPi, 2.0 * kPi);
  return std::abs(d);
}

double typical_step(std::vector<double> theta) {
  std::sort(theta.begin(), theta.end());
  std::vector<double> gaps;
  for (std::size_t k = 1; k < theta.size(); ++k)
    if (theta[k] > theta[k - 1]) gaps.push_back(theta[k] - theta[k - 1]);
  if (gaps.empty()) return 0.0;
  std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
  return gaps[gaps.size() / 2];
}

// Sinograms holding only `rows` evenly spread slices (all of them if fewer).
Sinograms pick_rows(const Sinograms& s, std::size_t rows) {
  const Stack& d = s.data;
  const std::size_t count = std::min(std::max<std::size_t>(rows, 1), d.depth);
  Sinograms out{Stack(count, d.height, d.width), s.theta, -1.0};
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t z = count == 1 ? d.depth / 2 : k * (d.depth - 1) / (count - 1);
    std::copy(d.slice(z), d.slice(z) + d.slice_size(), out.data.slice(k));
  }
  return out;
}

void check_input(const Sinograms& s, const char* what) {
  // The shared checks minus the caller's centre (it is what we are looking for).
  const Stack& d = s.data;
  if (d.depth == 0 || d.height == 0 || d.width == 0 || d.data.empty())
    fail(what, ": empty sinograms (", d.depth, " slices x ", d.height, " angles x ", d.width, " columns)");
  if (d.width < 4) fail(what, ": a detector of ", d.width, " columns is too narrow to find a centre");
  if (s.theta.size() != d.height)
    fail(what, ": ", s.theta.size(), " angles given for sinograms with ", d.height, " projections (rows)");
  for (std::size_t k = 0; k < s.theta.size(); ++k)
    if (!std::isfinite(s.theta[k])) fail(what, ": angle ", k, " is not finite (", s.theta[k], ")");
  check_finite(d, std::string(what) + ": projections");
}

// Histogram entropy of the pixels inside the reconstruction circle, over a fixed range.
double entropy(const Stack& rec, float lo, float hi) {
  constexpr std::size_t bins = 64;
  std::vector<double> hist(bins, 0.0);
  double total = 0.0;
  const float scale = hi > lo ? static_cast<float>(bins) / (hi - lo) : 0.0f;
  for (std::size_t z = 0; z < rec.depth; ++z)
    for (std::size_t i = 0; i < rec.height; ++i)
      for (std::size_t j = 0; j < rec.width; ++j) {
        if (!inside_circle(i, j, rec.width)) continue;
        const float v = (rec.at(z, i, j) - lo) * scale;
        const auto b = static_cast<std::size_t>(std::clamp(v, 0.0f, static_cast<float>(bins - 1)));
        hist[b] += 1.0;
        total += 1.0;
      }
  double h = 0.0;
  for (double c : hist)
    if (c > 0) h -= (c / total) * std::log(c / total);
  return h;
}

}  // namespace

double center_from_opposite_projections(const Sinograms& sinograms) {
  check_input(sinograms, "center_from_opposite_projections");
  const Stack& d = sinograms.data;
  const std::size_t n = d.height, width = d.width;
  const double step = typical_step(sinograms.theta);
  // Up to one angular step off: scans over [0, 180) degrees have no exact partner for
  // their first projection, the one 180 - step away still pins the axis to < a pixel
  // near the centre and the entropy refinement does the rest.
  const double tolerance = step > 0 ? 1.01 * step : 1e-3;

  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t a = 0; a < n; ++a) {
    std::size_t best = n;
    double best_err = tolerance;
    for (std::size_t b = 0; b < n; ++b) {
      const double e = opposite_error(sinograms.theta[b], sinograms.theta[a]);
      if (b != a && e <= best_err) best = b, best_err = e;
    }
    if (best < n && sinograms.theta[a] < sinograms.theta[best]) pairs.emplace_back(a, best);
  }
  if (pairs.empty())
    fail("center_from_opposite_projections: no two projections are 180 degrees apart (angles span ",
         *std::max_element(sinograms.theta.begin(), sinograms.theta.end()) -
             *std::min_element(sinograms.theta.begin(), sinograms.theta.end()),
         " rad); use the entropy search");
  // Enough pairs to average noise, few enough to stay fast on 360-degree scans.
  constexpr std::size_t max_pairs = 16;
  if (pairs.size() > max_pairs) {
    std::vector<std::pair<std::size_t, std::size_t>> spread;
    for (std::size_t k = 0; k < max_pairs; ++k) spread.push_back(pairs[k * pairs.size() / max_pairs]);
    pairs = std::move(spread);
  }

  // Mean squared difference between p_a(u + shift) and the mirrored p_b(W - 1 - u),
  // for shifts keeping at least half the detector overlapping; centre = (W - 1 + shift) / 2.
  const auto max_shift = static_cast<std::ptrdiff_t>(width / 2);
  const auto w = static_cast<std::ptrdiff_t>(width);
  std::vector<double> cost(2 * max_shift + 1, 0.0);
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(cost.size()); ++k) {
    const std::ptrdiff_t shift = k - max_shift;
    double sum = 0.0;
    for (std::size_t z = 0; z < d.depth; ++z)
      for (const auto& [a, b] : pairs) {
        const float* pa = d.slice(z) + a * width;
        const float* pb = d.slice(z) + b * width;
        const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, -shift), hi = std::min(w, w - shift);
        double s = 0.0;
        for (std::ptrdiff_t u = lo; u < hi; ++u) {
          const double diff = static_cast<double>(pa[u + shift]) - pb[w - 1 - u];
          s += diff * diff;
        }
        sum += s / static_cast<double>(hi - lo);
      }
    cost[k] = sum;
  }
  const auto best = static_cast<std::size_t>(std::min_element(cost.begin(), cost.end()) - cost.begin());
  double offset = 0.0;
  if (best > 0 && best + 1 < cost.size()) {
    const double cm = cost[best - 1], c0 = cost[best], cp = cost[best + 1];
    const double curvature = cm - 2 * c0 + cp;
    if (curvature > 0) offset = std::clamp(0.5 * (cm - cp) / curvature, -0.5, 0.5);
  }
  const double shift = static_cast<double>(best) - static_cast<double>(max_shift) + offset;
  return (static_cast<double>(width) - 1.0 + shift) / 2.0;
}

std::vector<CenterScore> score_centers(const Sinograms& sinograms, const std::vector<double>& candidates) {
  check_input(sinograms, "score_centers");
  if (candidates.empty()) fail("score_centers: no candidate centres");
  for (double c : candidates) check_center(c, sinograms.data.width, "score_centers");
  // One histogram range for all candidates (from the middle one), as TomoPy does,
  // so the entropies are comparable.
  Sinograms trial = sinograms;
  trial.center = candidates[candidates.size() / 2];
  const Stack reference = fbp(trial, {Filter::shepp_logan, 0, true});
  float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
  for (std::size_t z = 0; z < reference.depth; ++z)
    for (std::size_t i = 0; i < reference.height; ++i)
      for (std::size_t j = 0; j < reference.width; ++j)
        if (inside_circle(i, j, reference.width)) {
          lo = std::min(lo, reference.at(z, i, j));
          hi = std::max(hi, reference.at(z, i, j));
        }
  std::vector<CenterScore> scores;
  for (double c : candidates) {
    trial.center = c;
    scores.push_back({c, entropy(fbp(trial, {Filter::shepp_logan, 0, true}), lo, hi)});
  }
  return scores;
}

double find_center(const Sinograms& sinograms, const CenterOptions& options) {
  check_input(sinograms, "find_center");
  if (!(options.step > 0) || !(options.search_radius > 0))
    fail("find_center: step and search radius must be positive");
  const double last = static_cast<double>(sinograms.data.width) - 1.0;
  double coarse = last / 2.0, radius = options.search_radius;
  try {
    coarse = center_from_opposite_projections(sinograms);
  } catch (const Error&) {
    radius = std::max(radius, static_cast<double>(sinograms.data.width) / 8.0);  // no pairs: search wide
  }
  const Sinograms rows = pick_rows(sinograms, options.max_rows);
  auto best_of = [&](double from, double to, double step) {
    std::vector<double> candidates;
    for (double c = std::max(0.0, from); c <= std::min(last, to) + 1e-9; c += step) candidates.push_back(c);
    if (candidates.empty()) candidates.push_back(std::clamp(from, 0.0, last));
    const auto scores = score_centers(rows, candidates);
    return std::min_element(scores.begin(), scores.end(),
                            [](const CenterScore& a, const CenterScore& b) { return a.score < b.score; })
        ->center;
  };
  // Whole pixels first, then the sub-pixel grid around the best.
  double whole = coarse;
  if (radius > 8.0) {  // wide search: every other pixel first
    whole = best_of(coarse - radius, coarse + radius, 2.0);
    radius = 2.0;
  }
  whole = best_of(whole - radius, whole + radius, std::max(1.0, options.step));
  return best_of(whole - 1.0, whole + 1.0, options.step);
}

}  // namespace sira::tomo
