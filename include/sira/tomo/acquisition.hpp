// Simulated x-ray acquisition on sinograms of line integrals p:
//   counts  I = Poisson(gain * I0 * dose * exp(-p)) + dark + Normal(0, read_noise)
//   flat    F = I0 * dose + dark   (the flat field the scanner recorded)
//   p'      = -log(max((I - dark) / (F - dark), min_transmission))
// `gain` is one factor per detector pixel (slice, column), fixed over angles: it
// models the residual miscalibration a flat field does not remove, which makes
// ring artefacts after reconstruction.
// Reducing angles: sparse view (every k-th) and limited angle (a range).
// Random numbers: one std::mt19937_64 per (slice, angle row) seeded from the seed
// and the row's index, so results never depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

struct DoseOptions {
  double flux = 1e4;          // I0: incident photons per detector pixel per projection at full dose
  double dose = 1.0;          // fraction of the full dose, (0, 1]
  double read_noise = 0.0;    // Gaussian detector noise, sigma in counts
  double dark = 0.0;          // dark offset in counts (subtracted again by the normalisation)
  double gain_spread = 0.0;   // relative standard deviation of the per-pixel gain (rings)
  // Detector blur (scintillator light spread): Gaussian sigma in detector
  // pixels applied to the counts after the photon noise, so the noise of
  // neighbouring pixels correlates as in a real detector. 0 = none.
  double blur = 0.0;
  double min_transmission = 0.0;  // clip for -log; 0 = half a count: 0.5 / (I0 * dose)
  std::uint64_t seed = 0;
};

// Throws sira::Error naming the bad parameter.
void check_dose_options(const DoseOptions& options);

// A seed for stream `index` derived from `seed` (SplitMix64 mixing): neighbouring
// indices give unrelated streams.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index);

// Raw detector counts (same shape as the sinograms) for line integrals p.
Stack simulate_counts(const Sinograms& clean, const DoseOptions& options);

// What a detector with blur `sigma` (pixels) records of noise-free line
// integrals p: -log of the blurred transmission exp(-p), row by row.
Sinograms blur_line_integrals(const Sinograms& p, double sigma);

// Per-pixel gain factors (depth x 1 x width) the simulation applies (1 + spread * N(0,1), >= 0.05).
Stack detector_gain(std::size_t slices, std::size_t width, const DoseOptions& options);

// Line integrals from counts: -log of dark/flat-normalised counts, clipped.
Sinograms counts_to_line_integrals(const Stack& counts, const Sinograms& geometry,
                                   const DoseOptions& options);

// simulate_counts followed by counts_to_line_integrals.
Sinograms simulate_low_dose(const Sinograms& clean, const DoseOptions& options);

// Low dose from measured data (line integrals that already carry the noise of
// the real flux `options.flux`): the implied counts round(I0 * exp(-p)) are
// thinned binomially with probability `dose` (the exact way to lower the dose
// of Poisson data), then normalised by I0 * dose and -log'ed with the clip.
// Gain, dark and read noise options are applied as in simulate_low_dose.
Sinograms thin_dose(const Sinograms& measured, const DoseOptions& options);

// Every k-th angle starting at `offset` (sparse view). k >= 1.
Sinograms keep_every_kth_angle(const Sinograms& s, std::size_t k, std::size_t offset = 0);

// Angles in [first, last] radians (limited angle). Throws if none remain.
Sinograms keep_angle_range(const Sinograms& s, double first, double last);

}  // namespace sira::tomo
