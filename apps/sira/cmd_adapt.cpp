// sira adapt: fine-tune a model to one scan without clean data, by one of two
// self-supervised schemes (docs/adapt.md):
// - thinning: the scan's counts thinned to lower doses, each reconstruction
//   paired with the scan's own as the target -- the way the default models'
//   real-scan pairs are made, one level down (tomo/thinning_pairs.hpp);
// - noise2inverse (Hendriksen, Pelt, Batenburg, IEEE TCI 2020): K interleaved
//   angle subsets, each reconstructed alone; their photon noise is independent,
//   so the model learns to map the mean of K-1 of them to the remaining one.
// Built into sira-train (libtorch) like `sira train`.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "core/whole_number.hpp"
#include "progress.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/model.hpp"
#include "sira/tomo/angle_splits.hpp"
#include "sira/tomo/center.hpp"
#include "sira/tomo/dxchange.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/flux_estimate.hpp"
#include "sira/tomo/projector.hpp"
#include "sira/tomo/thinning_pairs.hpp"
#include "sira/train/recipe.hpp"
#include "sira/train/trainer.hpp"

namespace sira::cli {
namespace {

struct AdaptCliOptions {
  std::string input, model, output, denoised, center, rows, angles, theta, angle_unit = "auto", apply = "full";
  std::string method = "thinning", keep_grain = "auto";
  bool transpose = false, subtract_first_angle = false, raw_counts = false;
  double scale = 1.0, minutes = 8.0, lr = 5e-5, flux = 0;
  std::vector<double> doses{0.5};
  std::size_t splits = 2, realisations = 4;
  std::int64_t iterations = 3000;
  int crop = 0, batch = 0, threads = 0;
  std::uint64_t seed = 1;
};

// models/tomogan-<k>slice.sira beside the build or install folder of this executable.
std::string default_model() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  for (const char* rel : {"../models/tomogan-1slice.sira", "../share/sira/models/tomogan-1slice.sira"}) {
    const auto p = exe.parent_path() / rel;
    if (!ec && std::filesystem::exists(p)) return std::filesystem::weakly_canonical(p).string();
  }
  fail("no default model found beside ", exe.string(), "; give one with -m MODEL");
}

double parse_center(const std::string& spec, const tomo::Sinograms& s, const std::string& input) {
  if (spec.empty() || spec == "auto") return tomo::find_center(s);
  const std::optional<double> c = whole_double(spec);
  if (!c) fail("--center '", spec, "': expected a detector column or 'auto'");
  tomo::check_center(*c, s.data.width, input.c_str());
  return *c;
}

// The input's file name without folders or an HDF5 dataset path ("scan.h5:/x" -> "scan.h5").
std::string scan_name(const std::string& input) {
  const auto colon = input.rfind(":/");
  return std::filesystem::path(colon == std::string::npos ? input : input.substr(0, colon)).filename().string();
}

// Denoises a stack with `model` (fp32, the engine's tiling-free path).
Stack denoise_stack(const Model& model, const Stack& in, int threads) {
  EngineOptions eo;
  eo.threads = threads;
  Engine engine(model, eo);
  return engine.denoise(in);
}

// The share of the grain that `with_grain` keeps over `clean` on the scan x:
// the least-squares b in with_grain - clean = b (x - clean), clamped to [0, 0.9].
double grain_share(const Stack& x, const Stack& clean, const Stack& with_grain) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = double(x.data[i]) - clean.data[i];
    num += (double(with_grain.data[i]) - clean.data[i]) * r;
    den += r * r;
  }
  return den > 0 ? std::clamp(num / den, 0.0, 0.9) : 0.0;
}

// "0.5,0.3,0.2"
std::string comma_list(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += (out.empty() ? "" : ",") + cat(v);
  return out;
}

