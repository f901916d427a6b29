#include "preprocess_options.hpp"
#include "core/whole_number.hpp"

#include <cstdio>

#include "command.hpp"
#include "sira/error.hpp"

namespace sira::cli {

void add_preprocess_options(CLI::App& app, PreprocessCli& p, const std::string& group) {
  p.zingers = app.add_option("--remove-zingers", p.zinger_threshold,
                           "Replace zingers (gamma spots) by their neighbourhood median: samples more than\n"
                           "THRESHOLD x median above the median of their --zinger-size square, in every flat,\n"
                           "dark and flat-corrected projection before -log (default threshold 0.2)")
                  ->expected(0, 1)->type_name("[=THRESHOLD]")->group(group);
  app.add_option("--zinger-size", p.zinger_size, "Zinger neighbourhood: 3 (3x3) or 5 (5x5)")
      ->capture_default_str()->check(CLI::IsMember({3, 5}))->group(group);
  app.add_flag("--fix-dead-pixels", p.fix_dead_pixels,
               "Find dead/hot detector pixels (flat <= 0, flat off its row neighbours' median by more\n"
               "than --dead-pixel-tolerance, or constant in every projection; without flats, from the\n"
               "projections) and interpolate them along the row in every projection")
      ->group(group);
  app.add_option("--dead-pixel-tolerance", p.dead_tolerance,
                 "Relative deviation from the 7 row neighbours' median that makes a pixel defective")
      ->capture_default_str()->check(CLI::PositiveNumber)->group(group);
  p.stripes = app.add_option("--remove-stripes", p.stripe_size,
                           "Remove stripes (rings) from the sinograms by sorting (Vo et al. 2018, algorithm 3):\n"
                           "median across SIZE detector columns of each column sorted along the angles\n"
                           "(odd SIZE, default 21, as algotom's remove_stripe_based_sorting)")
                  ->expected(0, 1)->type_name("[=SIZE]")->group(group);
}

namespace {

double number(const std::string& text, double fallback, const char* option) {
  if (text.empty()) return fallback;
  if (const std::optional<double> v = whole_double(text)) return *v;
  fail(option, "=", text, ": expected a number");
}

}  // namespace

void apply_preprocess_options(const PreprocessCli& p, tomo::ProjectionInput& in) {
  if (p.zingers && p.zingers->count()) {
    tomo::ZingerOptions z;
    z.threshold = number(p.zinger_threshold, 0.2, "--remove-zingers");
    z.size = p.zinger_size;
    tomo::check_zinger_options(z);
    in.zingers = z;
  }
  if (p.fix_dead_pixels) {
    tomo::DeadPixelOptions d;
    d.tolerance = p.dead_tolerance;
    in.dead_pixels = d;
  }
  if (p.stripes && p.stripes->count()) {
    tomo::StripeOptions s;
    const double size = number(p.stripe_size, 21, "--remove-stripes");
    s.size = int(size);
    if (double(s.size) != size) fail("--remove-stripes=", p.stripe_size, ": expected a whole number of columns");
    tomo::check_stripe_options(s, std::size_t(-1));
    in.stripes = s;
  }
}

void print_input_report(const std::string& tool, const tomo::InputReport& report) {
  for (const auto& note : report.notes) status(tool + ": note: " + note);
  for (const auto& w : report.warnings) std::fprintf(stderr, "%s: warning: %s\n", tool.c_str(), w.c_str());
}

}  // namespace sira::cli
