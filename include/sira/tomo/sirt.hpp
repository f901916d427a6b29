// SIRT (simultaneous iterative reconstruction technique, Gilbert 1972; the variant
// ASTRA implements): x <- x + C A^T R (b - A x), with A the Joseph projector,
// R = 1 / row sums of A and C = 1 / column sums of A (zero where a sum is zero).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

struct SirtOptions {
  int iterations = 100;      // TomoGAN's training data used 100
  bool nonnegative = false;  // clamp x >= 0 after every update
  std::size_t size = 0;      // output slices are size x size; 0 = detector width
  bool circle_mask = false;  // zero pixels outside the reconstruction circle at the end
  // Called after every iteration with its index (0-based) and the projection
  // residual ||b - A x|| of the estimate that iteration started from.
  std::function<void(int iteration, double residual)> on_iteration;
};

struct SirtResult {
  Stack images;                  // depth x size x size
  std::vector<double> residuals;  // ||b - A x_k||_2 over all slices, k = 0 .. iterations - 1
};

// All slices advance together, one iteration at a time (slices in parallel).
SirtResult sirt(const Sinograms& sinograms, const SirtOptions& options = {});

}  // namespace sira::tomo
