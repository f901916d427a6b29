// Zinger (gamma spot) removal on projections, TomoPy's remove_outlier rule made
// relative: a sample v whose size x size neighbourhood median m (edges mirrored
// as scipy.ndimage's mode 'reflect': d c b a | a b c d) satisfies
//     v - m > threshold * |m|
// is replaced by m. Zingers are bright, so only positive outliers are replaced.
// In flat/dark-corrected transmission (open beam = 1) this is TomoPy's
// `where(arr - median >= dif, median, arr)` with dif = threshold near the open
// beam; relative, it also applies unchanged to raw flats, darks and counts.
//
// Line integrals p = -log(T): the median commutes with the monotone exp(-p), so
// the same rule reads p < m - log(1 + threshold) (a zinger is a dip in p), and p
// is replaced by m, exactly as if the rule had run on exp(-p).
#pragma once

#include <cstddef>
#include <vector>

#include "sira/stack.hpp"

namespace sira::tomo {

enum class SampleDomain { intensity, line_integral };

struct ZingerOptions {
  double threshold = 0.2;  // relative excess over the neighbourhood median
  int size = 3;            // neighbourhood: 3 (3x3) or 5 (5x5)
};

// Throws sira::Error unless threshold > 0 (finite) and size is 3 or 5.
void check_zinger_options(const ZingerOptions& o);

// Filters one image (height x width, row-major) in place; all medians are taken
// from the unfiltered image. With `rows`, only those rows are filtered (their
// neighbour rows, within size / 2, must hold valid data; others are not read).
// Returns the number of samples replaced.
std::size_t remove_zingers(float* image, std::size_t height, std::size_t width, const ZingerOptions& o,
                           SampleDomain domain = SampleDomain::intensity,
                           const std::vector<std::size_t>* rows = nullptr);

// Every slice of a stack (e.g. flat or dark frames); returns the total replaced.
std::size_t remove_zingers(Stack& frames, const ZingerOptions& o, SampleDomain domain = SampleDomain::intensity);

}  // namespace sira::tomo
