// sira import: read an fp32 TomoGAN-family ONNX graph (sira's own export or
// PyTorch's torch.onnx.export) into a sira model (docs/onnx.md, "Import").
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/onnx_import.hpp"
#include "sira/provenance.hpp"

namespace sira::cli {
namespace {

// protobuf's own limit for one message; the file is read whole.
constexpr std::uintmax_t kMaxOnnxBytes = std::uintmax_t(2) << 30;

struct ImportOptions {
  std::string input, output;
};

std::string read_onnx(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, ": cannot read (", ec.message(), ")");
  if (size > kMaxOnnxBytes) fail(path, ": ", size, " bytes, more than the 2 GiB a protobuf message can hold");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open");
  std::string bytes(std::size_t(size), '\0');
  f.read(bytes.data(), std::streamsize(size));
  if (std::uintmax_t(f.gcount()) != size) fail(path, ": cannot read (short read)");
  return bytes;
}

Runner setup_import(CLI::App& sub) {
  auto opts = std::make_shared<ImportOptions>();
  sub.add_option("-i,--input,input", opts->input, "ONNX file to read (fp32 TomoGAN-family graph)")->required();
  sub.add_option("-o,--output", opts->output, "Model file to write (.sira)")->required();
  sub.footer(
      "Accepts the graphs `sira export` writes and TomoGAN-shaped networks exported by PyTorch\n"
      "(torch.onnx.export): Conv (+ Relu), MaxPool 2x2, Resize/Upsample (bilinear half_pixel or\n"
      "nearest) or ConvTranspose 2x2/2, Concat, an optional global residual Add. Anything sira\n"
      "cannot compute exactly is refused naming the node. Without sira's normalisation in\n"
      "metadata_props the model gets fixed normalisation offset 0, scale 1 (stated on stderr).\n"
      "Examples:\n"
      "  sira import model.onnx -o model.sira\n"
      "  sira import -i tomogan.onnx -o tomogan.sira\n"
      "See docs/onnx.md.");
  return [opts] {
    const std::string bytes = read_onnx(opts->input);
    OnnxImportResult r;
    try {
      r = import_onnx(bytes);
    } catch (const Error& e) {
      fail(opts->input, ": ", e.what());
    }
    const std::string name = std::filesystem::path(opts->input).filename().string();
    for (const auto& note : r.notes)
      if (!global_options().quiet) std::cerr << "sira import: note: " << name << ": " << note << "\n";
    Model& model = r.model;
    model.info["imported_from"] = name;
    model.info["imported_from_hash"] = file_hash(opts->input);
    model.info["imported_by"] = std::string("sira ") + sira_version();
    save_model(model, opts->output);  // atomic: temporary name, then rename
    const TomoganConfig& cfg = model.config;
    status(cat("sira import: wrote ", opts->output, ": TomoGAN, ", cfg.slices, " slice(s), widths ",
               format_widths(cfg), ", ", upsample_name(cfg.upsample), " upsampling, ",
               cfg.residual ? "residual, " : "", build_graph(cfg).parameters(), " parameters, normalisation ",
               model.norm.mode));
    return 0;
  };
}

const Command import_command{"import", "Read an fp32 TomoGAN-family ONNX model into a sira model", setup_import};

}  // namespace
}  // namespace sira::cli
