// sira export: write a model as ONNX (docs/onnx.md), fp32 or int8 QDQ, or as a
// full-integer TFLite file for the Edge TPU compiler (docs/tflite.md).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include "command.hpp"
#include "sira/provenance.hpp"
#include "core/atomic_output.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"
#include "sira/onnx_export.hpp"
#include "sira/tflite_export.hpp"

namespace sira::cli {
namespace {

struct ExportOptions {
  std::string model, output, profile = "ort", format, tile = "256", output_range;
  int opset = 13;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "256" or "256x192" (height x width).
std::pair<int, int> parse_tile(const std::string& text) {
  int h = 0, w = 0;
  char x = 0, extra = 0;
  const int n = std::sscanf(text.c_str(), "%d%c%d%c", &h, &x, &w, &extra);
  if (n == 1) return {h, h};
  if (n == 3 && x == 'x') return {h, w};
  fail("--tile '", text, "': expected N or HxW (e.g. 256 or 256x192)");
}

std::pair<double, double> parse_range(const std::string& text) {
  double lo = 0, hi = 0;
  char comma = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%lf%c%lf%c", &lo, &comma, &hi, &extra) != 3 || comma != ',' || !(lo < hi))
    fail("--output-range '", text, "': expected LO,HI with LO < HI (normalised units, e.g. -0.5,1.5)");
  return {lo, hi};
}

std::string export_bytes(const ExportOptions& opts, const Model& model, std::string& what) {
  const std::string source_name = opts.model.substr(opts.model.find_last_of('/') + 1);
  const std::string source_hash = file_hash(opts.model);
  std::vector<std::pair<std::string, std::string>> provenance;
  for (const auto& [key, value] : run_provenance().fields) provenance.emplace_back(key, provenance_text(value));
  if (opts.format == "tflite") {
    TfliteExportOptions o;
    std::tie(o.tile_height, o.tile_width) = parse_tile(opts.tile);
    if (!opts.output_range.empty()) o.output_range = parse_range(opts.output_range);
    o.source_name = source_name;
    o.source_hash = source_hash;
    o.provenance = provenance;
    what = cat("TFLite int8, input 1x", o.tile_height, "x", o.tile_width, "x", model.config.slices);
    return export_tflite(model, o);
  }
  OnnxExportOptions o;
  o.opset = opts.opset;
  o.profile = opts.profile == "trt" ? Int8Profile::trt : Int8Profile::ort;
  o.source_name = source_name;
  o.source_hash = source_hash;
  o.provenance = provenance;
  what = cat(model.quant ? "int8 QDQ" : "fp32", ", opset ", o.opset);
  return export_onnx(model, o);
}

Runner setup_export(CLI::App& sub) {
  auto opts = std::make_shared<ExportOptions>();
  sub.add_option("-m,--model", opts->model, "Model file (.sira); an int8 model exports as QDQ")->required();
  sub.add_option("-o,--output", opts->output, "File to write (.onnx or .tflite)")->required();
  sub.add_option("--format", opts->format, "onnx or tflite (default: from the output's extension, .tflite -> tflite)")
      ->check(CLI::IsMember({"onnx", "tflite"}));
  CLI::Option* opset = sub.add_option("--opset", opts->opset, "ONNX opset")->check(CLI::IsMember({13, 17}))->capture_default_str();
  CLI::Option* profile = sub.add_option("--int8-profile", opts->profile,
                 "ONNX int8 only: ort (sira's integer arithmetic: uint8 codes, int32 bias, bit-identical in ONNX Runtime) or trt (canonical QDQ, zero points 0, float bias)")
      ->check(CLI::IsMember({"ort", "trt"}))
      ->capture_default_str();
  CLI::Option* tile = sub.add_option("--tile", opts->tile, "TFLite only: the static input size, N or HxW (multiples of 2^levels)")
      ->capture_default_str();
  CLI::Option* output_range = sub.add_option("--output-range", opts->output_range,
                 "TFLite only: LO,HI of the network's int8 output (before the residual) in normalised units (default: all the final conv can reach)");
  sub.footer(
      "The graph takes NORMALISED slices (ONNX: N x C x H x W, H and W multiples of 8 for the\n"
      "default 3 levels; TFLite: 1 x H x W x C at the tile size); the model's normalisation is\n"
      "in the metadata ('normalization').\n"
      "Examples:\n"
      "  sira export -m models/tomogan-1slice.sira -o tomogan-1slice.onnx\n"
      "  sira export -m models/tomogan-3slice-int8.sira -o t3-int8.onnx --int8-profile trt --opset 17\n"
      "  sira export -m models/tomogan-1slice-int8.sira -o t1-int8.tflite --tile 256 --output-range -0.5,1.5\n"
      "See docs/onnx.md and docs/tflite.md.");
  return [opts, opset, profile, tile, output_range] {
    if (opts->format.empty()) opts->format = ends_with(opts->output, ".tflite") ? "tflite" : "onnx";
    if (opts->format == "onnx" && (tile->count() || output_range->count()))
      fail("--tile and --output-range apply to --format tflite only (ONNX shapes are symbolic)");
    if (opts->format == "tflite" && (opset->count() || profile->count()))
      fail("--opset and --int8-profile apply to --format onnx only");
    const Model model = load_model(opts->model);
    std::string bytes, what;
    try {
      bytes = export_bytes(*opts, model, what);
    } catch (const Error& e) {
      fail(opts->model, ": ", e.what());
    }
    AtomicOutput out(opts->output);
    {
      std::ofstream f(out.temp_path(), std::ios::binary);
      f.write(bytes.data(), std::streamsize(bytes.size()));
      f.close();
      if (!f) fail(opts->output, ": cannot write");
    }
    out.commit();
    status(cat("sira export: wrote ", opts->output, " (", what, ", ", bytes.size(), " bytes)"));
    return 0;
  };
}

const Command export_command{"export", "Write a model as ONNX (fp32 or int8 QDQ) or full-integer TFLite",
                             setup_export};

}  // namespace
}  // namespace sira::cli
