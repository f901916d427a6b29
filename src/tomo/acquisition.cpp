#include "sira/tomo/acquisition.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "sira/error.hpp"

namespace sira::tomo {

namespace {

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Stream indices: gain uses its own range so it never coincides with a row stream.
constexpr std::uint64_t kGainStream = 0x6761696e00000000ull;

double clip_level(const DoseOptions& o) {
  return o.min_transmission > 0 ? o.min_transmission : 0.5 / (o.flux * o.dose);
}

void check_geometry(const Sinograms& s, const char* what) {
  if (s.data.size() == 0) fail(what, ": empty sinograms");
  if (s.theta.size() != s.data.height)
    fail(what, ": ", s.theta.size(), " angles for sinograms with ", s.data.height, " rows");
}

// Adds dark offset and read noise to a row of photon counts.
void add_detector_noise(float* row, std::size_t n, const DoseOptions& o, std::mt19937_64& rng) {
  if (o.read_noise > 0) {
    std::normal_distribution<double> read(0.0, o.read_noise);
    for (std::size_t c = 0; c < n; ++c) row[c] = float(row[c] + o.dark + read(rng));
  } else if (o.dark != 0) {
    for (std::size_t c = 0; c < n; ++c) row[c] = float(row[c] + o.dark);
  }
}

// Gaussian taps for sigma (pixels), radius 3 sigma, summing to 1.
std::vector<double> gaussian_taps(double sigma) {
  const int radius = std::max(1, int(3 * sigma + 0.5));  // scipy.ndimage gaussian_filter1d's (truncate 3)
  std::vector<double> taps(std::size_t(2 * radius + 1));
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += taps[std::size_t(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
  for (double& t : taps) t /= sum;
  return taps;
}

// Convolves one row with the taps, edges mirrored (a detector's edge pixels
// see light from inside only; mirroring keeps flat fields flat).
void blur_row(float* row, std::size_t n, const std::vector<double>& taps, std::vector<float>& scratch) {
  const long radius = long(taps.size() / 2), w = long(n);
  scratch.assign(row, row + n);
  for (long c = 0; c < w; ++c) {
    double acc = 0;
    for (long k = -radius; k <= radius; ++k) {
      long x = c + k;
      while (x < 0 || x >= w) x = x < 0 ? -x - 1 : 2 * w - x - 1;
      acc += taps[std::size_t(k + radius)] * scratch[std::size_t(x)];
    }
    row[c] = float(acc);
  }
}

// The sinograms restricted to the angle rows `keep` (in order).
Sinograms select_angles(const Sinograms& s, const std::vector<std::size_t>& keep) {
  Sinograms out{Stack(s.data.depth, keep.size(), s.data.width), {}, s.center};
  out.data.is_2d = s.data.is_2d;
  for (std::size_t a : keep) out.theta.push_back(s.theta[a]);
  for (std::size_t d = 0; d < s.data.depth; ++d)
    for (std::size_t i = 0; i < keep.size(); ++i)
      std::copy_n(s.data.slice(d) + keep[i] * s.data.width, s.data.width,
                  out.data.slice(d) + i * s.data.width);
  return out;
}

}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) {
  return splitmix(splitmix(seed) ^ splitmix(index + 0x632be59bd9b4e019ull));
}

void check_dose_options(const DoseOptions& o) {
  if (!(o.flux > 0) || !std::isfinite(o.flux)) fail("acquisition: flux must be positive (got ", o.flux, ")");
  if (!(o.dose > 0 && o.dose <= 1)) fail("acquisition: dose must be in (0, 1] (got ", o.dose, ")");
  if (!(o.read_noise >= 0) || !std::isfinite(o.read_noise))
    fail("acquisition: read noise must be >= 0 (got ", o.read_noise, ")");
  if (!std::isfinite(o.dark) || o.dark < 0) fail("acquisition: dark offset must be >= 0 (got ", o.dark, ")");
  if (!(o.gain_spread >= 0 && o.gain_spread < 1))
    fail("acquisition: gain spread must be in [0, 1) (got ", o.gain_spread, ")");
  if (!(o.blur >= 0 && o.blur <= 100)) fail("acquisition: detector blur must be in [0, 100] pixels (got ", o.blur, ")");
  if (!(o.min_transmission >= 0 && o.min_transmission < 1))
    fail("acquisition: min transmission must be in [0, 1) (got ", o.min_transmission, ")");
}

Stack detector_gain(std::size_t slices, std::size_t width, const DoseOptions& o) {
  Stack gain(slices, 1, width);
  for (std::size_t k = 0; k < slices; ++k) {
    float* g = gain.slice(k);
    if (o.gain_spread == 0) {
      std::fill(g, g + width, 1.0f);
      continue;
    }
    std::mt19937_64 rng(derive_seed(o.seed, kGainStream + k));
    std::normal_distribution<double> n(0.0, 1.0);
    for (std::size_t c = 0; c < width; ++c) g[c] = float(std::max(0.05, 1.0 + o.gain_spread * n(rng)));
  }
  return gain;
}

Stack simulate_counts(const Sinograms& clean, const DoseOptions& o) {
  check_dose_options(o);
  check_geometry(clean, "simulate_counts");
  const Stack& p = clean.data;
  const std::size_t rows = p.depth * p.height, w = p.width;
  const Stack gain = detector_gain(p.depth, w, o);
  const double i0 = o.flux * o.dose;
  Stack counts(p.depth, p.height, w);
  counts.is_2d = p.is_2d;
  const std::vector<double> taps = o.blur > 0 ? gaussian_taps(o.blur) : std::vector<double>{};
#pragma omp parallel for schedule(static)
  for (std::size_t r = 0; r < rows; ++r) {
    std::mt19937_64 rng(derive_seed(o.seed, r));
    std::poisson_distribution<long long> poisson;
    std::vector<float> scratch;
    const float* in = p.data.data() + r * w;
    const float* g = gain.slice(r / p.height);
    float* out = counts.data.data() + r * w;
    for (std::size_t c = 0; c < w; ++c) {
      const double mean = g[c] * i0 * std::exp(-double(in[c]));
      out[c] = mean > 0 ? float(poisson(rng, std::poisson_distribution<long long>::param_type(mean))) : 0.0f;
    }
    if (!taps.empty()) blur_row(out, w, taps, scratch);
    add_detector_noise(out, w, o, rng);
  }
  return counts;
}

Sinograms blur_line_integrals(const Sinograms& p, double sigma) {
  if (!(sigma >= 0 && sigma <= 100)) fail("detector blur must be in [0, 100] pixels (got ", sigma, ")");
  if (sigma == 0) return p;
  const std::vector<double> taps = gaussian_taps(sigma);
  Sinograms out = p;
  const std::size_t w = p.data.width, rows = p.data.depth * p.data.height;
#pragma omp parallel for schedule(static)
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<float> scratch;
    float* row = out.data.data.data() + r * w;
    for (std::size_t c = 0; c < w; ++c) row[c] = float(std::exp(-double(row[c])));
    blur_row(row, w, taps, scratch);
    for (std::size_t c = 0; c < w; ++c) row[c] = float(-std::log(std::max(double(row[c]), 1e-30)));
  }
  return out;
}

Sinograms counts_to_line_integrals(const Stack& counts, const Sinograms& geometry, const DoseOptions& o) {
  check_dose_options(o);
  if (counts.depth != geometry.data.depth || counts.height != geometry.data.height ||
      counts.width != geometry.data.width)
    fail("counts_to_line_integrals: counts ", counts.depth, "x", counts.height, "x", counts.width,
         " do not match the sinograms ", geometry.data.depth, "x", geometry.data.height, "x",
         geometry.data.width);
  const double open = o.flux * o.dose;  // flat - dark
  const double clip = clip_level(o);
  Sinograms out{Stack(counts.depth, counts.height, counts.width), geometry.theta, geometry.center};
  out.data.is_2d = counts.is_2d;
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double t = (double(counts.data[i]) - o.dark) / open;
    out.data.data[i] = float(-std::log(std::max(t, clip)));
  }
  return out;
}

