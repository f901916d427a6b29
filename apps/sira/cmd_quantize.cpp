// sira quantize: post-training int8 quantisation of an fp32 model, calibrated on
// sample images read like any denoise input (docs/quantization.md).
#include <chrono>
#include <memory>
#include <optional>

#include "command.hpp"
#include "progress.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/model.hpp"
#include "sira/quant_recovery.hpp"
#include "sira/quantize.hpp"

namespace sira::cli {
namespace {

struct QuantizeCliOptions {
  std::string model, output;
  std::vector<std::string> calibration;
  bool per_tensor = false;
  bool equalize = false, bias_correction = false;  // accuracy recovery (src/quant/)
  double target_psnr = 0;                           // 0 = all layers int8
  std::string keep_precision = "fp32";
  QuantizeOptions q;
};

Runner setup_quantize(CLI::App& sub) {
  auto o = std::make_shared<QuantizeCliOptions>();
  sub.add_option("-m,--model", o->model, "fp32 model (.sira)")->required();
  sub.add_option("-c,--calibration", o->calibration,
                 "Calibration images or stacks (repeatable; same forms as sira denoise inputs: "
                 "image.tif, stack.npy, file.h5:/dataset); each slice is one calibration image")
      ->required();
  sub.add_option("-o,--output", o->output, "Quantised model to write (format version 2)")->required();
  sub.add_option("--method", o->q.method,
                 "Activation range: minmax (observed extremes), percentile (clip each tail at "
                 "--percentile), mse (clip minimising the expected squared error), entropy "
                 "(clip minimising the KL divergence, TensorRT-style)")
      ->check(CLI::IsMember({"minmax", "percentile", "mse", "entropy"}))
      ->capture_default_str();
  sub.add_option("--percentile", o->q.percentile, "Percentile kept by --method percentile")
      ->check(CLI::Range(50.0, 100.0))
      ->capture_default_str();
  sub.add_flag("--per-tensor", o->per_tensor,
               "One weight scale per layer instead of one per output channel");
  sub.add_option("--weight-bits", o->q.weight_bits,
                 "8, or 7 (weights in [-63, 63]: no int16 saturation in oneDNN on CPUs without VNNI)")
      ->check(CLI::IsMember({7, 8}))
      ->capture_default_str();
  sub.add_option("--max-images", o->q.max_images, "Use at most N calibration slices (0 = all)")
      ->capture_default_str();
  sub.add_flag("--equalize", o->equalize,
               "Cross-layer equalisation of the fp32 weights before calibration (conv pairs through a ReLU)");
  sub.add_flag("--bias-correction", o->bias_correction,
               "Correct each int8 layer's bias by its mean output error (weights and input rounding) "
               "measured on the calibration set");
  sub.add_option("--target-psnr", o->target_psnr,
                 "Mixed precision: keep the fewest most sensitive layers in --keep-precision so that the "
                 "int8 output is at least DB dB from the fp32 output on the calibration set")
      ->check(CLI::Range(1.0, 150.0));
  sub.add_option("--keep-precision", o->keep_precision, "Precision of the layers --target-psnr keeps")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  sub.add_option("--threads", o->q.threads, "Threads (0 = every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.footer(
      "Runs the fp32 network (ref backend) on the calibration slices, records the range of\n"
      "every activation (tensors joined by a pool/upsample/concat share one scale) and\n"
      "writes int8 weights (symmetric, per output channel), int32 biases, per-tensor uint8\n"
      "activation scales and zero points. Empty, constant or NaN/Inf calibration sets are\n"
      "refused. Run the result with sira denoise --precision int8.\n"
      "Examples:\n"
      "  sira quantize -m tomogan.sira -c calib.h5:/exchange/data -o tomogan-int8.sira\n"
      "  sira quantize -m tomogan.sira -c a.tif -c b.tif -o naive.sira --method minmax --per-tensor\n"
      "  sira quantize -m tomogan.sira -c val.npy -o q.sira --method mse --max-images 16\n"
      "  sira quantize -m tomogan.sira -c calib.h5:/train_ns -o q.sira --equalize --bias-correction --target-psnr 45\n"
      "See docs/quantization.md.");
  return [o] {
    o->q.per_channel = !o->per_tensor;
    Model model = load_model(o->model);
    if (model.quant) fail(o->model, ": the model is already quantised; quantise its fp32 original");
    if (o->equalize) model = equalize_cross_layer(model);
    std::vector<CalibrationImages> calibration;
    for (const std::string& spec : o->calibration) calibration.push_back({spec, read_stack(spec)});
    const auto start = std::chrono::steady_clock::now();
    std::optional<ProgressBar> bar;  // made at the first report, which knows the total
    o->q.progress = [&bar](std::size_t done, std::size_t total) {
      if (!bar) bar.emplace("calibrate", total);
      bar->update(done);
    };
    Model q = quantize_model(model, calibration, o->q);
    if (bar) bar->finish();
    o->q.progress = {};
    if (o->bias_correction) q = correct_bias(model, q, calibration, o->q);
    if (o->target_psnr > 0) {
      MixedPrecisionReport r;
      q = mixed_precision(model, q, calibration, o->q, o->target_psnr, parse_precision(o->keep_precision), &r);
      std::string kept;
      for (const auto& k : r.kept) kept += (kept.empty() ? "" : ", ") + k;
      status(cat("sira quantize: all int8 ", r.all_int8_psnr, " dB vs fp32; kept in ", o->keep_precision, ": ",
                 kept.empty() ? "none" : kept, " -> ", r.final_psnr, " dB"));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    save_model(q, o->output);
    std::size_t slices = 0;
    for (const auto& c : calibration) slices += c.images.depth;
    if (o->q.max_images) slices = std::min(slices, o->q.max_images);
    status(cat("sira quantize: ", slices, " calibration slice(s), method ", o->q.method,
               o->q.per_channel ? ", per-channel" : ", per-tensor", " ", o->q.weight_bits, "-bit weights, in ",
               seconds, " s; wrote ", o->output));
    return 0;
  };
}

const Command quantize_command{"quantize", "Quantise a model to int8 (calibrated on sample images)",
                               setup_quantize};

}  // namespace
}  // namespace sira::cli
