// sira recon: reconstruct slices from projections (Data Exchange HDF5, ToMoBAR-style
// sinogram HDF5, or plain sinogram stacks) with FBP or SIRT, optionally finding the
// rotation centre automatically.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "command.hpp"
#include "core/whole_number.hpp"
#include "preprocess_options.hpp"
#include "progress.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/tomo/center.hpp"
#include "sira/tomo/dxchange.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/projector.hpp"
#include "sira/tomo/sirt.hpp"

namespace sira::cli {
namespace {

struct ReconCliOptions {
  std::string input, output, preview;
  std::string algorithm = "fbp", filter = "ramp", center = "", rows, angles, theta, angle_unit = "auto";
  int iterations = 100;
  std::size_t size = 0;
  int threads = 0;
  bool nonnegative = false, no_mask = false, transpose = false, subtract_first_angle = false, raw_counts = false;
  double scale = 1.0;
  PreprocessCli pre;
};

// "A:B" (B excluded) or "A" -> part A's row syntax ("A-(B-1)").
std::string rows_spec(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return spec;
  const std::optional<std::size_t> first = whole_count(spec.substr(0, colon)), stop = whole_count(spec.substr(colon + 1));
  if (!first || !stop) fail("--rows '", spec, "': expected A:B (rows A to B-1) or a single row");
  if (*stop <= *first) fail("--rows '", spec, "': the range is empty");
  return cat(*first, "-", *stop - 1);
}

double resolve_center(tomo::Sinograms& sino, const std::string& spec, const std::string& input) {
  if (spec.empty()) return sino.center_or_default();
  if (spec == "auto") {
    status("sira recon: searching the rotation centre ...");
    return tomo::find_center(sino);
  }
  const std::optional<double> c = whole_double(spec);
  if (!c) fail("--center '", spec, "': expected a detector column or 'auto'");
  tomo::check_center(*c, sino.data.width, input.c_str());
  return *c;
}

Stack reconstruct(const tomo::Sinograms& sino, const ReconCliOptions& o) {
  const tomo::Sinograms* all = &sino;
  if (o.algorithm == "sirt") {
    tomo::SirtOptions so;
    so.iterations = o.iterations;
    so.nonnegative = o.nonnegative;
    so.size = o.size;
    so.circle_mask = !o.no_mask;
    ProgressBar bar("sirt", static_cast<std::size_t>(o.iterations));
    so.on_iteration = [&bar](int it, double residual) {
      char text[48];
      std::snprintf(text, sizeof text, "residual %.4g", residual);
      bar.update(static_cast<std::size_t>(it + 1), text);
    };
    auto result = tomo::sirt(*all, so);
    bar.finish();
    status(cat("sira recon: SIRT residual ", result.residuals.front(), " -> ", result.residuals.back()));
    return std::move(result.images);
  }
  tomo::FbpOptions fo;
  fo.filter = tomo::parse_filter(o.filter);
  fo.size = o.size;
  fo.circle_mask = !o.no_mask;
  // A few slices per call, so long stacks show progress.
  const std::size_t depth = sino.data.depth, chunk = std::max<std::size_t>(4, 2 * omp_get_max_threads());
  if (depth <= chunk) return tomo::fbp(sino, fo);
  const std::size_t size = o.size ? o.size : sino.data.width;
  Stack out(depth, size, size);
  out.is_2d = false;
  ProgressBar bar("fbp", depth);
  for (std::size_t z0 = 0; z0 < depth; z0 += chunk) {
    const std::size_t n = std::min(chunk, depth - z0);
    tomo::Sinograms part{Stack(n, sino.data.height, sino.data.width), sino.theta, sino.center};
    std::copy(sino.data.slice(z0), sino.data.slice(z0) + n * sino.data.slice_size(), part.data.data.begin());
    const Stack rec = tomo::fbp(part, fo);
    std::copy(rec.data.begin(), rec.data.end(), out.slice(z0));
    bar.update(z0 + n);
  }
  bar.finish();
  return out;
}

Runner setup_recon(CLI::App& sub) {
  auto o = std::make_shared<ReconCliOptions>();
  sub.add_option("-i,--input", o->input,
                 "Projections: a Data Exchange file (scan.h5), an HDF5 with /sinogram + /angles_rad, or a\n"
                 "plain sinogram stack (slices x angles x detector: sino.npy, sino.tif, f.h5:/sino)")
      ->required();
  sub.add_option("-o,--output", o->output, "Slices (float32): rec.tif, rec.npy or f.h5:/recon")->required();
  sub.add_option("--algorithm", o->algorithm, "fbp or sirt")->capture_default_str()
      ->check(CLI::IsMember({"fbp", "sirt"}));
  sub.add_option("--filter", o->filter, "FBP filter: ramp, shepp-logan, cosine or hann")->capture_default_str()
      ->check(CLI::IsMember({"ramp", "shepp-logan", "cosine", "hann"}));
  sub.add_option("--iterations", o->iterations, "SIRT iterations")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sub.add_flag("--nonnegative", o->nonnegative, "SIRT: clamp the estimate at >= 0");
  sub.add_option("--center", o->center,
                 "Rotation centre in detector columns, or 'auto' to search for it\n"
                 "(default: from the input file, else the detector middle)");
  sub.add_option("--rows", o->rows, "Detector rows (slices) to reconstruct: A:B = rows A..B-1, or one row");
  sub.add_option("--size", o->size, "Output slices are SIZE x SIZE (default: detector width)")
      ->check(CLI::Range(1, 65536));
  sub.add_flag("--no-mask", o->no_mask, "Keep the pixels outside the reconstruction circle");
  sub.add_option("--angles", o->angles,
                 "Angles as START:STOP[:COUNT] (STOP excluded; COUNT defaults to the projection count),\n"
                 "overriding any angles in the file");
  sub.add_option("--theta", o->theta, "HDF5 dataset of the input file holding the angles (plain sinograms)");
  sub.add_option("--angle-unit", o->angle_unit, "Unit of the angles: auto (degrees if any > 2 pi), deg or rad")
      ->capture_default_str()->check(CLI::IsMember({"auto", "deg", "rad"}));
  sub.add_flag("--subtract-first-angle", o->subtract_first_angle, "Angles carry a constant motor offset");
  sub.add_flag("--transpose", o->transpose, "Plain sinogram stored as detector x angles");
  sub.add_flag("--raw-counts", o->raw_counts,
               "Plain sinogram of raw counts without flat field: normalise each projection by its\n"
               "open-beam estimate (brightest 10 %), then -log");
  sub.add_option("--scale", o->scale, "Multiply plain line integrals by this (unit conversion)")
      ->capture_default_str();
  add_preprocess_options(sub, o->pre);
  sub.add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str()
      ->check(CLI::Range(0, 1024));
  sub.add_option("--preview", o->preview, "Also write an 8-bit PNG of the middle reconstructed slice");
  sub.footer(
      "Data Exchange input is flat/dark normalised and -log'ed; plain sinograms must already be line\n"
      "integrals. Geometry and conventions: docs/tomography-recon.md.\n"
      "Examples:\n"
      "  sira recon -i tooth_aps.h5 -o tooth.tif --center auto --preview tooth.png\n"
      "  sira recon -i scan.h5 -o rec.h5:/recon --rows 100:110 --filter shepp-logan --threads 2\n"
      "  sira recon -i sino.npy --angles 0:180 -o rec.npy --center 255.5\n"
      "  sira recon -i dendrite_sinogram.h5 --scale 0.001 -o dend.tif --center auto\n"
      "  sira recon -i neutron_sinogram_360.tif --raw-counts --angles 0:360 -o neutron.tif --center auto\n"
      "  sira recon -i neutron_beads_ct_psi.h5 --remove-zingers --fix-dead-pixels --remove-stripes -o beads.tif\n"
      "  sira recon -i dendrite_sinogram.h5 -o dend.tif --algorithm sirt --iterations 100 --nonnegative");
  return [o] {
    if (o->threads > 0) omp_set_num_threads(o->threads);
    tomo::ProjectionInput in;
    if (!o->rows.empty()) in.rows_spec = rows_spec(o->rows);
    in.unit = tomo::parse_angle_unit(o->angle_unit);
    if (!o->angles.empty()) in.angle_range = tomo::parse_angle_range(o->angles);
    in.angles_dataset = o->theta;
    in.transpose = o->transpose;
    in.subtract_first_angle = o->subtract_first_angle;
    in.raw_counts = o->raw_counts;
    in.scale = o->scale;
    apply_preprocess_options(o->pre, in);
    tomo::InputReport report;
    tomo::Sinograms sino = tomo::load_projections(o->input, in, &report);
    print_input_report("sira recon", report);
    tomo::check_sinograms(sino, o->input.c_str());
    sino.center = resolve_center(sino, o->center, o->input);
    std::printf("rotation centre: %.2f%s\n", sino.center, o->center == "auto" ? " (auto)" : "");
    status(cat("sira recon: ", sino.data.depth, " slice(s), ", sino.data.height, " angles, detector ",
               sino.data.width, " columns (", report.layout, "), ", o->algorithm,
               o->algorithm == "fbp" ? " filter " + o->filter : cat(" ", o->iterations, " iterations")));
    const Stack slices = reconstruct(sino, *o);
    Provenance p = run_provenance();
    p.add("input", o->input)
        .add("algorithm", o->algorithm)
        .add("center", sino.center)
        .add("center_from", o->center.empty() ? "input or detector middle" : o->center)
        .add("angles", sino.data.height)
        .add("angle_first_deg", sino.theta.front() * 180.0 / 3.14159265358979323846)
        .add("angle_last_deg", sino.theta.back() * 180.0 / 3.14159265358979323846)
        .add("layout", report.layout);
    if (o->algorithm == "fbp") p.add("filter", o->filter);
    else p.add("iterations", o->iterations);
    if (!o->rows.empty()) p.add("rows", o->rows);
    if (o->raw_counts) p.add("raw_counts", "yes");
    if (o->scale != 1.0) p.add("scale", o->scale);
    write_stack(o->output, slices, DType::f32, p);
    if (!o->preview.empty()) write_preview_png(o->preview, slices, slices.depth / 2);
    status(cat("sira recon: wrote ", o->output));
    return 0;
  };
}

const Command recon_command{"recon", "Reconstruct slices from projections (FBP or SIRT)", setup_recon};

}  // namespace
}  // namespace sira::cli
