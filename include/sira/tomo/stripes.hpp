// Stripe (ring) artefact removal on sinograms by sorting: Vo, Atwood and
// Drakopoulos, "Superior techniques for eliminating ring artifacts in X-ray
// micro-tomography", Opt. Express 26, 28396 (2018), algorithm 3 (as algotom's
// remove_stripe_based_sorting with dim=1).
//
// A detector pixel with a gain or offset error draws a stripe along the angles
// of the sinogram. Sorting each detector column along the angles turns the
// object's contribution into smooth monotone profiles and the error of a pixel
// into a step between neighbouring columns; a median filter across the columns
// (window `size`, along the detector, one angle at a time, edges mirrored as
// scipy.ndimage 'reflect') removes the step; the values return to their angles
// by the inverse of each column's sort.
#pragma once

#include <cstddef>

#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

struct StripeOptions {
  int size = 21;  // median window across detector columns (odd, >= 3); algotom's default
};

// Throws sira::Error unless size is odd, >= 3 and at most the detector width.
void check_stripe_options(const StripeOptions& o, std::size_t width);

// One sinogram (angles x width, row-major), in place.
void remove_stripes_sorting(float* sinogram, std::size_t angles, std::size_t width, const StripeOptions& o);

// Every slice of a sinogram stack.
void remove_stripes_sorting(Sinograms& s, const StripeOptions& o);

}  // namespace sira::tomo
