// Rotation-centre finding: opposite-projection registration on cleaned sinograms,
// refined by the entropy of blurred trial reconstructions sampled over the slice.
#include "sira/tomo/center.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "sira/error.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/projector.hpp"
#include "filter.hpp"

namespace sira::tomo {

namespace {

constexpr double kPi = std::numbers::pi;
// Blur of the trial reconstructions, as a share of the detector width (2 pixels on the
// 1260-pixel dendrite scan, none on small clean detectors where it would wash out the
// one-pixel differences the search is after).
constexpr double kBlurPerColumn = 2.0 / 1000.0;

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
  const std::vector<std::size_t> picked = center_rows(d.depth, rows);
  Sinograms out{Stack(picked.size(), d.height, d.width), s.theta, -1.0};
  for (std::size_t k = 0; k < picked.size(); ++k)
    std::copy(d.slice(picked[k]), d.slice(picked[k]) + d.slice_size(), out.data.slice(k));
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

// A copy of the sinograms fit for centre finding on real data. Samples are clipped to
// the 0.5..99.5 % quantiles of their slice (dead pixels read 0 counts, -log of the
// transmission floor is 10x any real value and dominates every metric), then each
// column loses its offset from the running median of the column means (stripes: a
// column that is too bright at every angle does not move with the axis, so it pulls
// the mirror registration and draws rings in the trial reconstructions).
Sinograms cleaned(Sinograms s) {
  Stack& d = s.data;
  const std::size_t angles = d.height, width = d.width, n = angles * width;
  std::vector<float> sorted;
  std::vector<double> mean(width), median(width), window;
  for (std::size_t z = 0; z < d.depth; ++z) {
    float* v = d.slice(z);
    sorted.assign(v, v + n);
    const auto at = [&](double q) {
      const auto k = static_cast<std::size_t>(q * static_cast<double>(n - 1));
      std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k), sorted.end());
      return sorted[k];
    };
    const float lo = at(0.005), hi = at(0.995);
    for (std::size_t k = 0; k < n; ++k) v[k] = std::clamp(v[k], lo, hi);
    std::fill(mean.begin(), mean.end(), 0.0);
    for (std::size_t a = 0; a < angles; ++a)
      for (std::size_t u = 0; u < width; ++u) mean[u] += v[a * width + u];
    constexpr std::size_t half = 5;  // stripes up to a few columns wide
    for (std::size_t u = 0; u < width; ++u) {
      window.assign(mean.begin() + static_cast<std::ptrdiff_t>(u > half ? u - half : 0),
                    mean.begin() + static_cast<std::ptrdiff_t>(std::min(width, u + half + 1)));
      std::nth_element(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(window.size() / 2), window.end());
      median[u] = window[window.size() / 2];
    }
    for (std::size_t a = 0; a < angles; ++a)
      for (std::size_t u = 0; u < width; ++u)
        v[a * width + u] -= static_cast<float>((mean[u] - median[u]) / static_cast<double>(angles));
  }
  return s;
}

// Every k-th projection, k the smallest step leaving at most `most` of them: trial
// reconstructions cost angles x pixels, and a wrong centre blurs at any angle count.
Sinograms thinned(const Sinograms& s, std::size_t most) {
  const std::size_t n = s.data.height, k = (n + most - 1) / std::max<std::size_t>(most, 1);
  if (k <= 1) return s;
  const std::size_t kept = (n + k - 1) / k, width = s.data.width;
  Sinograms out{Stack(s.data.depth, kept, width), {}, s.center};
  for (std::size_t a = 0; a < kept; ++a) out.theta.push_back(s.theta[a * k]);
  for (std::size_t z = 0; z < s.data.depth; ++z)
    for (std::size_t a = 0; a < kept; ++a)
      std::copy_n(s.data.slice(z) + a * k * width, width, out.data.slice(z) + a * width);
  return out;
}

// Pixels of the trial reconstructions: 2 x 2 blocks on a square lattice spread over the
// whole reconstruction circle, as (x, y) relative to the axis, at most `most` pixels.
// A sparse lattice over the whole slice beats a dense central region: the centre of a
// real slice is often just ring artefacts (rings are centred on the axis).
std::vector<std::array<float, 2>> sample_pixels(std::size_t width, std::size_t most) {
  const double radius = 0.95 * (static_cast<double>(width) - 1.0) / 2.0;
  const double area = std::numbers::pi * radius * radius;
  const double stride = std::max(2.0, std::sqrt(4.0 * area / static_cast<double>(std::max<std::size_t>(most, 4))));
  std::vector<std::array<float, 2>> pixels;
  for (double y = -radius; y + 1.0 <= radius; y += stride)
    for (double x = -radius; x + 1.0 <= radius; x += stride) {
      if ((x + 1.0) * (x + 1.0) + (y + 1.0) * (y + 1.0) > radius * radius || x * x + y * y > radius * radius) continue;
      const auto fx = static_cast<float>(std::floor(x)), fy = static_cast<float>(std::floor(y));
      for (float dy : {0.0f, 1.0f})
        for (float dx : {0.0f, 1.0f}) pixels.push_back({fx + dx, fy + dy});
    }
  return pixels;
}

