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
#include <memory>
#include <string>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/backprojection.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::serve {

// The first reconstruction of a series built as the projections arrive: the
// receiver opens it at the series' first projection once darks and flats are
// known (their means then are the ones line_integrals() would use), the worker
// normalises, filters and back-projects each projection into it, and the job
// of the projection that completes 180 degrees only adds its own and scales.
// fbp() runs the same BackprojectionAccumulator on the same projections in the
// same order, so the result is bit for bit the whole-window one.
struct IncrementalRecon {
  std::vector<std::size_t> rows;
  std::size_t cols = 0;
  std::vector<double> dark, denom;  // rows x cols: dark mean, (flat - dark) repaired as line_integrals() does
  double center = -1;
  tomo::Filter filter = tomo::Filter::ramp;
  // Worker side.
  std::unique_ptr<tomo::BackprojectionAccumulator> sums;
  std::string error;  // a projection the back-projection refused: the reconstruction is bad_data
};

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
  // Set: an incremental step. `counts` is then one projection (rows x 1 x cols) at
  // theta.back(), added to `incremental`; with `publish` the reconstruction is
  // complete (theta: every angle of the window, for the weight), else nothing is
  // published and frames is 0.
  std::shared_ptr<IncrementalRecon> incremental;
  bool publish = true;
};

// flat - dark per pixel of each requested row, pixels with flat <= dark replaced
// by their row's mean good value (counted in *repaired); throws if a row has none.
std::vector<double> flat_denominators(const std::vector<double>& flat, const std::vector<double>& dark,
                                      const std::vector<std::size_t>& rows, std::size_t cols, std::size_t* repaired);

// rows x projections x cols line integrals; `note` (if given) tells about repaired flat pixels.
tomo::Sinograms line_integrals(const ReconJob& job, std::string* note = nullptr);
// rows x size x size slices (size = cols) of a whole-window job.
Stack reconstruct(const ReconJob& job);
// A publishing incremental job: adds its projection and returns the sums, whose
// finish_slice(r, tomo::angular_weight(job.theta), job.circle_mask) is row r's slice.
const tomo::BackprojectionAccumulator& incremental_sums(const ReconJob& job);
// An incremental job that does not publish: adds its projection.
void accumulate(const ReconJob& job);
// Consecutive such jobs of one reconstruction, in order, added in one pass over
// the sums (the same result as one at a time, faster when the worker is behind).
void accumulate(const std::vector<const ReconJob*>& steps);

}  // namespace sira::serve
