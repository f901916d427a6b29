#include "sira/tomo/pairs.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/tomo/center.hpp"
#include "sira/tomo/projector.hpp"
#include "sira/tomo/sirt.hpp"

#ifndef SIRA_VERSION_STRING
#define SIRA_VERSION_STRING "unknown"
#endif

namespace sira::tomo {

namespace {

constexpr std::size_t kChunkSlices = 8;  // slices reconstructed per step (progress, memory)
constexpr std::uint64_t kNoiseStream = 1;
constexpr std::uint64_t kDoseStream = 0x646f736500000000ull;  // per-slice doses, apart from the noise streams
constexpr std::uint64_t kMeasuredStream = 0x6d65617300000000ull;  // the full-dose measurement of --clean measured

Sinograms slice_range(const Sinograms& s, std::size_t first, std::size_t count) {
  Sinograms out{Stack(count, s.data.height, s.data.width), s.theta, s.center};
  std::copy_n(s.data.slice(first), count * s.data.slice_size(), out.data.data.begin());
  return out;
}

Stack reconstruct(const Sinograms& s, std::size_t size, const PairOptions& o) {
  if (o.recon == ReconMethod::fbp) {
    FbpOptions f;
    f.filter = o.filter;
    f.size = size;
    f.circle_mask = true;
    return fbp(s, f);
  }
  SirtOptions so;
  so.iterations = o.iterations;
  so.size = size;
  so.circle_mask = true;
  return sirt(s, so).images;
}

// Copies the listed slices of `src` into a new stack.
Stack gather(const Stack& src, const std::vector<std::size_t>& slices) {
  if (slices.empty()) {
    Stack empty;
    empty.height = src.height;
    empty.width = src.width;
    empty.is_2d = false;
    return empty;
  }
  Stack out(slices.size(), src.height, src.width);
  out.is_2d = false;
  for (std::size_t i = 0; i < slices.size(); ++i)
    std::copy_n(src.slice(slices[i]), src.slice_size(), out.slice(i));
  return out;
}

// Measured data needs thinning only for a lower dose or added detector effects.
bool lowers_dose(const DoseOptions& d) {
  return d.dose < 1 || d.read_noise > 0 || d.dark > 0 || d.gain_spread > 0;
}

// Thinning works on transmissions exp(-p): line integrals far beyond any real
// attenuation mean the file is not in natural-log units (e.g. scaled).
void check_thinnable(const Sinograms& s, const std::string& source) {
  const float largest = *std::max_element(s.data.data.begin(), s.data.data.end());
  if (largest > 30)
    fail(source, ": line integrals reach ", largest, " (transmission exp(-", largest,
         ") underflows), so the dose cannot be lowered; if the values are scaled, give --scale "
         "(e.g. 0.001) or use --dose 1 with --sparse");
}

void check_options(const PairOptions& o) {
  if (!(o.test_fraction >= 0 && o.test_fraction < 1))
    fail("pairs: test fraction must be in [0, 1) (got ", o.test_fraction, ")");
  if (o.sparse < 1) fail("pairs: sparse step must be at least 1");
  if (!(o.limited_arc_deg >= 0) || !std::isfinite(o.limited_arc_deg))
    fail("pairs: limited arc must be >= 0 degrees (got ", o.limited_arc_deg, ")");
  if (o.recon == ReconMethod::sirt && o.iterations < 1) fail("pairs: SIRT needs at least 1 iteration");
  check_dose_options(o.dose);
  if (o.dose_min != 0 && !(o.dose_min > 0 && o.dose_min <= o.dose.dose))
    fail("pairs: the dose range ", o.dose_min, ":", o.dose.dose, " is not 0 < low <= high <= 1");
  if (o.dose.blur > 0 && o.source != "phantom")
    fail("pairs: detector blur is simulated for phantoms only (measured data carry their detector's own)");
}

// Log-uniform dose of source slice z in [lo, hi], from its own stream.
double slice_dose(std::uint64_t noise_seed, std::size_t z, double lo, double hi) {
  std::mt19937_64 rng(derive_seed(noise_seed, kDoseStream + z));
  return lo * std::pow(hi / lo, std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

}  // namespace

ReconMethod parse_recon_method(const std::string& name) {
  if (name == "fbp") return ReconMethod::fbp;
  if (name == "sirt") return ReconMethod::sirt;
  fail("unknown reconstruction method '", name, "' (expected fbp or sirt)");
}

const char* recon_method_name(ReconMethod m) { return m == ReconMethod::fbp ? "fbp" : "sirt"; }

CleanTarget parse_clean_target(const std::string& name) {
  if (name == "recon") return CleanTarget::recon;
  if (name == "phantom") return CleanTarget::phantom;
  if (name == "measured") return CleanTarget::measured;
  fail("unknown clean target '", name, "' (expected recon, phantom or measured)");
}

const char* clean_target_name(CleanTarget t) {
  return t == CleanTarget::recon ? "recon" : t == CleanTarget::phantom ? "phantom" : "measured";
}

SliceSplit split_slices(std::size_t slices, double test_fraction) {
  SliceSplit split;
  std::size_t n_test = 0;
  if (test_fraction > 0) n_test = std::max<std::size_t>(1, std::size_t(std::llround(test_fraction * double(slices))));
  if (n_test >= slices)
    fail("pairs: ", slices, " slice(s) leave none for training with test fraction ", test_fraction);
  // One guard slice between the blocks when at least one training slice remains.
  split.guard = (n_test > 0 && slices - n_test >= 2) ? 1 : 0;
  const std::size_t n_train = slices - n_test - split.guard;
  for (std::size_t i = 0; i < n_train; ++i) split.train.push_back(i);
  for (std::size_t i = slices - n_test; i < slices; ++i) split.test.push_back(i);
  return split;
}

PairSet make_pairs(const PairOptions& o, const PairProgress& progress) {
  check_options(o);
  PairSet out;
  auto attr = [&](const std::string& name, AttributeValue v) { out.attributes.emplace_back(name, std::move(v)); };
  const bool from_phantom = o.source == "phantom";
  const std::uint64_t noise_seed = derive_seed(o.seed, kNoiseStream);

  // Source: clean sinograms (line integrals) and, for phantoms, the phantom.
  Sinograms full;
  Stack phantom;
  std::size_t size = 0;
  if (from_phantom) {
    PhantomOptions po = o.phantom;
    po.seed = o.seed;
    phantom = make_phantom(po);
    size = po.size;
    const std::size_t n_angles =
        o.angles ? o.angles : std::size_t(std::llround(std::numbers::pi / 2 * double(size)));
    full.theta = uniform_angles(n_angles, std::numbers::pi);
    full.data = Stack(phantom.depth, n_angles, size);  // filled per chunk below
    attr("source", std::string("phantom"));
    attr("phantom_type", std::string(phantom_kind_name(po.kind)));
    attr("phantom_size", std::int64_t(po.size));
    attr("phantom_seed", std::to_string(po.seed));
    attr("phantom_attenuation", po.attenuation);
    attr("phantom_supersample", std::int64_t(effective_supersample(po)));
    attr("clean_target", std::string(clean_target_name(o.clean)));
    if (o.clean == CleanTarget::measured)
      attr("noise_model", std::string("full-dose Poisson measurement at the flux (the clean target), noisy data "
                                      "by binomial thinning of its counts"));
  } else {
    if (o.clean != CleanTarget::recon)
      fail("pairs: --clean ", clean_target_name(o.clean), " needs a phantom source (a measured scan's clean target "
           "is its own full-dose reconstruction)");
    InputReport report;
    full = load_projections(o.source, o.input, &report);
    size = full.data.width;
    if (o.input.center < 0) {
      full.center = find_center(full);
      out.notes.push_back(cat("rotation centre found automatically: ", full.center));
    }
    for (auto& n : report.notes) out.notes.push_back(n);
    for (auto& w : report.warnings) out.notes.push_back("warning: " + w);
    if (lowers_dose(o.dose)) check_thinnable(full, o.source);
    attr("source", o.source);
    attr("source_layout", report.layout);
    attr("source_angles_were_degrees", report.angles_were_degrees ? std::int64_t(1) : std::int64_t(0));
    attr("source_bad_flat_pixels", std::int64_t(report.bad_flat_pixels));
    attr("source_raw_counts", o.input.raw_counts ? std::int64_t(1) : std::int64_t(0));
    attr("source_transposed", o.input.transpose ? std::int64_t(1) : std::int64_t(0));
    attr("source_scale", o.input.scale);
    attr("source_zinger_threshold", o.input.zingers ? o.input.zingers->threshold : 0.0);  // 0 = not removed
    if (o.input.zingers) {
      attr("source_zinger_size", std::int64_t(o.input.zingers->size));
      attr("source_zingers_replaced", std::int64_t(report.zingers));
      attr("source_zingers_in_flats", std::int64_t(report.zingers_flats));
      attr("source_zingers_in_darks", std::int64_t(report.zingers_darks));
    }
    attr("source_dead_pixels_fixed", o.input.dead_pixels ? std::int64_t(1) : std::int64_t(0));
    if (o.input.dead_pixels) {
      attr("source_dead_pixel_tolerance", o.input.dead_pixels->tolerance);
      attr("source_dead_pixels", std::int64_t(report.dead_pixels));
    }
    attr("source_stripe_size", std::int64_t(o.input.stripes ? o.input.stripes->size : 0));  // 0 = not removed
    attr("clean_target", std::string("recon"));
    attr("noise_model", std::string(lowers_dose(o.dose) ? "binomial thinning of implied counts round(flux * exp(-p))"
                                                        : "none (full dose: measured data as is)"));
  }
  const std::size_t slices = full.data.depth, n_angles = full.theta.size();
  const SliceSplit split = split_slices(slices, o.test_fraction);

  Stack clean(slices, size, size), noisy(slices, size, size);
  std::vector<double> doses(o.dose_min > 0 ? slices : 0);
  std::size_t noisy_angles = 0;
  for (std::size_t first = 0; first < slices; first += kChunkSlices) {
    const std::size_t count = std::min(kChunkSlices, slices - first);
    Sinograms clean_sino;
    if (from_phantom) {
      Stack part(count, size, size);
      std::copy_n(phantom.slice(first), count * phantom.slice_size(), part.data.begin());
      clean_sino = project(part, full.theta, size);
    } else {
      clean_sino = slice_range(full, first, count);
    }
    DoseOptions dose = o.dose;
    dose.seed = derive_seed(noise_seed, first);  // fixed chunking: deterministic
    const bool measured_reference = from_phantom && o.clean == CleanTarget::measured;
    if (measured_reference) {
      // The phantom's full-dose scan, detector effects included: from here on it
      // is treated exactly as the data of a real scan.
      DoseOptions full = o.dose;
      full.dose = 1;
      full.seed = derive_seed(noise_seed, kMeasuredStream + first);
      clean_sino = simulate_low_dose(clean_sino, full);
    }
    auto lower = [&](const Sinograms& s, const DoseOptions& d) {
      if (measured_reference) {  // thinning only: the detector effects are in the measurement already
        DoseOptions thin;
        thin.flux = d.flux, thin.dose = d.dose, thin.seed = d.seed;
        return d.dose < 1 ? thin_dose(s, thin) : s;
      }
      return from_phantom ? simulate_low_dose(s, d) : lowers_dose(d) ? thin_dose(s, d) : s;
    };
    Sinograms noisy_sino;
    if (o.dose_min > 0) {  // one dose per slice
      noisy_sino = clean_sino;
      for (std::size_t k = 0; k < count; ++k) {
        DoseOptions dk = dose;
        dk.dose = doses[first + k] = slice_dose(noise_seed, first + k, o.dose_min, o.dose.dose);
        dk.seed = derive_seed(dose.seed, k);
        const Sinograms one = lower(slice_range(clean_sino, k, 1), dk);
        std::copy(one.data.data.begin(), one.data.data.end(), noisy_sino.data.slice(k));
      }
    } else {
      noisy_sino = lower(clean_sino, dose);  // measured data at full dose stays as it is
    }
    // The clean target sees the detector's blur too (without its noise).
    if (from_phantom && !measured_reference && o.dose.blur > 0)
      clean_sino = blur_line_integrals(clean_sino, o.dose.blur);
    if (o.sparse > 1) noisy_sino = keep_every_kth_angle(noisy_sino, o.sparse);
    if (o.limited_arc_deg > 0) {
      const double first = noisy_sino.theta.front();
      noisy_sino = keep_angle_range(noisy_sino, first, first + o.limited_arc_deg * std::numbers::pi / 180);
    }
    noisy_angles = noisy_sino.theta.size();
    if (o.keep_noisy_sinograms) {
      Sinograms& keep = out.noisy_sinograms;
      if (first == 0) keep = {Stack(slices, noisy_sino.data.height, noisy_sino.data.width), noisy_sino.theta,
                              noisy_sino.center};
      std::copy(noisy_sino.data.data.begin(), noisy_sino.data.data.end(), keep.data.slice(first));
    }

    const Stack noisy_part = reconstruct(noisy_sino, size, o);
    std::copy(noisy_part.data.begin(), noisy_part.data.end(), noisy.slice(first));
    if (from_phantom && o.clean == CleanTarget::phantom) {
      std::copy_n(phantom.slice(first), count * phantom.slice_size(), clean.slice(first));
    } else {
      const Stack clean_part = reconstruct(clean_sino, size, o);
      std::copy(clean_part.data.begin(), clean_part.data.end(), clean.slice(first));
    }
    if (progress) progress(first + count, slices);
  }

  out.train_ns = gather(noisy, split.train);
  out.train_gt = gather(clean, split.train);
  out.test_ns = gather(noisy, split.test);
  out.test_gt = gather(clean, split.test);
  out.train_slices = split.train;
  out.test_slices = split.test;
  if (!doses.empty()) {
    for (std::size_t z : split.train) out.train_dose.push_back(doses[z]);
    for (std::size_t z : split.test) out.test_dose.push_back(doses[z]);
  }

  attr("layout", std::string("TomoGAN: train_ns, train_gt, test_ns, test_gt (slices x H x W, float32; ns = noisy, gt = clean)"));
  attr("units", std::string("attenuation per pixel (reconstructed line integrals / pixel length)"));
  attr("sira_version", std::string(SIRA_VERSION_STRING));
  attr("seed", std::to_string(o.seed));
  attr("noise_seed", std::to_string(noise_seed));  // 64-bit: kept exact as text
  attr("slices", std::int64_t(slices));
  attr("angles", std::int64_t(n_angles));
  attr("angle_first_rad", full.theta.front());
  attr("angle_last_rad", full.theta.back());
  attr("center", full.center_or_default());
  attr("flux", o.dose.flux);
  attr("dose", o.dose.dose);
  attr("dose_min", o.dose_min);  // > 0: per-slice doses in /train_dose, /test_dose
  attr("detector_blur", o.dose.blur);
  attr("read_noise", o.dose.read_noise);
  attr("dark", o.dose.dark);
  attr("gain_spread", o.dose.gain_spread);
  attr("sparse", std::int64_t(o.sparse));
  attr("limited_arc_deg", o.limited_arc_deg);
  attr("noisy_angles", std::int64_t(noisy_angles));
  attr("recon", std::string(recon_method_name(o.recon)));
  attr("filter", std::string(filter_name(o.filter)));
  attr("iterations", std::int64_t(o.recon == ReconMethod::sirt ? o.iterations : 0));
  attr("test_fraction", o.test_fraction);
  attr("guard_slices", std::int64_t(split.guard));
  attr("train_count", std::int64_t(split.train.size()));
  attr("test_count", std::int64_t(split.test.size()));
  return out;
}

void write_pairs(const std::string& path, const PairSet& p) {
  H5File f = H5File::create(path);
  auto write_set = [&](const char* name, const Stack& s) {
    if (s.depth == 0) fail(path, ": dataset ", name, " would be empty");
    f.write(name, s, DType::f32);
  };
  write_set("/train_ns", p.train_ns);
  write_set("/train_gt", p.train_gt);
  if (!p.test_slices.empty()) {
    write_set("/test_ns", p.test_ns);
    write_set("/test_gt", p.test_gt);
  }
  auto as_doubles = [](const std::vector<std::size_t>& v) { return std::vector<double>(v.begin(), v.end()); };
  f.write_vector("/train_slices", as_doubles(p.train_slices));
  if (!p.test_slices.empty()) f.write_vector("/test_slices", as_doubles(p.test_slices));
  if (!p.train_dose.empty()) f.write_vector("/train_dose", p.train_dose);
  if (!p.test_dose.empty()) f.write_vector("/test_dose", p.test_dose);
  for (const auto& attribute : p.attributes)  // not a structured binding: clang 14 cannot capture one
    std::visit([&](const auto& v) { f.set_attr("/", attribute.first, v); }, attribute.second);
  f.commit();
}

}  // namespace sira::tomo