// Back-projection of filtered sinograms at the given pixels only (linear interpolation,
// zero outside the detector), per slice, for rotation centre `center`.
std::vector<float> backproject_at(const Sinograms& filtered, double center,
                                  const std::vector<std::array<float, 2>>& pixels) {
  const Stack& d = filtered.data;
  const std::size_t n_px = pixels.size(), width = d.width;
  // Rows zero-padded by more than the sampling radius on both sides, so every pixel
  // maps inside and the inner loop needs no bounds check.
  const std::size_t pad = width / 2 + 2, stride = width + 2 * pad;
  std::vector<float> rows(d.depth * d.height * stride, 0.0f);
  for (std::size_t r = 0; r < d.depth * d.height; ++r)
    std::copy_n(d.data.data() + r * width, width, rows.data() + r * stride + pad);
  std::vector<float> cos_a(d.height), sin_a(d.height);
  for (std::size_t a = 0; a < d.height; ++a) {
    cos_a[a] = static_cast<float>(std::cos(filtered.theta[a]));
    sin_a[a] = static_cast<float>(std::sin(filtered.theta[a]));
  }
  const auto origin = static_cast<float>(center + static_cast<double>(pad));
  std::vector<float> out(d.depth * n_px, 0.0f);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(d.depth * n_px); ++k) {
    const std::size_t z = static_cast<std::size_t>(k) / n_px, p = static_cast<std::size_t>(k) % n_px;
    const float x = pixels[p][0], y = pixels[p][1];
    const float* slice = rows.data() + z * d.height * stride;
    float sum = 0.0f;
    for (std::size_t a = 0; a < d.height; ++a) {
      const float u = x * cos_a[a] - y * sin_a[a] + origin;
      const auto i = static_cast<std::size_t>(u);
      const float f = u - static_cast<float>(i);
      const float* row = slice + a * stride + i;
      sum += row[0] + f * (row[1] - row[0]);
    }
    out[static_cast<std::size_t>(k)] = sum;
  }
  return out;
}

// Gaussian blur (sigma in pixels) of every projection along the detector, edges
// replicated. Blurring the projections blurs the reconstruction by the same
// rotationally symmetric kernel (it commutes with the Radon transform).
void blur_rows(Stack& d, double sigma) {
  const auto radius = static_cast<std::ptrdiff_t>(std::ceil(3.0 * sigma));
  std::vector<float> kernel(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0.0;
  for (std::ptrdiff_t k = -radius; k <= radius; ++k)
    sum += kernel[static_cast<std::size_t>(k + radius)] = static_cast<float>(std::exp(-0.5 * double(k * k) / (sigma * sigma)));
  for (float& k : kernel) k = static_cast<float>(k / sum);
  const auto w = static_cast<std::ptrdiff_t>(d.width);
  const std::size_t rows = d.depth * d.height;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(rows); ++r) {
    float* row = d.data.data() + static_cast<std::size_t>(r) * d.width;
    const std::vector<float> copy(row, row + d.width);
    for (std::ptrdiff_t u = 0; u < w; ++u) {
      float acc = 0.0f;
      for (std::ptrdiff_t k = -radius; k <= radius; ++k)
        acc += kernel[static_cast<std::size_t>(k + radius)] * copy[static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(u + k, 0, w - 1))];
      row[u] = acc;
    }
  }
}

// Means of the 2 x 2 blocks of sampled pixels: a little more noise averaged away.
std::vector<float> block_means(const std::vector<float>& values) {
  std::vector<float> means(values.size() / 4);
  for (std::size_t b = 0; b < means.size(); ++b)
    means[b] = 0.25f * (values[4 * b] + values[4 * b + 1] + values[4 * b + 2] + values[4 * b + 3]);
  return means;
}

