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
#ifdef SIRA_HAVE_MPI
#include <chrono>

#include "mpi/mpi_session.hpp"
#include "mpi/slab.hpp"
#include "mpi/slab_output.hpp"
#endif

namespace sira::mpi {
class Session;  // the MPI build's ranks (mpi/mpi_session.hpp)
}

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

// `whose`: appended to the status lines (under mpirun: this rank's slab only).
Stack reconstruct(const tomo::Sinograms& sino, const ReconCliOptions& o, const std::string& whose = "") {
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
    status(cat("sira recon: SIRT residual ", result.residuals.front(), " -> ", result.residuals.back(), whose));
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

int run_recon(const ReconCliOptions& o, const mpi::Session* session);

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
#ifdef SIRA_HAVE_MPI
    if (mpi::launched_by_mpi()) {
      mpi::Session session;
      if (session.size() == 1) return run_recon(*o, nullptr);  // as without mpirun
      try {
        return run_recon(*o, &session);
      } catch (const std::exception& e) {
        session.abort("sira recon", e.what());
      }
    }
#endif
    return run_recon(*o, nullptr);
  };
}

tomo::ProjectionInput projection_input(const ReconCliOptions& o) {
  tomo::ProjectionInput in;
  if (!o.rows.empty()) in.rows_spec = rows_spec(o.rows);
  in.unit = tomo::parse_angle_unit(o.angle_unit);
  if (!o.angles.empty()) in.angle_range = tomo::parse_angle_range(o.angles);
  in.angles_dataset = o.theta;
  in.transpose = o.transpose;
  in.subtract_first_angle = o.subtract_first_angle;
  in.raw_counts = o.raw_counts;
  in.scale = o.scale;
  apply_preprocess_options(o.pre, in);
  return in;
}

std::string describe(const tomo::Sinograms& sino, std::size_t slices, const tomo::InputReport& report,
                     const ReconCliOptions& o) {
  return cat(slices, " slice(s), ", sino.data.height, " angles, detector ", sino.data.width, " columns (",
             report.layout, "), ", o.algorithm,
             o.algorithm == "fbp" ? " filter " + o.filter : cat(" ", o.iterations, " iterations"));
}

Provenance recon_provenance(const tomo::Sinograms& sino, const tomo::InputReport& report, const ReconCliOptions& o) {
  Provenance p = run_provenance();
  p.add("input", o.input)
      .add("algorithm", o.algorithm)
      .add("center", sino.center)
      .add("center_from", o.center.empty() ? "input or detector middle" : o.center)
      .add("angles", sino.data.height)
      .add("angle_first_deg", sino.theta.front() * 180.0 / 3.14159265358979323846)
      .add("angle_last_deg", sino.theta.back() * 180.0 / 3.14159265358979323846)
      .add("layout", report.layout);
  if (o.algorithm == "fbp") p.add("filter", o.filter);
  else p.add("iterations", o.iterations);
  if (!o.rows.empty()) p.add("rows", o.rows);
  if (o.raw_counts) p.add("raw_counts", "yes");
  if (o.scale != 1.0) p.add("scale", o.scale);
  return p;
}

#ifdef SIRA_HAVE_MPI
// Under mpirun -np N: rank r reconstructs the r-th contiguous slab of the rows
// (slab_of: rows [r R / N, (r + 1) R / N) of the R rows asked for), reading only
// those rows, and all ranks write one HDF5 output (mpi/slab_output.hpp). Every
// slice is computed from the same rows by the same code as in one process, so
// the output is the one-process output bit for bit.
int run_recon_slabs(const ReconCliOptions& o, const tomo::ProjectionInput& in, const mpi::Session& session) {
  const auto start = std::chrono::steady_clock::now();
  const bool lead = session.rank() == 0;
  if (!lead) global_options().quiet = true;  // one progress bar and status: rank 0's
  if (!o.preview.empty()) fail(o.preview, ": --preview is not written under mpirun yet; run without it");
  mpi::hdf5_output(o.output);  // before any work

  const std::vector<std::size_t> rows = tomo::projection_rows(o.input, in);
  const int ranks = session.size();
  if (rows.size() < std::size_t(ranks))
    fail(o.input, ": ", rows.size(), " row(s) (slices) cannot be shared by ", ranks, " ranks; run with at most ",
         rows.size(), " (mpirun -np ", rows.size(), ")");
  const mpi::Slab slab = mpi::slab_of(rows.size(), session.rank(), ranks);
  tomo::ProjectionInput mine = in;
  mine.rows_spec.clear();
  mine.rows.assign(rows.begin() + std::ptrdiff_t(slab.first), rows.begin() + std::ptrdiff_t(slab.first + slab.count));
  tomo::InputReport report;
  tomo::Sinograms sino = tomo::load_projections(o.input, mine, &report);
  if (lead) print_input_report("sira recon (rank 0's slab)", report);
  tomo::check_sinograms(sino, o.input.c_str());

  if (o.center == "auto") {
    // find_center uses a few evenly spread rows of all the rows (center_rows):
    // rank 0 reads exactly those and finds the centre as one process would, and
    // every rank uses its value (a centre per slab would differ from one process).
    double center = 0;
    if (lead) {
      status("sira recon: searching the rotation centre ...");
      tomo::ProjectionInput picked = in;
      picked.rows_spec.clear();
      picked.rows.clear();
      for (std::size_t k : tomo::center_rows(rows.size(), tomo::CenterOptions{}.max_rows))
        picked.rows.push_back(rows[k]);
      center = tomo::find_center(tomo::load_projections(o.input, picked));
    }
    sino.center = session.broadcast(center);
  } else {
    sino.center = resolve_center(sino, o.center, o.input);
  }
  if (lead) std::printf("rotation centre: %.2f%s\n", sino.center, o.center == "auto" ? " (auto)" : "");
  status(cat("sira recon: ", describe(sino, rows.size(), report, o), " on ", ranks, " ranks (rank 0: rows ",
             rows[slab.first], "..", rows[slab.first + slab.count - 1], ")"));

  const Stack slices = reconstruct(sino, o, " (rank 0's slab)");
  mpi::SlabOutput out(session, o.output, StackInfo{rows.size(), slices.height, slices.width, DType::f32, false},
                      slab);
  out.writer().write_slices(0, slices);
  out.commit(recon_provenance(sino, report, o));
  status(cat("sira recon: wrote ", o.output, " in ",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s"));
  return 0;
}
#endif

// `session`: the ranks sharing the rows (nullptr: this process alone).
int run_recon(const ReconCliOptions& o, const mpi::Session* session) {
  const tomo::ProjectionInput in = projection_input(o);
#ifdef SIRA_HAVE_MPI
  if (session) return run_recon_slabs(o, in, *session);
#endif
  tomo::InputReport report;
  tomo::Sinograms sino = tomo::load_projections(o.input, in, &report);
  print_input_report("sira recon", report);
  tomo::check_sinograms(sino, o.input.c_str());
  sino.center = resolve_center(sino, o.center, o.input);
  std::printf("rotation centre: %.2f%s\n", sino.center, o.center == "auto" ? " (auto)" : "");
  status(cat("sira recon: ", describe(sino, sino.data.depth, report, o)));
  const Stack slices = reconstruct(sino, o);
  write_stack(o.output, slices, DType::f32, recon_provenance(sino, report, o));
  if (!o.preview.empty()) write_preview_png(o.preview, slices, slices.depth / 2);
  status(cat("sira recon: wrote ", o.output));
  return 0;
}

const Command recon_command{"recon", "Reconstruct slices from projections (FBP or SIRT)", setup_recon};

}  // namespace
}  // namespace sira::cli
