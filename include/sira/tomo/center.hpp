// Automatic rotation-centre finding for parallel-beam scans over 180 or 360 degrees.
#pragma once

#include <cstddef>
#include <vector>

#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

// Centre from projections 180 degrees apart: p(theta + pi, u) = p(theta, 2 c - u), so
// the shift that best aligns one projection with its mirrored opposite gives c.
// Sums the squared difference over all pairs (and slices) whose angles differ by pi
// within one angular step; when a pair is off by a fraction of a step, the mirrored
// projection is first interpolated in angle with the neighbour on the other side.
// Sub-pixel by a parabola through the best shift. Throws if no such pair exists
// (e.g. a limited-angle scan).
double center_from_opposite_projections(const Sinograms& sinograms);

struct CenterScore {
  double center;
  double score;  // lower is better
};

// Scores each candidate centre by the histogram entropy of the FBP reconstruction
// of the sinograms (TomoPy's find_center criterion: a wrong centre smears edges into
// arcs and spreads the histogram). Only about max_pixels pixels (2 x 2 blocks on a lattice
// over the reconstruction circle, all slices together; 0 = every pixel) are
// reconstructed, with a Shepp-Logan filter and a Gaussian blur of width/500 pixels, at
// most 2 (noise alone spreads the histogram of a real scan; the arcs of a wrong centre
// are longer than the blur; small detectors get none); the
// entropy is that of the 2 x 2 block means. One score per candidate.
std::vector<CenterScore> score_centers(const Sinograms& sinograms,
                                       const std::vector<double>& candidates, std::size_t max_pixels = 0);

struct CenterOptions {
  double search_radius = 4.0;  // pixels around the coarse estimate scored by entropy
  double step = 1.0;           // grid of the second entropy fit (the first uses whole pixels)
  std::size_t max_rows = 8;    // slices used (evenly spread) to keep it fast
  std::size_t max_pixels = 65536;  // pixels reconstructed per candidate (all slices)
  std::size_t max_angles = 360;  // projections used per trial reconstruction (every k-th)
};

// Which of `depth` slices find_center uses: up to max_rows evenly spread ones, in
// order (all of them if fewer). find_center(s) equals find_center of just these
// slices of s, so a process holding only some slices can load these and agree.
std::vector<std::size_t> center_rows(std::size_t depth, std::size_t max_rows);

// The rotation centre. Works on a cleaned copy of up to max_rows slices (values clipped
// to their 0.5..99.5 % quantiles, column stripes removed). Coarse estimate from
// opposite projections (or, with no opposite pairs, the detector middle and a wide
// search); then entropy scores (score_centers: blurred Shepp-Logan FBP of sampled pixels,
// every k-th projection up to max_angles) on whole pixels within search_radius, fitted
// by a least-squares parabola; a second fit on the `step` grid within 2 pixels of that
// vertex gives the result. Throws on empty or non-finite input.
double find_center(const Sinograms& sinograms, const CenterOptions& options = {});

}  // namespace sira::tomo
