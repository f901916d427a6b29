// Parallel-beam projection data as sira's tomography code passes it around.
#pragma once

#include <vector>

#include "sira/stack.hpp"

namespace sira::tomo {

// depth = slices (detector rows), height = angles, width = detector columns.
// Values are line integrals (after -log for measured transmission data).
struct Sinograms {
  Stack data;
  std::vector<double> theta;  // projection angles in radians, one per row of a sinogram
  double center = -1.0;       // rotation axis in detector pixels; < 0 = (width - 1) / 2
  double center_or_default() const { return center < 0 ? (data.width - 1) / 2.0 : center; }
};

}  // namespace sira::tomo
