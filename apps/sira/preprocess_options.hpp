// Pre-processing options of measured projections shared by `sira recon` and
// `sira pairs`: zingers, dead pixels, stripes (src/tomo/zingers.cpp,
// dead_pixels.cpp, stripes.cpp), and how the input report is shown.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "sira/tomo/dxchange.hpp"

namespace sira::cli {

struct PreprocessCli {
  std::string zinger_threshold;  // "" = the default (0.2) when the flag is given
  int zinger_size = 3;
  bool fix_dead_pixels = false;
  double dead_tolerance = 0.1;
  std::string stripe_size;       // "" = the default (21) when the flag is given
  CLI::Option *zingers = nullptr, *stripes = nullptr;
};

// Adds --remove-zingers[=T], --zinger-size, --fix-dead-pixels, --dead-pixel-tolerance,
// --remove-stripes[=SIZE] to `app` (into `group` if given).
void add_preprocess_options(CLI::App& app, PreprocessCli& p, const std::string& group = "Pre-processing");

// Copies the chosen corrections into `in`.
void apply_preprocess_options(const PreprocessCli& p, tomo::ProjectionInput& in);

// Notes through status(), warnings always (stderr), prefixed by `tool`.
void print_input_report(const std::string& tool, const tomo::InputReport& report);

}  // namespace sira::cli
