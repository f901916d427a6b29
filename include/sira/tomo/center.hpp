// Automatic rotation-centre finding for parallel-beam scans over 180 or 360 degrees.
#pragma once

#include <cstddef>
#include <vector>

#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

// Centre from projections 180 degrees apart: p(theta + pi, u) = p(theta, 2 c - u), so
// the shift that best aligns one projection with its mirrored opposite gives c.
// Sums the squared difference over all pairs (and slices) whose angles differ by pi
// within one angular step, refines to sub-pixel by a parabola through the best shift.
// Throws if no such pair exists (e.g. a limited-angle scan).
double center_from_opposite_projections(const Sinograms& sinograms);

struct CenterScore {
  double center;
  double score;  // lower is better
};

// Scores each candidate centre by the histogram entropy of the FBP reconstruction
// of the sinograms (TomoPy's find_center criterion: a wrong centre smears edges into
// arcs and spreads the histogram). Returns one score per candidate.
std::vector<CenterScore> score_centers(const Sinograms& sinograms,
                                       const std::vector<double>& candidates);

struct CenterOptions {
  double search_radius = 4.0;  // pixels around the coarse estimate scored by entropy
  double step = 0.25;          // sub-pixel grid for the entropy search
  std::size_t max_rows = 8;    // slices used (evenly spread) to keep it fast
};

// The rotation centre: coarse estimate from opposite projections (or, with no
// opposite pairs, the detector middle with a wider search), refined by minimum
// reconstruction entropy on a sub-pixel grid. Throws on empty or non-finite input.
double find_center(const Sinograms& sinograms, const CenterOptions& options = {});

}  // namespace sira::tomo
