// sira init: write a randomly initialised (untrained) model, for benchmarks and
// tests that need no trained weights.
#include <memory>

#include "command.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira::cli {
namespace {

struct InitOptions {
  std::string output, widths, upsample = "bilinear";
  int slices = 3;
  std::uint64_t seed = 0;
  bool residual = false;
};

Runner setup_init(CLI::App& sub) {
  auto opts = std::make_shared<InitOptions>();
  sub.add_option("-o,--output", opts->output, "Model file to write (.sira, a safetensors file)")
      ->required();
  sub.add_option("--slices", opts->slices, "Input slices (channels): 1, or 3 adjacent slices")
      ->check(CLI::IsMember({1, 3}))
      ->capture_default_str();
  sub.add_option("--seed", opts->seed, "Random seed; the same seed gives the same model on every platform")
      ->capture_default_str();
  sub.add_option("--upsample", opts->upsample, "Decoder upsampling")
      ->check(CLI::IsMember({"bilinear", "nearest", "transposed"}))
      ->capture_default_str();
  sub.add_flag("--residual", opts->residual,
               "Global residual: the output is the centre input slice plus the network's correction");
  sub.add_option("--widths", opts->widths,
                 "Channel widths: stem, L encoder widths, bottleneck, L decoder widths, head "
                 "(default: the published TomoGAN, 8,32,64,128,128,64,32,32,16)");
  sub.footer(
      "The weights follow PyTorch's default Conv2d initialisation; the model is UNTRAINED\n"
      "(its output is meaningless as a restoration) and normalises each input slice by its\n"
      "0.5-99.5 percentile range. Use it for benchmarks, tests and as a training start.\n"
      "Examples:\n"
      "  sira init -o random.sira --slices 3 --seed 1\n"
      "  sira init -o small.sira --slices 1 --seed 7 --widths 8,16,32,32,16,16,8\n"
      "  sira init -o up.sira --upsample transposed\n"
      "See docs/model-format.md for the file format.");
  return [opts] {
    TomoganConfig cfg;
    cfg.slices = opts->slices;
    if (!opts->widths.empty()) parse_widths(opts->widths, cfg);
    cfg.upsample = parse_upsample(opts->upsample);
    cfg.residual = opts->residual;
    cfg.validate();
    const Model model = init_model(cfg, opts->seed);
    save_model(model, opts->output);
    status(cat("sira init: wrote ", opts->output, ": UNTRAINED TomoGAN (random weights, seed ", opts->seed,
               "), ", cfg.slices, " slice(s), widths ", format_widths(cfg), ", ", upsample_name(cfg.upsample),
               " upsampling, ", cfg.residual ? "residual, " : "", build_graph(cfg).parameters(), " parameters"));
    return 0;
  };
}

const Command init_command{"init", "Write a randomly initialised (untrained) model", setup_init};

}  // namespace
}  // namespace sira::cli
