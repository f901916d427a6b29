// estimate_flux against sinograms simulated at a known flux (Poisson counts of a
// phantom's projections, sira's acquisition model) and against a hand case.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "sira/error.hpp"
#include "sira/tomo/acquisition.hpp"
#include "sira/tomo/flux_estimate.hpp"
#include "sira/tomo/phantom.hpp"
#include "sira/tomo/projector.hpp"

using namespace sira::tomo;

namespace {

Sinograms phantom_sinograms() {
  // Shepp-Logan: edges on few detector pixels, so the noise dominates most
  // second differences (as in real scans, whose detectors blur fine detail).
  PhantomOptions po;
  po.kind = PhantomKind::shepp_logan;
  po.size = 256;
  po.attenuation = 3.0;
  const sira::Stack phantom = make_phantom(po);
  return project(phantom, uniform_angles(180, M_PI), 256);
}

}  // namespace

TEST(FluxEstimate, RecoversTheFluxOfPoissonData) {
  const Sinograms clean = phantom_sinograms();
  // Within 8 % where the noise dominates the second differences; at high flux
  // the phantom's own curvature shows and the estimate is low (by ~15 % here).
  for (auto [flux, low, high] : {std::tuple{300.0, 0.92, 1.08}, {3000.0, 0.92, 1.08}, {30000.0, 0.8, 1.0}}) {
    DoseOptions o;
    o.flux = flux;
    o.seed = 5;
    const double got = estimate_flux(simulate_low_dose(clean, o));
    EXPECT_GT(got / flux, low) << "flux " << flux << " estimated " << got;
    EXPECT_LT(got / flux, high) << "flux " << flux << " estimated " << got;
  }
}

TEST(FluxEstimate, ThinnedDataGiveTheThinnedFlux) {
  DoseOptions o;
  o.flux = 20000;
  o.seed = 6;
  const Sinograms measured = simulate_low_dose(phantom_sinograms(), o);
  DoseOptions thin;
  thin.flux = 20000;
  thin.dose = 0.1;
  thin.seed = 7;
  EXPECT_NEAR(estimate_flux(thin_dose(measured, thin)) / 2000.0, 1.0, 0.08);
}

TEST(FluxEstimate, HandCase) {
  // Alternating +e/-e noise on a flat p = log 2: every second difference is
  // +-4e and d^2 exp(-p) = 8 e^2 exp(-+e): its lower quartile is 8 e^2 exp(-e)
  // or 8 e^2 exp(e), so I0 = 6 * 0.101531 / (8 e^2) within a factor exp(e).
  Sinograms s{sira::Stack(1, 4, 101), uniform_angles(4, M_PI), -1.0};
  const double e = 0.01;
  for (std::size_t i = 0; i < s.data.data.size(); ++i)
    s.data.data[i] = float(std::log(2.0) + ((i % 101) % 2 ? e : -e));
  EXPECT_NEAR(estimate_flux(s), 6 * 0.101531 / (8 * e * e), 1.1 * e * 6 * 0.101531 / (8 * e * e));
}

TEST(FluxEstimate, RefusesNoiseFreeOrTinyData) {
  Sinograms flat{sira::Stack(1, 3, 50), uniform_angles(3, M_PI), -1.0};
  EXPECT_THROW(estimate_flux(flat, "flat.h5"), sira::Error);
  Sinograms tiny{sira::Stack(1, 3, 2), uniform_angles(3, M_PI), -1.0};
  EXPECT_THROW(estimate_flux(tiny), sira::Error);
}