// Histogram entropy of the values over a fixed range (outliers go to the end bins).
double entropy(const std::vector<float>& values, float lo, float hi) {
  constexpr std::size_t bins = 64;
  std::vector<double> hist(bins, 0.0);
  const float scale = hi > lo ? static_cast<float>(bins) / (hi - lo) : 0.0f;
  for (float value : values) {
    const float v = (value - lo) * scale;
    hist[static_cast<std::size_t>(std::clamp(v, 0.0f, static_cast<float>(bins - 1)))] += 1.0;
  }
  const auto total = static_cast<double>(values.size());
  double h = 0.0;
  for (double n : hist)
    if (n > 0) h -= (n / total) * std::log(n / total);
  return h;
}

// Vertex of the least-squares parabola through the scores, if it opens upwards and lies
// within the candidates; else `fallback`.
double parabola_vertex(const std::vector<CenterScore>& scores, double fallback) {
  if (scores.size() < 3) return fallback;
  // Centred abscissae keep the normal equations well conditioned.
  double mean = 0.0;
  for (const auto& s : scores) mean += s.center;
  mean /= static_cast<double>(scores.size());
  double m[3][4] = {};
  for (const auto& s : scores) {
    const double x = s.center - mean, row[3] = {x * x, x, 1.0};
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) m[r][c] += row[r] * row[c];
      m[r][3] += row[r] * s.score;
    }
  }
  for (int k = 0; k < 3; ++k) {  // Gauss-Jordan; the matrix is positive definite
    if (!(std::abs(m[k][k]) > 0)) return fallback;
    for (int r = 0; r < 3; ++r)
      if (r != k) {
        const double f = m[r][k] / m[k][k];
        for (int c = k; c < 4; ++c) m[r][c] -= f * m[k][c];
      }
  }
  const double a = m[0][3] / m[0][0], b = m[1][3] / m[1][1];
  if (!(a > 0)) return fallback;
  const double vertex = mean - b / (2.0 * a);
  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end(), [](const CenterScore& p, const CenterScore& q) {
    return p.center < q.center;
  });
  return vertex >= lo->center && vertex <= hi->center ? vertex : fallback;
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

  // The mirrored p_b is the projection at theta_b - pi. When that is not exactly theta_a
  // (a [0, 180) scan pairs 0 with 180 - step), comparing the two directly leaves a shear:
  // a feature at height y moves by y * gap, up to several pixels at the detector edge on
  // a wide detector, which biases the shift. So p_a is compared with the angular linear
  // interpolation between the mirrored p_b and the projection n on the other side of
  // theta_a; the shear cancels to first order in the gap.
  struct Match {
    std::size_t a, b, n;
    double w;  // weight of p_n; 0 = plain pair
  };
  std::vector<Match> matches;
  for (const auto& [a, b] : pairs) {
    const double mirrored = sinograms.theta[b] - kPi;  // angle seen by the mirrored p_b
    const double gap = sinograms.theta[a] - mirrored;  // > 0: p_a lies after it
    Match m{a, b, a, 0.0};
    if (std::abs(gap) > 1e-9) {
      std::size_t n_best = n;
      double d_best = 4.0 * std::max(step, std::abs(gap));
      for (std::size_t k = 0; k < n; ++k) {
        const double d = sinograms.theta[k] - sinograms.theta[a];
        if (k != a && d * gap > 0 && std::abs(d) < d_best) n_best = k, d_best = std::abs(d);
      }
      if (n_best < n) m = {a, b, n_best, std::abs(gap) / (std::abs(gap) + d_best)};
    }
    matches.push_back(m);
  }

  // Mean squared difference between p_a(u + shift) and the (interpolated) mirrored
  // p_b(W - 1 - u), for shifts keeping at least half the detector overlapping;
  // centre = (W - 1 + shift) / 2.
  const auto max_shift = static_cast<std::ptrdiff_t>(width / 2);
  const auto w = static_cast<std::ptrdiff_t>(width);
  std::vector<double> cost(2 * max_shift + 1, 0.0);
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(cost.size()); ++k) {
    const std::ptrdiff_t shift = k - max_shift;
    double sum = 0.0;
    for (std::size_t z = 0; z < d.depth; ++z)
      for (const Match& m : matches) {
        const float* pa = d.slice(z) + m.a * width;
        const float* pb = d.slice(z) + m.b * width;
        const float* pn = d.slice(z) + m.n * width;
        const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, -shift), hi = std::min(w, w - shift);
        double s = 0.0;
        for (std::ptrdiff_t u = lo; u < hi; ++u) {
          const double predicted = (1.0 - m.w) * pb[w - 1 - u] + m.w * pn[u + shift];
          const double diff = static_cast<double>(pa[u + shift]) - predicted;
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

std::vector<CenterScore> score_centers(const Sinograms& sinograms, const std::vector<double>& candidates,
                                       std::size_t max_pixels) {
  check_input(sinograms, "score_centers");
  if (candidates.empty()) fail("score_centers: no candidate centres");
  for (double c : candidates) check_center(c, sinograms.data.width, "score_centers");
  const Stack& d = sinograms.data;
  // The filtered projections do not depend on the centre: filter once (Shepp-Logan;
  // the blur below handles noise), then back-project only a lattice of pixels per
  // candidate. A wrong centre blurs every point into an arc of the same radius wherever
  // it is, so a sparse sample of the slice tells as much as all of it.
  Sinograms filtered{Stack(d.depth, d.height, d.width), sinograms.theta, -1.0};
  detail::filter_projections(d.data.data(), d.depth * d.height, d.width, Filter::shepp_logan, 1.0f,
                             filtered.data.data.data(), d.width, 0);
  // Real scans are noisy and noise alone spreads the histogram; a blur of a few pixels
  // keeps the arcs of a wrong centre (as long as the error) and removes most of the noise.
  const double sigma = std::min(2.0, kBlurPerColumn * static_cast<double>(d.width));
  if (sigma >= 0.5) blur_rows(filtered.data, sigma);
  const std::size_t per_slice = max_pixels ? std::max<std::size_t>(4, max_pixels / d.depth) : d.width * d.width;
  const auto pixels = sample_pixels(d.width, per_slice);
  if (pixels.empty()) fail("score_centers: a detector of ", d.width, " columns is too narrow");
  // One histogram range for all candidates (from the middle one), as TomoPy does, so the
  // entropies are comparable; quantiles rather than extremes, so a few bright ring
  // pixels do not squeeze everything else into one bin.
  std::vector<float> reference = block_means(backproject_at(filtered, candidates[candidates.size() / 2], pixels));
  const auto quantile = [&](double q) {
    const auto k = static_cast<std::size_t>(q * static_cast<double>(reference.size() - 1));
    std::nth_element(reference.begin(), reference.begin() + static_cast<std::ptrdiff_t>(k), reference.end());
    return reference[k];
  };
  const float lo = quantile(0.001), hi = quantile(0.999);
  std::vector<CenterScore> scores;
  for (double c : candidates) scores.push_back({c, entropy(block_means(backproject_at(filtered, c, pixels)), lo, hi)});
  return scores;
}

std::vector<std::size_t> center_rows(std::size_t depth, std::size_t max_rows) {
  const std::size_t count = std::min(std::max<std::size_t>(max_rows, 1), depth);
  std::vector<std::size_t> rows;
  for (std::size_t k = 0; k < count; ++k) rows.push_back(count == 1 ? depth / 2 : k * (depth - 1) / (count - 1));
  return rows;
}

double find_center(const Sinograms& sinograms, const CenterOptions& options) {
  check_input(sinograms, "find_center");
  if (!(options.step > 0) || !(options.search_radius > 0))
    fail("find_center: step and search radius must be positive");
  const double last = static_cast<double>(sinograms.data.width) - 1.0;
  const Sinograms rows = cleaned(pick_rows(sinograms, options.max_rows));
  double coarse = last / 2.0, radius = options.search_radius;
  try {
    coarse = center_from_opposite_projections(rows);
  } catch (const Error&) {
    radius = std::max(radius, static_cast<double>(sinograms.data.width) / 8.0);  // no pairs: search wide
  }
  const Sinograms trial = thinned(rows, options.max_angles);
  // Scores a grid of centres; returns the best one, or with `fit` the vertex of the
  // least-squares parabola through all of them: one noisy score cannot pull it.
  auto best_of = [&](double from, double to, double step, bool fit) {
    std::vector<double> candidates;
    for (double c = std::max(0.0, from); c <= std::min(last, to) + 1e-9; c += step) candidates.push_back(c);
    if (candidates.empty()) candidates.push_back(std::clamp(from, 0.0, last));
    const auto scores = score_centers(trial, candidates, options.max_pixels);
    const double best = std::min_element(scores.begin(), scores.end(), [](const CenterScore& a, const CenterScore& b) {
                          return a.score < b.score;
                        })->center;
    return fit ? parabola_vertex(scores, best) : best;
  };
  // Whole-pixel grid over the search radius, then a second fit around the first vertex.
  double best = coarse;
  if (radius > 8.0) best = best_of(coarse - radius, coarse + radius, 2.0, false);  // wide search first
  best = best_of(best - options.search_radius, best + options.search_radius, 1.0, true);
  return best_of(best - 2.0, best + 2.0, options.step, true);
}

}  // namespace sira::tomo