Runner setup_adapt(CLI::App& sub) {
  auto o = std::make_shared<AdaptCliOptions>();
  sub.add_option("-i,--input", o->input,
                 "The scan's projections: a Data Exchange file (scan.h5), an HDF5 with /sinogram + /angles_rad,\n"
                 "or a plain sinogram stack (slices x angles x detector) with --angles or --theta")
      ->required();
  sub.add_option("-m,--model", o->model, "Model to start from (default: the shipped models/tomogan-1slice.sira)");
  sub.add_option("-o,--output", o->output, "Adapted model to write (.sira)")->required();
  sub.add_option("--denoised", o->denoised,
                 "Also write the scan's reconstruction restored by the adapted model (rec.tif, f.h5:/denoised)");
  sub.add_option("--method", o->method,
                 "thinning (the scan's counts thinned to --doses, restored to the scan itself) or noise2inverse\n"
                 "(angle subsets restored to each other)")
      ->check(CLI::IsMember({"thinning", "noise2inverse"}))->capture_default_str();
  sub.add_option("--apply", o->apply,
                 "What --denoised restores: full (the reconstruction of all angles) or, with noise2inverse, splits\n"
                 "(the mean of the model applied to each training input, as Noise2Inverse publishes)")
      ->check(CLI::IsMember({"full", "splits"}))->capture_default_str();
  sub.add_option("--doses", o->doses, "thinning: fractions of the scan's dose the training inputs are made at")
      ->delimiter(',')->capture_default_str();
  sub.add_option("--keep-grain", o->keep_grain,
                 "Share of the scan's grain the adapted model keeps: auto (as much as the start model keeps on\n"
                 "this scan, measured), or a number in [0, 0.9] (0 = all the noise it can remove)")
      ->capture_default_str();
  sub.add_option("--realisations", o->realisations, "thinning: independent thinnings per dose")
      ->check(CLI::Range(1, 64))->capture_default_str();
  sub.add_option("--flux", o->flux,
                 "thinning: photons per detector pixel of an unattenuated ray in this scan (default: estimated\n"
                 "from the sinograms' own noise)");
  sub.add_option("--splits", o->splits, "noise2inverse: interleaved angle subsets K (each reconstructed alone)")
      ->check(CLI::Range(2, 16))->capture_default_str();
  sub.add_option("--minutes", o->minutes, "Time budget of the fine-tuning (wall clock)")
      ->check(CLI::Range(0.05, 10000.0))->capture_default_str();
  sub.add_option("--iters", o->iterations, "At most this many iterations")->capture_default_str();
  sub.add_option("--lr", o->lr, "Adam learning rate")->capture_default_str();
  sub.add_option("--crop", o->crop, "Crop edge (default: the model's recipe)");
  sub.add_option("--batch", o->batch, "Crops per step (default: the model's recipe)");
  sub.add_option("--seed", o->seed, "Seed of the crops")->capture_default_str();
  sub.add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str();
  sub.add_option("--center", o->center, "Rotation centre in detector columns (default: auto)");
  sub.add_option("--rows", o->rows, "Detector rows (slices): all, 5, 0-9, 0-100:10, or a comma list");
  sub.add_option("--angles", o->angles, "Angles as START:STOP[:COUNT] in --angle-unit (STOP excluded)");
  sub.add_option("--theta", o->theta, "HDF5 dataset of the input file holding the angles (plain sinograms)");
  sub.add_option("--angle-unit", o->angle_unit, "auto (degrees if any > 2 pi), deg or rad")
      ->check(CLI::IsMember({"auto", "deg", "rad"}))->capture_default_str();
  sub.add_flag("--subtract-first-angle", o->subtract_first_angle, "Angles carry a constant motor offset");
  sub.add_flag("--transpose", o->transpose, "Plain sinogram stored as detector x angles");
  sub.add_flag("--raw-counts", o->raw_counts, "Plain sinogram of raw counts without flat field");
  sub.add_option("--scale", o->scale, "Multiply plain line integrals by this (unit conversion)")->capture_default_str();
  sub.footer(
      "No clean data is needed: the training pairs come from the scan's own projections. The model keeps\n"
      "its architecture and normalisation; its recipe gives the loss weights, crop and batch.\n"
      "Examples:\n"
      "  sira adapt -i scan.h5 -o scan-adapted.sira --denoised scan-denoised.h5:/data\n"
      "  sira adapt -i tooth_aps.h5 -m models/tomogan-1slice.sira -o tooth.sira --minutes 5\n"
      "  sira adapt -i sino.h5:/sino --theta /theta -o a.sira --method noise2inverse --splits 2 --rows 0-63");
  return [o, &sub] {
    const int threads = resolve_threads(o->threads);
    omp_set_num_threads(threads);
    if (o->model.empty()) o->model = default_model();
    const Model start = load_model(o->model);
    if (start.quant)
      fail(o->model, ": the model is quantised (int8); adapt its fp32 original, then sira quantize the result");
    const bool thinning = o->method == "thinning";
    if (thinning && o->apply == "splits")
      fail("--apply splits is Noise2Inverse's estimator: it needs --method noise2inverse");
    double keep = 0;  // --keep-grain as a number
    if (o->keep_grain != "auto") {
      keep = whole_double(o->keep_grain).value_or(-1);
      if (!(keep >= 0 && keep <= 0.9)) fail("--keep-grain '", o->keep_grain, "': expected auto or a number in [0, 0.9]");
      if (keep > 0 && !start.config.residual)
        fail(o->model, ": --keep-grain needs a model with the global residual (output = input + correction)");
    }

    tomo::ProjectionInput in;
    in.rows_spec = o->rows;
    in.unit = tomo::parse_angle_unit(o->angle_unit);
    if (!o->angles.empty()) in.angle_range = tomo::parse_angle_range(o->angles);
    in.angles_dataset = o->theta;
    in.transpose = o->transpose;
    in.subtract_first_angle = o->subtract_first_angle;
    in.raw_counts = o->raw_counts;
    in.scale = o->scale;
    tomo::InputReport report;
    tomo::Sinograms sino = tomo::load_projections(o->input, in, &report);
    for (const auto& note : report.notes) status("sira adapt: note: " + note);
    tomo::check_sinograms(sino, o->input.c_str());
    sino.center = parse_center(o->center, sino, o->input);
    tomo::FbpOptions fo;
    fo.circle_mask = true;
    const Stack full = tomo::fbp(sino, fo);  // the scan's reconstruction: thinning's targets, restored at the end
    tomo::ThinningOptions to;
    std::string how = cat("noise2inverse splits=", o->splits);
    if (thinning) {
      to.flux = o->flux > 0 ? o->flux : tomo::estimate_flux(sino, o->input.c_str());
      to.doses = o->doses;
      to.realisations = o->realisations;
      to.seed = o->seed;
      how = cat("thinning flux=", to.flux, o->flux > 0 ? "" : " (estimated)", " doses=", comma_list(o->doses),
                " realisations=", o->realisations);
    }
    status(cat("sira adapt: ", sino.data.depth, " slice(s), ", sino.data.height, " angles, detector ",
               sino.data.width, ", centre ", sino.center, "; ", how));
    const std::vector<tomo::SplitPair> pairs =
        thinning ? tomo::thinning_pairs(sino, full, to, fo)
                 : tomo::split_pairs(tomo::reconstruct_splits(sino, o->splits, fo));
    const std::size_t min_side = std::min(pairs[0].input.height, pairs[0].input.width);

    train::TrainOptions t;
    t.init = o->model;
    t.output = o->output;
    t.iterations = o->iterations;
    t.max_seconds = o->minutes * 60.0;
    t.lr = o->lr;
    t.threads = threads;
    t.seed = o->seed;
    t.sampling = "file";
    if (const auto recipe = train::model_recipe(start, o->model))
      train::apply_recipe(*recipe, t, [&](const std::string& name) {
        return name == "lr" || name == "sampling" || (name == "crop" && o->crop) || (name == "batch" && o->batch);
      });
    if (o->crop) t.crop = o->crop;
    if (o->batch) t.batch = o->batch;
    // A crop larger than the scan's slices shrinks to the largest multiple of the network's that fits.
    const int multiple = 1 << start.config.levels();
    if (std::size_t(t.crop) > min_side) t.crop = int(min_side) / multiple * multiple;
    // Both schemes' targets carry noise independent of the input: only the pixel
    // MSE has the clean image as its expected minimiser (Noise2Noise); SSIM or an
    // adversarial term would learn to keep noise.
    t.weights = {0.0, 1.0, 0.0};
    t.d_steps = 0;
    t.checkpoint = (std::filesystem::temp_directory_path() /
                    cat("sira-adapt-", ::getpid(), ".ckpt")).string();

    train::InMemoryPairs data;
    for (std::size_t j = 0; j < pairs.size(); ++j)
      data.train.push_back({cat(scan_name(o->input), " split ", j),
                            pairs[j].input, pairs[j].target});
    data.sources.push_back(scan_name(o->input));

    ProgressBar bar("adapt", std::size_t(t.iterations));
    const auto report_train = train::train(t, data, [&](const train::IterationRecord& r, std::int64_t) {
      char extra[96];
      std::snprintf(extra, sizeof extra, "loss %.4g (budget %.0f s)", r.g_total, t.max_seconds);
      bar.update(std::size_t(r.iteration), extra);
    });
    bar.finish();
    std::error_code ec;
    std::filesystem::remove(t.checkpoint, ec);

    // The adapted network estimates the noise-free slice; it keeps the share of
    // the grain asked for (auto: what the start model keeps on this very scan,
    // so that the adapted model restores as the start model does, only better).
    Model adapted = report_train.model;
    if (o->keep_grain == "auto" && start.config.residual)
      keep = grain_share(full, denoise_stack(adapted, full, threads), denoise_stack(start, full, threads));
    if (keep > 0) adapted = scale_correction(adapted, 1.0 - keep);
    adapted.info["keep_grain"] = cat(keep);  // of the adapted network (not the start model's setting)
    status(cat("sira adapt: keeps ", keep, " of the grain", o->keep_grain == "auto" ? " (as the start model)" : ""));

    // Provenance of the adapted model (file names only, no machine paths).
    adapted.info["adapted_from"] = std::filesystem::path(o->model).filename().string();
    adapted.info["adapted_on"] = scan_name(o->input);
    adapted.info["adapt"] = cat(how, " keep_grain=", keep, o->keep_grain == "auto" ? " (auto)" : "",
                                " iterations=", report_train.history.size(), " seconds=", report_train.seconds,
                                " centre=", sino.center);
    if (const auto it = start.info.find("training_sources"); it != start.info.end() && !it->second.empty())
      adapted.info["training_sources"] = it->second + ";" + adapted.info["adapted_on"];
    save_model(adapted, o->output);
    status(cat("sira adapt: ", report_train.history.size(), " iterations in ", report_train.seconds,
               " s; wrote ", o->output));

    if (!o->denoised.empty()) {
      Stack out;
      if (o->apply == "full") {
        out = denoise_stack(adapted, full, threads);
      } else {
        for (const auto& pair : pairs) {
          const Stack one = denoise_stack(adapted, pair.input, threads);
          if (out.size() == 0) out = Stack(one.depth, one.height, one.width);
          for (std::size_t i = 0; i < out.size(); ++i) out.data[i] += one.data[i] / float(pairs.size());
        }
      }
      out.is_2d = sino.data.depth == 1;
      Provenance p = run_provenance();
      p.add("input", o->input)
          .add("model", o->output)
          .add("model_hash", file_hash(o->output))
          .add("adapted_from", o->model)
          .add("precision", "fp32")
          .add("method", how)
          .add("keep_grain", keep)
          .add("apply", o->apply)
          .add("center", sino.center);
      write_stack(o->denoised, out, DType::f32, p);
      status("sira adapt: wrote " + o->denoised);
    }
    (void)sub;
    return 0;
  };
}

const Command adapt_command{"adapt", "Fine-tune a model to one scan without clean data (thinning or Noise2Inverse)",
                            setup_adapt};

}  // namespace
}  // namespace sira::cli
