#include "sira/tomo/thinning_pairs.hpp"

#include <cmath>

#include "sira/error.hpp"
#include "sira/tomo/acquisition.hpp"

namespace sira::tomo {

std::vector<SplitPair> thinning_pairs(const Sinograms& scan, const ThinningOptions& o, const FbpOptions& fo) {
  return thinning_pairs(scan, fbp(scan, fo), o, fo);
}

std::vector<SplitPair> thinning_pairs(const Sinograms& scan, const Stack& target, const ThinningOptions& o,
                                      const FbpOptions& fo) {
  if (!(o.flux > 0) || !std::isfinite(o.flux)) fail("thinning pairs: the photon flux must be > 0, got ", o.flux);
  if (o.doses.empty()) fail("thinning pairs: no dose given");
  if (o.realisations < 1) fail("thinning pairs: need at least one realisation per dose");
  for (double q : o.doses)
    if (!(q > 0 && q < 1)) fail("thinning pairs: each dose must lie in (0, 1), got ", q);
  // target: x, the scan's own reconstruction
  std::vector<SplitPair> out;
  for (std::size_t d = 0; d < o.doses.size(); ++d)
    for (std::size_t r = 0; r < o.realisations; ++r) {
      DoseOptions thin;
      thin.flux = o.flux;
      thin.dose = o.doses[d];
      thin.seed = derive_seed(o.seed, d * 1000 + r);
      Stack input = fbp(thin_dose(scan, thin), fo);
      Stack clean = target;
      const float q = float(o.doses[d]), w = 1.0f / (1.0f - q);
      for (std::size_t i = 0; i < clean.size(); ++i) clean.data[i] = (target.data[i] - q * input.data[i]) * w;
      out.push_back({std::move(input), std::move(clean)});
    }
  return out;
}

}  // namespace sira::tomo
