// sira keep-grain: make a residual model leave a share of what it removes.
// A denoiser trained towards full-dose scans learns to remove nearly all of a
// low-dose scan's noise, while the full-dose scan itself keeps a grain that
// shares photons with the input; keeping a share b of the removed part
// (output = input + (1 - b) * correction) restores that grain. The share of the
// shipped models is chosen by leave-one-source-out on the training scans
// (scripts/keep-grain.py, docs/training.md); a user may set their own.
#include <cmath>
#include <memory>

#include "command.hpp"
#include "core/whole_number.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"

namespace sira::cli {
namespace {

struct KeepGrainOptions {
  std::string model, output;
  double share = 0;
};

// The share a model keeps already (info.keep_grain), 0 when none is recorded.
double recorded_share(const Model& m, const std::string& path) {
  const auto it = m.info.find("keep_grain");
  if (it == m.info.end()) return 0;
  const double v = whole_double(it->second).value_or(-1);
  if (v >= 0 && v < 1) return v;
  fail(path, ": info.keep_grain is '", it->second, "', expected a number in [0, 1)");
}

Runner setup_keep_grain(CLI::App& sub) {
  auto o = std::make_shared<KeepGrainOptions>();
  sub.add_option("-m,--model", o->model, "fp32 residual model (.sira)")->required();
  sub.add_option("-o,--output", o->output, "Model to write")->required();
  sub.add_option("--share", o->share,
                 "Share b of what the trained network removes to keep: output = input + (1 - b) * its correction")
      ->required()->check(CLI::Range(0.0, 0.9));
  sub.footer(
      "Exact: the final convolution has no activation, so its weights and bias are scaled. The share is\n"
      "always relative to the trained network (info.keep_grain records it), so --share 0 undoes any\n"
      "earlier setting. Quantise after this step (sira quantize, sira train --qat).\n"
      "Examples:\n"
      "  sira keep-grain -m models/tomogan-1slice.sira -o smoother.sira --share 0\n"
      "  sira keep-grain -m model.sira -o grainier.sira --share 0.2");
  return [o] {
    Model m = load_model(o->model);
    const double before = recorded_share(m, o->model);
    Model out = scale_correction(m, (1.0 - o->share) / (1.0 - before));
    out.info["keep_grain"] = cat(o->share);
    save_model(out, o->output);
    status(cat("sira keep-grain: wrote ", o->output, ": keeps ", o->share, " of what its network removes"));
    return 0;
  };
}

const Command keep_grain_command{"keep-grain", "Make a residual model keep a share of the grain it removes",
                                 setup_keep_grain};

}  // namespace
}  // namespace sira::cli
