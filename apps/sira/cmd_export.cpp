// sira export: write a model as ONNX (docs/onnx.md), fp32 or int8 QDQ.
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

namespace sira::cli {
namespace {

struct ExportOptions {
  std::string model, output, profile = "ort";
  int opset = 13;
};

Runner setup_export(CLI::App& sub) {
  auto opts = std::make_shared<ExportOptions>();
  sub.add_option("-m,--model", opts->model, "Model file (.sira); an int8 model exports as QDQ")->required();
  sub.add_option("-o,--output", opts->output, "ONNX file to write")->required();
  sub.add_option("--opset", opts->opset, "ONNX opset")->check(CLI::IsMember({13, 17}))->capture_default_str();
  sub.add_option("--int8-profile", opts->profile,
                 "int8 only: ort (sira's integer arithmetic: uint8 codes, int32 bias, bit-identical in ONNX Runtime) or trt (canonical QDQ, zero points 0, float bias)")
      ->check(CLI::IsMember({"ort", "trt"}))
      ->capture_default_str();
  sub.footer(
      "The ONNX graph takes NORMALISED slices (N x C x H x W, H and W multiples of 8 for the\n"
      "default 3 levels); the model's normalisation is in metadata_props 'normalization'.\n"
      "Examples:\n"
      "  sira export -m models/tomogan-1slice.sira -o tomogan-1slice.onnx\n"
      "  sira export -m models/tomogan-3slice-int8.sira -o t3-int8.onnx --int8-profile trt --opset 17\n"
      "See docs/onnx.md.");
  return [opts] {
    const Model model = load_model(opts->model);
    OnnxExportOptions o;
    o.opset = opts->opset;
    o.profile = opts->profile == "trt" ? Int8Profile::trt : Int8Profile::ort;
    o.source_name = opts->model.substr(opts->model.find_last_of('/') + 1);
    o.source_hash = file_hash(opts->model);
    for (const auto& [key, value] : run_provenance().fields) o.provenance.emplace_back(key, provenance_text(value));
    std::string bytes;
    try {
      bytes = export_onnx(model, o);
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
    status(cat("sira export: wrote ", opts->output, " (", model.quant ? "int8 QDQ" : "fp32", ", opset ", o.opset,
               ", ", bytes.size(), " bytes)"));
    return 0;
  };
}

const Command export_command{"export", "Write a model as ONNX (fp32 or int8 QDQ)", setup_export};

}  // namespace
}  // namespace sira::cli
