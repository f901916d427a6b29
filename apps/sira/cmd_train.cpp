// sira train: trains a TomoGAN-family generator (and its discriminator) on a
// pair file with libtorch and exports a sira model. See docs/training.md.
// Built into the sira-train executable only (train_forward.cpp), so the
// inference commands never load libtorch.
#include <cstdio>
#include <sstream>

#include "command.hpp"
#include "progress.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"
#include "sira/train/recipe.hpp"
#include "sira/train/trainer.hpp"

namespace sira::cli {
namespace {

train::LossWeights parse_weights(const std::string& text) {
  train::LossWeights w;
  std::istringstream is(text);
  char c1 = 0, c2 = 0;
  if (!(is >> w.adversarial >> c1 >> w.mse >> c2 >> w.perceptual) || c1 != ',' || c2 != ',' || !(is >> std::ws).eof())
    fail("--loss-weights expects three numbers adv,mse,perc (e.g. 20,0.5,2), got '", text, "'");
  return w;
}

Command train_command("train", "Train a denoising model on a pair file (libtorch)", [](CLI::App& sub) -> Runner {
  struct State {
    train::TrainOptions o;
    std::string weights = "20,0.5,2";
    bool bench = false;
    bool per_tensor = false;
  };
  auto s = std::make_shared<State>();
  auto& o = s->o;
  sub.add_option("-d,--data", o.pairs,
                 "Pair file (HDF5 with train_ns, train_gt, test_ns, test_gt); repeat to train on several")
      ->required();
  sub.add_option("--normalization", o.normalization,
                 "Intensity normalisation stored in the model: fixed (fitted to the training data, one unit) or "
                 "per_image (each slice's 0.5/99.5 percentiles, works across data sets in different units)")
      ->check(CLI::IsMember({"fixed", "per_image"}))
      ->capture_default_str();
  sub.add_option("--norm-block", o.norm_block,
                 "per_image: take the percentiles of the means of BxB blocks, so the map hardly moves with the "
                 "noise (1 = of the pixels, as before; 8 for the shipped models)")
      ->capture_default_str();
  sub.add_flag("--residual", o.residual,
               "Random start: the network adds its correction to the centre input slice (global residual)");
  sub.add_option("--sampling", o.sampling,
                 "How crops pick a pair file: size (in proportion to its pixels) or file (each file equally)")
      ->check(CLI::IsMember({"size", "file"}))
      ->capture_default_str();
  sub.add_option("-o,--output", o.output, "Model file to write")->required();
  sub.add_option("--slices", o.slices, "Input slices 1 or 3 (default 3, or the --init model's)");
  sub.add_option("--crop", o.crop, "Square crop edge, a multiple of 8")->capture_default_str();
  sub.add_option("--batch", o.batch, "Crops per step")->capture_default_str();
  sub.add_option("--iters", o.iterations, "Total iterations (a resumed run continues to this)")->capture_default_str();
  sub.add_option("--lr", o.lr, "Adam learning rate, generator and discriminator (on --resume it replaces the checkpoint's rate)")->capture_default_str();
  sub.add_option("--loss-weights", s->weights, "Generator loss weights adv,mse,perc")->capture_default_str();
  sub.add_option("--perceptual", o.perceptual,
                 "Perceptual loss: ssim (Gaussian window, default), ssim-uniform7 (scikit-image's default 7x7 window, "
                 "as the real-data validation scores) or a TorchScript feature extractor file");
  sub.add_option("--threads", o.threads, "Threads (0 = all cores); resume bit-for-bit with the same count")
      ->capture_default_str();
  sub.add_option("--seed", o.seed, "Seed of the initialisation and of the crops")->capture_default_str();
  sub.add_option("--d-steps", o.d_steps, "Discriminator steps per generator step")->capture_default_str();
  sub.add_option("--init", o.init, "Fine-tune this model instead of a random initialisation");
  sub.add_option("--resume", o.resume, "Continue from this checkpoint");
  sub.add_option("--checkpoint", o.checkpoint, "Checkpoint file (default: OUTPUT.ckpt)");
  sub.add_option("--checkpoint-every", o.checkpoint_every, "Also checkpoint every N iterations (0 = only at the end)");
  sub.add_option("--validate-every", o.validate_every,
                 "SSIM/PSNR on the test split every N iterations (0 = only at the end)");
  sub.add_option("--log", o.log_csv, "CSV of losses and validation metrics per iteration");
  sub.add_option("--plot", o.plot_png, "PNG plot of the loss and metric curves");
  sub.add_option("--test-output", o.test_output,
                 "Write the final generator's restoration of test_ns here (e.g. out.h5:/restored, out.tif)");
  sub.add_flag("--bench", s->bench, "Print the training throughput (generator crops/s) on stdout");
  sub.add_flag("--qat", o.qat.enabled,
               "Quantisation-aware fine-tuning of the --init fp32 model: activation ranges calibrated once on the "
               "training slices and kept fixed, fake-quantised forward, writes an int8 model (docs/quantization.md)");
  sub.add_option("--qat-method", o.qat.method, "--qat calibration method (as sira quantize --method)")
      ->check(CLI::IsMember({"minmax", "percentile", "mse", "entropy"}))
      ->capture_default_str();
  sub.add_option("--qat-percentile", o.qat.percentile, "--qat-method percentile: the percentile kept at each tail")
      ->check(CLI::Range(50.0, 100.0))
      ->capture_default_str();
  sub.add_option("--weight-bits", o.qat.weight_bits,
                 "--qat: 8, or 7 (oneDNN runs it without int16 saturation on CPUs without VNNI)")
      ->check(CLI::IsMember({7, 8}))
      ->capture_default_str();
  sub.add_flag("--per-tensor", s->per_tensor, "--qat: one weight scale per layer instead of per output channel");
  sub.add_flag("--equalize", o.qat.equalize,
               "--qat: cross-layer equalisation of the --init weights first (keeps the fp32 function)");
  sub.add_option("--calib-slices", o.qat.calib_slices,
                 "--qat: calibrate on this many (middle) train_ns slices of every pair file")
      ->capture_default_str();
  sub.footer(
      "Examples:\n"
      "  sira train -d pairs.h5 -o model.sira --iters 20000 --log train.csv --plot train.png\n"
      "  sira train -d pairs.h5 -o model.sira --iters 30000 --resume model.sira.ckpt\n"
      "  sira train -d pairs.h5 -o tuned.sira --init model.sira --iters 2000\n"
      "  sira train -d foam.h5 -d tooth.h5 --normalization per_image -o mixed.sira --slices 1\n"
      "  sira train --qat --init model.sira -d pairs.h5 -o model-int8.sira --iters 300 --lr 1e-5 --weight-bits 7\n"
      "With --init, the options of the model's recorded recipe (lr, loss weights, d-steps, crop, batch,\n"
      "sampling) are kept unless given here; a 1-slice --init model can start a --slices 3 model.");
  return [s, &sub] {
    s->o.weights = parse_weights(s->weights);
    if (!s->o.init.empty() && s->o.resume.empty()) {
      const Model start = load_model(s->o.init);
      if (const auto recipe = train::model_recipe(start, s->o.init)) {
        const std::string set =
            train::apply_recipe(*recipe, s->o, [&](const std::string& name) { return sub.count("--" + name) > 0; });
        if (!set.empty()) status("sira train: continuing the recipe of " + s->o.init + ": " + set);
      }
    }
    s->o.qat.per_channel = !s->per_tensor;
    ProgressBar bar("train", std::size_t(s->o.iterations));
    char extra[160];
    auto report = train::train(s->o, [&](const train::IterationRecord& r, std::int64_t) {
      if (r.val_ssim >= 0)
        std::snprintf(extra, sizeof extra, "G %.4g mse %.4g D %.4g | val ssim %.4f psnr %.2f", r.g_total, r.g_mse,
                      r.d_loss, r.val_ssim, r.val_psnr);
      else
        std::snprintf(extra, sizeof extra, "G %.4g mse %.4g D %.4g", r.g_total, r.g_mse, r.d_loss);
      bar.update(std::size_t(r.iteration), extra);
    });
    bar.finish();
    const auto& last = report.history.back();
    status(cat("trained ", report.history.size(), " iterations (", report.history.size() - report.start_iteration,
               " in this run, ", report.seconds, " s); wrote ", s->o.output));
    if (last.val_ssim >= 0) status(cat("validation: SSIM ", last.val_ssim, ", PSNR ", last.val_psnr, " dB"));
    if (s->bench) std::printf("crops/s %.3f\n", report.crops_per_second);
    return 0;
  };
});

}  // namespace
}  // namespace sira::cli
