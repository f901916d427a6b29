// Self-supervised training pairs from one noisy scan by lowering its dose
// further. The scan's counts are thinned binomially to a fraction q (the exact
// way to lower the dose of Poisson data): input = FBP of the thinned scan x_q.
// The target is (x - q x_q) / (1 - q), x the scan's own FBP: for Poisson counts
// E[x | x_q] = q x_q + (1 - q) s exactly (s the noise-free value; the log and
// the FBP are linear or nearly so at these counts), so the target's expectation
// given the input is the noise-free reconstruction and a model trained on it
// with the pixel MSE learns to remove this scan's noise (Noise2Noise; the
// correction is Noisier2Noise's, Moran et al., CVPR 2020, for thinning rather
// than added noise). Unlike Noise2Inverse's angle subsets, every input has all
// the scan's angles: no sparse-view streaks that the scan itself lacks. The
// plain target x would teach the model to keep a share q of the input's noise
// (x shares the input's photons).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sira/tomo/angle_splits.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

struct ThinningOptions {
  double flux = 0;                      // photons per pixel of an unattenuated ray; estimate_flux when unknown
  std::vector<double> doses{0.5};       // thinning fractions q, each in (0, 1)
  std::size_t realisations = 4;         // independent thinnings per dose
  std::uint64_t seed = 1;
};

// One pair per (dose, realisation). Throws sira::Error on a dose outside (0, 1),
// no dose, no realisation or a flux <= 0.
std::vector<SplitPair> thinning_pairs(const Sinograms& scan, const ThinningOptions& options,
                                      const FbpOptions& fbp_options);
// The same given the scan's own reconstruction fbp(scan, fbp_options), for a
// caller that needs it anyway (sira adapt restores it after training).
std::vector<SplitPair> thinning_pairs(const Sinograms& scan, const Stack& reconstruction,
                                      const ThinningOptions& options, const FbpOptions& fbp_options);

}  // namespace sira::tomo
