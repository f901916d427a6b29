// sira pairs: make TomoGAN training pairs (noisy, clean reconstructions) from a
// simulated phantom or from measured projections, in one HDF5 file.
#include <memory>
#include <optional>

#include "command.hpp"
#include "preprocess_options.hpp"
#include "progress.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/tomo/pairs.hpp"

namespace sira::cli {
namespace {

struct PairsCliOptions {
  tomo::PairOptions pairs;
  std::string phantom_type = "foam", recon = "fbp", clean = "recon", filter = "ramp";
  std::string rows, angle_range, unit = "auto", output, preview, sinograms_out, noisy_sinograms_out;
  bool sinograms_only = false;
  PreprocessCli pre;
};

Runner setup_pairs(CLI::App& sub) {
  auto opts = std::make_shared<PairsCliOptions>();
  auto& p = opts->pairs;
  p.phantom.kind = tomo::PhantomKind::foam;
  p.phantom.slices = 16;
  p.dose.dose = 0.1;
  sub.add_option("--from", p.source,
                 "'phantom', a Data Exchange file (tooth.h5), an HDF5 file with /sinogram + /angles_rad, "
                 "or a sinogram location (s.tif, s.npy, s.h5:/path)")
      ->capture_default_str();
  auto* g = sub.add_option_group("Phantom source");
  g->add_option("--phantom", opts->phantom_type, "Phantom type")
      ->check(CLI::IsMember({"shepp-logan", "foam", "mixed"}))->capture_default_str();
  g->add_option("--size", p.phantom.size, "Phantom width = height (pixels)")->capture_default_str()
      ->check(CLI::Range(8, 8192));
  g->add_option("--slices", p.phantom.slices, "Phantom slices (a 3-D volume; adjacent slices correlate)")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  g->add_option("--angles", p.angles, "Projections over 180 degrees (0 = pi/2 * size)")->capture_default_str();
  g->add_option("--attenuation", p.phantom.attenuation,
                "Line integral of density-1 material across the image width (sets the transmission range)")
      ->capture_default_str();
  g->add_option("--clean", opts->clean,
                "Clean target: recon (of noise-free, all-angle data), phantom, or measured (the recon of a "
                "simulated full-dose scan at --flux, the noisy data thinned from its counts as for a real scan)")
      ->check(CLI::IsMember({"recon", "phantom", "measured"}))->capture_default_str();
  auto* m = sub.add_option_group("Measured source");
  m->add_option("--rows", opts->rows, "Detector rows (slices): all, 5, 0-9, 0-100:10, or a comma list");
  m->add_option("--theta", opts->angle_range,
                "Angles as START:STOP[:COUNT] (stop excluded), overriding the file's");
  m->add_option("--theta-unit", opts->unit, "Angle unit: auto (degrees if max > 2 pi), deg, rad")
      ->check(CLI::IsMember({"auto", "deg", "rad"}))->capture_default_str();
  m->add_option("--angles-dataset", p.input.angles_dataset, "HDF5 dataset with the angles (plain sinograms)");
  m->add_flag("--subtract-first-angle", p.input.subtract_first_angle, "Angles carry a constant offset");
  m->add_flag("--transpose", p.input.transpose, "Sinogram stored as detector x angles");
  m->add_flag("--raw-counts", p.input.raw_counts,
              "Sinogram of raw counts without flat field: normalise each projection by its open-beam estimate, -log");
  m->add_option("--scale", p.input.scale, "Multiply plain line integrals by this (unit conversion)")
      ->capture_default_str();
  m->add_option("--max-bad-flats", p.input.max_bad_flat_fraction,
                "Tolerated share of flat pixels with white <= dark (replaced by the row's mean flat)")
      ->capture_default_str();
  m->add_option("--center", p.input.center, "Rotation centre in pixels (default: found automatically)");
  add_preprocess_options(sub, opts->pre, "Measured source pre-processing");
  auto* n = sub.add_option_group("Noisy data");
  n->add_option("--dose", p.dose.dose, "Dose fraction (0, 1] of the noisy scan")->capture_default_str();
  n->add_option("--dose-min", p.dose_min,
                "Draw each slice's dose log-uniformly from [DOSE_MIN, --dose] (noise-level variety; stored per slice)");
  n->add_option("--blur", p.dose.blur,
                "Phantoms: detector blur, Gaussian sigma in pixels on the counts (correlated noise, as a scintillator)")
      ->capture_default_str();
  n->add_option("--flux", p.dose.flux, "Incident photons per detector pixel per projection at full dose "
                                       "(measured data: the assumed flux)")->capture_default_str();
  n->add_option("--sparse", p.sparse, "Noisy data keeps every K-th projection")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  n->add_option("--limited-arc", p.limited_arc_deg,
                "Noisy data keeps only angles within this many degrees of the first (limited angle; 0 = off)")
      ->capture_default_str();
  n->add_option("--read-noise", p.dose.read_noise, "Gaussian detector noise (sigma, counts)")->capture_default_str();
  n->add_option("--dark", p.dose.dark, "Dark offset (counts)")->capture_default_str();
  n->add_option("--gain-spread", p.dose.gain_spread, "Relative per-pixel gain error (ring artefacts)")
      ->capture_default_str();
  sub.add_option("--recon", opts->recon, "Reconstruction: fbp or sirt")
      ->check(CLI::IsMember({"fbp", "sirt"}))->capture_default_str();
  sub.add_option("--filter", opts->filter, "FBP filter: ramp, shepp-logan, cosine, hann")->capture_default_str();
  sub.add_option("--iterations", p.iterations, "SIRT iterations")->capture_default_str()->check(CLI::Range(1, 100000));
  sub.add_option("--test-fraction", p.test_fraction, "Share of slices held apart for testing (one block)")
      ->capture_default_str();
  sub.add_option("--seed", p.seed, "Seed of the phantom and the noise")->capture_default_str();
  sub.add_option("-o,--output", opts->output, "Output pair file (.h5); required unless --sinograms-only");
  sub.add_option("--preview", opts->preview, "PNG of the first test (or train) slice: noisy | clean");
  sub.add_option("--sinograms-out", opts->sinograms_out,
                 "Measured source: also write the input sinograms as read and normalised (line integrals,\n"
                 "slices x angles x detector), e.g. sino.npy, to check flat/dark correction and -log");
  sub.add_flag("--sinograms-only", opts->sinograms_only, "With --sinograms-out: stop after writing them");
  sub.add_option("--noisy-sinograms-out", opts->noisy_sinograms_out,
                 "Also write the degraded sinograms the noisy slices come from, as an HDF5 file with\n"
                 "/noisy_sinograms (slices x angles x detector) and /theta (radians): e.g. to run sira adapt\n"
                 "on them (-i F.h5:/noisy_sinograms --theta /theta --angle-unit rad --center C)");
  sub.footer(
      "Writes train_ns, train_gt, test_ns, test_gt (slices x H x W float32; ns = noisy,\n"
      "gt = clean), /train_slices, /test_slices and root attributes with every parameter.\n"
      "Examples:\n"
      "  sira pairs --from phantom --slices 32 --size 256 --dose 0.05 -o foam_pairs.h5\n"
      "  sira pairs --from phantom --phantom shepp-logan --slices 8 --sparse 8 --recon sirt -o sl.h5\n"
      "  sira pairs --from phantom --phantom mixed --slices 32 --dose 0.5 --dose-min 0.01 --blur 0.8 -o mix.h5\n"
      "  sira pairs --from tooth_aps.h5 --dose 0.1 --flux 20000 --test-fraction 0.5 -o tooth_pairs.h5\n"
      "  sira pairs --from dendrite_sinogram.h5 --scale 0.001 --dose 0.2 --center 630 \\\n"
      "             --test-fraction 0 -o dendrite_pairs.h5   (its values are line integrals x 1000)\n"
      "  sira pairs --from neutron_sinogram_360.tif --raw-counts --theta 0:360 --sparse 4 \\\n"
      "             --test-fraction 0 -o neutron_pairs.h5");
  return [opts] {
    auto& p = opts->pairs;
    p.phantom.kind = tomo::parse_phantom_kind(opts->phantom_type);
    p.recon = tomo::parse_recon_method(opts->recon);
    p.clean = tomo::parse_clean_target(opts->clean);
    p.filter = tomo::parse_filter(opts->filter);
    p.input.rows_spec = opts->rows;
    p.input.unit = tomo::parse_angle_unit(opts->unit);
    if (!opts->angle_range.empty()) p.input.angle_range = tomo::parse_angle_range(opts->angle_range);
    apply_preprocess_options(opts->pre, p.input);
    if (p.source == "phantom" && (p.input.zingers || p.input.dead_pixels || p.input.stripes))
      fail("--remove-zingers, --fix-dead-pixels and --remove-stripes need a measured source (--from FILE)");
    if (opts->output.empty() && !opts->sinograms_only) fail("an output pair file is required (-o OUT.h5)");
    if (!opts->output.empty() && parse_location(opts->output + ":/x").format != Format::hdf5)
      fail(opts->output, ": the pair file must be HDF5 (.h5, .hdf5)");
    if (!opts->sinograms_out.empty()) {
      if (p.source == "phantom") fail("--sinograms-out needs a measured source (--from FILE)");
      tomo::InputReport report;
      const tomo::Sinograms sino = tomo::load_projections(p.source, p.input, &report);
      print_input_report("sira pairs", report);
      write_stack(opts->sinograms_out, sino.data, DType::f32);
      status(cat("sira pairs: wrote the ", report.layout, " sinograms to ", opts->sinograms_out));
      if (opts->sinograms_only) return 0;
    } else if (opts->sinograms_only) {
      fail("--sinograms-only needs --sinograms-out");
    }

    if (!opts->noisy_sinograms_out.empty()) {
      if (p.source == "phantom") fail("--noisy-sinograms-out needs a measured source (--from FILE)");
      if (parse_location(opts->noisy_sinograms_out + ":/x").format != Format::hdf5)
        fail(opts->noisy_sinograms_out, ": --noisy-sinograms-out must be an HDF5 file (.h5)");
      p.keep_noisy_sinograms = true;
    }
    std::optional<ProgressBar> bar;
    const tomo::PairSet set = tomo::make_pairs(p, [&bar](std::size_t done, std::size_t total) {
      if (!bar) bar.emplace("pairs", total);
      bar->update(done);
    });
    if (bar) bar->finish();
    for (const auto& note : set.notes) status("sira pairs: " + note);
    tomo::write_pairs(opts->output, set);
    if (!opts->noisy_sinograms_out.empty()) {
      H5File f = H5File::create(opts->noisy_sinograms_out);
      f.write("/noisy_sinograms", set.noisy_sinograms.data, DType::f32);
      f.write_vector("/theta", set.noisy_sinograms.theta);
      f.set_attr("/", "center", set.noisy_sinograms.center_or_default());
      f.commit();
    }
    if (!opts->preview.empty()) {
      const bool test = set.test_ns.depth > 0;
      const Stack& ns = test ? set.test_ns : set.train_ns;
      const Stack& gt = test ? set.test_gt : set.train_gt;
      Stack side(1, ns.height, 2 * ns.width);
      for (std::size_t y = 0; y < ns.height; ++y)
        for (std::size_t x = 0; x < ns.width; ++x) {
          side.at(0, y, x) = ns.at(0, y, x);
          side.at(0, y, ns.width + x) = gt.at(0, y, x);
        }
      write_preview_png(opts->preview, side);
    }
    status(cat("sira pairs: wrote ", opts->output, " (", set.train_slices.size(), " train + ",
               set.test_slices.size(), " test slices of ", set.train_ns.height, "x", set.train_ns.width, ")"));
    return 0;
  };
}

const Command pairs_command{"pairs", "Make TomoGAN (noisy, clean) training pairs from phantoms or real projections",
                            setup_pairs};

}  // namespace
}  // namespace sira::cli
