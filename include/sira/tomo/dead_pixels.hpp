// Dead and hot detector pixels, found from reference frames and interpolated in
// every projection.
//
// A detector pixel is defective when, over the reference frames (flat fields
// minus dark; or the projections themselves when there is no flat field):
//  - zero:     its median value is <= 0 (no response; intensity samples only);
//  - off:      the median over the frames of |v / m - 1| exceeds `tolerance`,
//              m being the median of the `window` pixels centred on it along its
//              detector row (edges mirrored); a pixel that is 0 in some frames and
//              too bright in the others is caught, a sample edge that crosses it in
//              a few projections is not. Line integrals p compare exp(m - p);
//  - constant: it reads exactly the same value in every projection (stuck) while
//              most of its row neighbours in the window do not.
// Interpolation is linear along the detector row between the nearest good pixels
// on each side (the nearest good one at a detector edge), which suits dead
// columns: the usual defect that turns into a ring or a streak.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sira/tomo/zingers.hpp"

namespace sira::tomo {

struct DeadPixelOptions {
  double tolerance = 0.1;  // relative deviation from the neighbours' median
  int window = 7;          // odd, along the detector row
};

enum class DeadReason : std::uint8_t { good = 0, zero = 1, off = 2, constant = 3 };

struct DeadPixelMap {
  std::size_t rows = 0, cols = 0;
  std::vector<DeadReason> reason;  // rows x cols
  bool dead(std::size_t r, std::size_t c) const { return reason[r * cols + c] != DeadReason::good; }
  std::size_t count() const;
  std::size_t count(DeadReason why) const;
  // Columns dead in every row that was examined (`examined`: rows; empty = all).
  std::vector<std::size_t> dead_columns(const std::vector<std::size_t>& examined = {}) const;
  // "3 dead/hot pixels (2 off their neighbours, 1 constant); columns 314, 346 dead in every row"
  std::string describe(const std::vector<std::size_t>& examined = {}) const;
};

// Reference frames as rows: frame(f, r) points at `cols` samples of detector row r
// in frame f (f < frames).
struct FrameSource {
  std::size_t frames = 0, rows = 0, cols = 0;
  std::function<const float*(std::size_t frame, std::size_t row)> row;
};

// Examines the listed detector rows (empty = all) of `refs`; `constant` (rows x
// cols, may be empty) marks pixels already known to be stuck. Others stay good.
DeadPixelMap find_dead_pixels(const FrameSource& refs, const DeadPixelOptions& o,
                              SampleDomain domain = SampleDomain::intensity,
                              const std::vector<std::size_t>& rows = {},
                              const std::vector<std::uint8_t>& constant = {});

// Replaces the defective pixels of one detector row `r` (cols samples).
void interpolate_dead_pixels(float* line, std::size_t r, const DeadPixelMap& map);

}  // namespace sira::tomo
