// sira eval: SSIM and PSNR of a result stack against a reference stack, per
// slice and averaged, optionally also against a baseline (e.g. the fp32 output
// when RESULT is a quantised one). Definitions: docs/metrics.md.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/metrics.hpp"

namespace sira::cli {
namespace {

struct EvalOptions {
  std::string result, reference, baseline;
  std::optional<double> data_range;
  bool json = false;
};

struct Comparison {
  std::vector<QualityScores> per_slice;
  QualityScores mean;
};

Stack read_checked(const std::string& spec, const char* role) {
  Stack s = read_stack(spec);
  check_finite(s, cat(role, " ", spec));
  return s;
}

void require_same_shape(const Stack& a, const std::string& a_spec, const Stack& b,
                        const std::string& b_spec) {
  if (a.depth != b.depth || a.height != b.height || a.width != b.width)
    fail(a_spec, " is ", a.depth, "x", a.height, "x", a.width, " but ", b_spec, " is ", b.depth, "x",
         b.height, "x", b.width, " (slices x rows x columns); the shapes must match");
}

Comparison compare(const Stack& image, const Stack& reference, double data_range) {
  Comparison c;
  c.per_slice = score_slices(image, reference, data_range);
  for (const auto& s : c.per_slice) {
    c.mean.ssim += s.ssim;
    c.mean.psnr += s.psnr;  // +inf if any slice is identical: the mean is then +inf too
  }
  c.mean.ssim /= double(c.per_slice.size());
  c.mean.psnr /= double(c.per_slice.size());
  return c;
}

// JSON has no infinity: an infinite PSNR (identical images) is written as null.
nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json json_scores(const QualityScores& s) {
  return {{"ssim", json_number(s.ssim)}, {"psnr", json_number(s.psnr)}};
}

void print_json(double data_range, const std::string& range_source, const Comparison& vs_reference,
                const std::optional<Comparison>& vs_baseline) {
  nlohmann::json out;
  out["data_range"] = data_range;
  out["data_range_source"] = range_source;
  out["images"] = nlohmann::json::array();
  for (std::size_t i = 0; i < vs_reference.per_slice.size(); ++i) {
    nlohmann::json image = json_scores(vs_reference.per_slice[i]);
    image["index"] = i;
    if (vs_baseline) image["baseline"] = json_scores(vs_baseline->per_slice[i]);
    out["images"].push_back(std::move(image));
  }
  out["mean"] = json_scores(vs_reference.mean);
  if (vs_baseline) out["mean"]["baseline"] = json_scores(vs_baseline->mean);
  std::cout << out.dump(2) << "\n";
}

std::string format_psnr(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%12.4f", v);  // %f prints "inf" for identical images
  return buf;
}

void print_row(const std::string& label, const QualityScores& s, const QualityScores* baseline) {
  std::printf("%6s %10.6f %s", label.c_str(), s.ssim, format_psnr(s.psnr).c_str());
  if (baseline) std::printf(" %13.6f %s", baseline->ssim, format_psnr(baseline->psnr).c_str());
  std::printf("\n");
}

void print_table(double data_range, const std::string& range_source, const Comparison& vs_reference,
                 const std::optional<Comparison>& vs_baseline) {
  std::printf("data range: %.9g (%s)\n", data_range, range_source.c_str());
  std::printf("%6s %10s %12s", "slice", "SSIM", "PSNR [dB]");
  if (vs_baseline) std::printf(" %13s %12s", "SSIM vs base", "PSNR vs base");
  std::printf("\n");
  for (std::size_t i = 0; i < vs_reference.per_slice.size(); ++i)
    print_row(std::to_string(i), vs_reference.per_slice[i],
              vs_baseline ? &vs_baseline->per_slice[i] : nullptr);
  print_row("mean", vs_reference.mean, vs_baseline ? &vs_baseline->mean : nullptr);
}

int run_eval(const EvalOptions& o) {
  const Stack result = read_checked(o.result, "result");
  const Stack reference = read_checked(o.reference, "reference");
  require_same_shape(result, o.result, reference, o.reference);
  if (result.height < kSsimWindow || result.width < kSsimWindow)
    fail(o.result, ": slices of ", result.height, "x", result.width, " are smaller than the ",
         kSsimWindow, "x", kSsimWindow, " SSIM window");
  std::optional<Stack> baseline;
  if (!o.baseline.empty()) {
    baseline = read_checked(o.baseline, "baseline");
    require_same_shape(result, o.result, *baseline, o.baseline);
  }

  double data_range = 0.0;
  std::string range_source;
  if (o.data_range) {
    data_range = *o.data_range;
    if (!std::isfinite(data_range) || data_range <= 0.0)
      fail("--data-range must be a finite value > 0, got ", data_range);
    range_source = "--data-range";
  } else {
    data_range = value_range(reference);
    if (data_range <= 0.0)
      fail("reference ", o.reference, " is constant (max = min), so it defines no data range; "
           "give --data-range");
    range_source = "max - min of the reference";
  }

  const Comparison vs_reference = compare(result, reference, data_range);
  std::optional<Comparison> vs_baseline;
  if (baseline) vs_baseline = compare(result, *baseline, data_range);

  if (o.json)
    print_json(data_range, range_source, vs_reference, vs_baseline);
  else
    print_table(data_range, range_source, vs_reference, vs_baseline);
  return 0;
}

const Command eval_command{
    "eval", "SSIM and PSNR of a result against a reference, per slice and averaged",
    [](CLI::App& sub) -> Runner {
      auto o = std::make_shared<EvalOptions>();
      sub.add_option("-i,--input", o->result, "Result image or stack (e.g. denoised.tif, out.h5:/data)")
          ->required()
          ->type_name("RESULT");
      sub.add_option("-r,--reference", o->reference, "Reference (ground truth) with the same shape")
          ->required()
          ->type_name("REFERENCE");
      sub.add_option("--baseline,--fp32", o->baseline,
                     "Optional third stack of the same shape (e.g. the fp32 output when RESULT is "
                     "the int8 or bf16 one): also report SSIM/PSNR of RESULT against it, with the "
                     "same data range")
          ->type_name("BASELINE");
      sub.add_option("--data-range", o->data_range,
                     "Data range R of SSIM and PSNR (default: max - min over the whole reference stack)")
          ->type_name("R");
      sub.add_flag("--json", o->json, "Print a JSON object instead of a table");
      sub.footer(
          "SSIM is scikit-image's structural_similarity(result, reference, data_range=R,\n"
          "gaussian_weights=True, sigma=1.5, use_sample_covariance=False), computed in double;\n"
          "PSNR = 10 log10(R^2 / MSE) (inf, or null in JSON, for identical slices). Each slice\n"
          "of a stack is scored on its own; 'mean' is the average of the per-slice values.\n"
          "Slices must be at least 11x11 (the SSIM window). NaN/Inf samples are an error.\n\n"
          "Examples:\n"
          "  sira eval -i denoised.tif -r clean.tif\n"
          "  sira eval -i recon.h5:/exchange/denoised -r recon.h5:/exchange/clean --data-range 1 --json\n"
          "  sira eval -i out_int8.npy -r clean.npy --fp32 out_fp32.npy");
      return [o] { return run_eval(*o); };
    }};

}  // namespace
}  // namespace sira::cli
