// Training pairs for TomoGAN-family denoisers: (noisy, clean) reconstructions of
// the same slices, written in TomoGAN's layout, one HDF5 file with float32
// datasets train_ns, train_gt, test_ns, test_gt (slices x H x W; ns = noisy,
// gt = clean), /train_slices and /test_slices (source slice indices) and root
// attributes recording the source, every simulation parameter, seeds and the
// sira version.
//
// Sources:
//  - a phantom: phantom -> project (all angles) -> clean = reconstruction of the
//    noise-free projections (or the phantom itself); noisy = reconstruction of
//    Poisson data at flux * dose, optionally sparse view (every k-th angle).
//  - measured projections (Data Exchange / sinogram): clean = reconstruction of
//    all projections; noisy = the same after binomial dose thinning at an
//    assumed incident flux and/or sparse view.
// Split: the last test_fraction of the slices form one contiguous test block,
// separated from the training slices by one unused guard slice (when there are
// enough slices) so that 3-slice inputs never see a test slice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/acquisition.hpp"
#include "sira/tomo/dxchange.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/phantom.hpp"

namespace sira::tomo {

enum class ReconMethod { fbp, sirt };
ReconMethod parse_recon_method(const std::string& name);  // "fbp" | "sirt"
const char* recon_method_name(ReconMethod m);

// The clean target of phantom pairs: the reconstruction of noise-free data at
// all angles (recon), the phantom itself, or (measured) the reconstruction of a
// simulated full-dose measurement (Poisson counts at the flux, with the
// detector's blur, gains and read noise) from which the noisy data are then
// thinned, as the pairs of a real scan are made: clean and noisy share photons.
enum class CleanTarget { recon, phantom, measured };
CleanTarget parse_clean_target(const std::string& name);  // "recon" | "phantom" | "measured"
const char* clean_target_name(CleanTarget t);

struct PairOptions {
  std::string source = "phantom";  // "phantom" or a projections location (see load_projections)
  PhantomOptions phantom;          // phantom.slices = number of slices
  ProjectionInput input;           // for measured projections
  std::size_t angles = 0;          // phantom: projections over 180 degrees; 0 = round(pi / 2 * size)
  DoseOptions dose;                // noisy data: flux (I0) and dose fraction, detector effects
  // > 0: each slice's dose is drawn log-uniformly from [dose_min, dose.dose]
  // instead (noise-level variety in one file; the doses are stored per slice).
  double dose_min = 0;
  bool keep_noisy_sinograms = false;  // PairSet::noisy_sinograms: what the noisy slices were reconstructed from
  std::size_t sparse = 1;          // noisy data keeps every k-th angle
  double limited_arc_deg = 0;      // > 0: noisy data keeps angles within this arc from the first (limited angle)
  ReconMethod recon = ReconMethod::fbp;
  Filter filter = Filter::ramp;    // FBP filter
  int iterations = 100;            // SIRT iterations
  CleanTarget clean = CleanTarget::recon;
  double test_fraction = 0.1;
  std::uint64_t seed = 0;          // phantom seed; noise seeds derive from it
};

using AttributeValue = std::variant<double, std::int64_t, std::string>;  // integers stored as integers

struct PairSet {
  Stack train_ns, train_gt, test_ns, test_gt;
  std::vector<std::size_t> train_slices, test_slices;  // indices into the source slices
  std::vector<double> train_dose, test_dose;            // per slice, when drawn from a range
  Sinograms noisy_sinograms;                            // every slice's, with keep_noisy_sinograms
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  std::vector<std::string> notes;  // what was assumed (input normalisation, centre)
};

// Reports progress as (work done, total work) in slices reconstructed.
using PairProgress = std::function<void(std::size_t done, std::size_t total)>;

PairSet make_pairs(const PairOptions& options, const PairProgress& progress = {});

// Writes the pair file atomically (temporary name, renamed on success).
void write_pairs(const std::string& path, const PairSet& pairs);

// Which source slices go to test and train for `slices` slices (see the split rule above).
struct SliceSplit {
  std::vector<std::size_t> train, test;
  std::size_t guard = 0;
};
SliceSplit split_slices(std::size_t slices, double test_fraction);

}  // namespace sira::tomo
