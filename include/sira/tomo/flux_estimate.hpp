// The photon flux behind line-integral sinograms, estimated from their own noise.
//
// Sinograms stored as line integrals p = -log(I / I0) no longer say how many
// photons they were made of, yet thinning them to a lower dose (sira adapt's
// thinning pairs, sira pairs on a scan without flats) needs the count level I0.
// For Poisson counts the variance of p at a pixel is exp(p) / I0, so the
// second difference d = p[i-1] - 2 p[i] + p[i+1] along the detector, where the
// object varies slowly, has variance 6 exp(p) / I0. The lower quartile over all
// pixels of d^2 exp(-p) is then 6 / I0 times that of a chi-square with one degree
// of freedom (0.1015): robust to the edges where the object itself curves, which
// only add to d^2.
// Detector blur correlates neighbouring pixels and makes the estimate high
// (the data look cleaner than their counts); tests/unit/test_tomo_flux_estimate.cpp.
#pragma once

#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

// Photons per detector pixel per projection for an unattenuated ray (I0).
// Throws sira::Error (naming `what`) when the sinograms are too small or
// noise-free (a median second difference of zero).
double estimate_flux(const Sinograms& sinograms, const char* what = "sinograms");

}  // namespace sira::tomo
