// One reconstruction of --mode projections, handed from the receiver
// (projection_assembler.hpp) to the worker: raw counts of the requested
// detector rows for a window of projections, with the dark and flat means.
// line_integrals() normalises as sira recon does a Data Exchange file
// (tomo/dxchange.hpp: T = (data - dark) / (flat - dark), flat pixels with
// flat <= dark replaced by their row's mean good denominator, -log(max(T, 1e-6)))
// and reconstruct() is sira's FBP, so the worker's results equal the offline
// sira recon of the same projections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::serve {

struct ReconJob {
  std::uint64_t series = 0, update = 0;  // update 0 = the first full reconstruction
  std::vector<std::size_t> rows;         // detector rows, one output slice each
  std::size_t cols = 0, projections = 0;
  std::vector<float> counts;             // rows x projections x cols
  std::vector<double> theta;             // radians, one per projection
  std::vector<double> dark, flat;        // rows x cols means (dark 0 without dark fields)
  double center = -1;
  tomo::Filter filter = tomo::Filter::ramp;
  bool circle_mask = true;
  std::uint64_t frames = 0;              // input frames this job is the first to account for
  std::uint64_t first_id = 0, last_id = 0;
};

// rows x projections x cols line integrals; `note` (if given) tells about repaired flat pixels.
tomo::Sinograms line_integrals(const ReconJob& job, std::string* note = nullptr);
// rows x size x size slices (size = cols).
Stack reconstruct(const ReconJob& job);

}  // namespace sira::serve