Sinograms simulate_low_dose(const Sinograms& clean, const DoseOptions& o) {
  return counts_to_line_integrals(simulate_counts(clean, o), clean, o);
}

Sinograms thin_dose(const Sinograms& measured, const DoseOptions& o) {
  check_dose_options(o);
  check_geometry(measured, "thin_dose");
  const Stack& p = measured.data;
  const std::size_t rows = p.depth * p.height, w = p.width;
  const Stack gain = detector_gain(p.depth, w, o);
  Stack counts(p.depth, p.height, w);
  counts.is_2d = p.is_2d;
#pragma omp parallel for schedule(static)
  for (std::size_t r = 0; r < rows; ++r) {
    std::mt19937_64 rng(derive_seed(o.seed, r));
    std::binomial_distribution<long long> binomial;
    const float* in = p.data.data() + r * w;
    const float* g = gain.slice(r / p.height);
    float* out = counts.data.data() + r * w;
    for (std::size_t c = 0; c < w; ++c) {
      // Measured transmission may exceed 1 slightly (noise in the flat): keep it.
      const double implied = std::round(o.flux * std::exp(-double(in[c])));
      const double trials = std::min(implied, 1e15);
      double n = trials >= 1 ? double(binomial(rng, decltype(binomial)::param_type((long long)trials, o.dose))) : 0.0;
      // Gain < 1 removes photons (a second thinning); gain > 1 scales.
      out[c] = float(n * g[c]);
    }
    add_detector_noise(out, w, o, rng);
  }
  return counts_to_line_integrals(counts, measured, o);
}

Sinograms keep_every_kth_angle(const Sinograms& s, std::size_t k, std::size_t offset) {
  if (k < 1) fail("sparse view: step must be at least 1 (got ", k, ")");
  check_geometry(s, "sparse view");
  if (offset >= s.data.height) fail("sparse view: offset ", offset, " >= ", s.data.height, " angles");
  std::vector<std::size_t> keep;
  for (std::size_t a = offset; a < s.data.height; a += k) keep.push_back(a);
  return select_angles(s, keep);
}

Sinograms keep_angle_range(const Sinograms& s, double first, double last) {
  check_geometry(s, "limited angle");
  if (!(first <= last)) fail("limited angle: range [", first, ", ", last, "] is empty");
  std::vector<std::size_t> keep;
  for (std::size_t a = 0; a < s.theta.size(); ++a)
    if (s.theta[a] >= first && s.theta[a] <= last) keep.push_back(a);
  if (keep.empty())
    fail("limited angle: no projection angle lies in [", first, ", ", last, "] radians");
  return select_angles(s, keep);
}

}  // namespace sira::tomo
