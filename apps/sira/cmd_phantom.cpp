// sira phantom: write a Shepp-Logan or random foam/rock phantom (2-D image or
// 3-D volume) of attenuation per pixel, deterministic by seed.
#include <memory>
#include <optional>

#include "command.hpp"
#include "progress.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/tomo/phantom.hpp"

namespace sira::cli {
namespace {

struct PhantomCliOptions {
  std::string type = "shepp-logan", output, preview;
  tomo::PhantomOptions phantom;
};

Runner setup_phantom(CLI::App& sub) {
  auto opts = std::make_shared<PhantomCliOptions>();
  sub.add_option("type", opts->type, "shepp-logan (modified, Toft), foam (random rock/foam sample) or mixed (a random recipe per seed: sample size, feature scale, container, faint inclusions)")
      ->check(CLI::IsMember({"shepp-logan", "foam", "mixed"}))
      ->capture_default_str();
  sub.add_option("--size", opts->phantom.size, "Width = height in pixels")->capture_default_str()
      ->check(CLI::Range(2, 65536));
  sub.add_option("--slices", opts->phantom.slices, "Slices: 1 = 2-D image, more = 3-D volume")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  sub.add_option("--seed", opts->phantom.seed, "Random seed (foam, mixed)")->capture_default_str();
  sub.add_option("--attenuation", opts->phantom.attenuation,
                 "Line integral of density-1 material across the full image width (scales values)")
      ->capture_default_str();
  sub.add_option("--supersample", opts->phantom.supersample,
                 "Anti-aliasing samples per pixel per axis (0 = 4 in 2-D, 2 in 3-D)")
      ->capture_default_str()->check(CLI::Range(0, 16));
  sub.add_option("-o,--output", opts->output,
                 "Output (float32): image.tif, stack.npy or file.h5:/dataset")
      ->required();
  sub.add_option("--preview", opts->preview, "Also write an 8-bit PNG preview of the middle slice");
  sub.footer(
      "Values are linear attenuation per pixel (float32): projections of the phantom are\n"
      "line integrals in ~0..4 (transmission ~2 %..100 %).\n"
      "Examples:\n"
      "  sira phantom shepp-logan --size 512 -o shepp.tif --preview shepp.png\n"
      "  sira phantom foam --size 256 --slices 64 --seed 3 -o foam.h5:/phantom\n"
      "  sira phantom foam --size 1024 --seed 7 -o rock.npy");
  return [opts] {
    opts->phantom.kind = tomo::parse_phantom_kind(opts->type);
    status(cat("sira phantom: ", opts->type, " ", opts->phantom.slices, "x", opts->phantom.size, "x",
               opts->phantom.size));
    std::optional<ProgressBar> bar;
    const Stack s = tomo::make_phantom(opts->phantom, [&bar](std::size_t done, std::size_t total) {
      if (!bar) bar.emplace("phantom", total);
      bar->update(done);
    });
    if (bar) bar->finish();
    if (parse_location(opts->output).format == Format::png) {
      // PNG holds integers only: an 8-bit picture of the middle slice, full range.
      write_preview_png(opts->output, s, s.depth / 2, 0.0, 100.0);
      status("sira phantom: PNG output is an 8-bit picture; use .tif, .npy or .h5 for the values");
    } else {
      write_stack(opts->output, s, DType::f32);
    }
    if (!opts->preview.empty()) write_preview_png(opts->preview, s, s.depth / 2);
    status(cat("sira phantom: wrote ", opts->output));
    return 0;
  };
}

const Command phantom_command{"phantom", "Make a Shepp-Logan or foam/rock phantom (2-D or 3-D)", setup_phantom};

}  // namespace
}  // namespace sira::cli
