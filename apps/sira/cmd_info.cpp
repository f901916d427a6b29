// sira info: the layers, parameters and MACs of a model file or of an
// architecture given by flags, plus a file's metadata.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "command.hpp"
#include "image_size_option.hpp"
#include "engine/tiling.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/io.hpp"
#include "sira/model.hpp"

namespace sira::cli {
namespace {

struct InfoOptions {
  std::string file, model, arch = "tomogan", widths, upsample = "bilinear", size = "1024x1024";
  int slices = 3;
  bool json = false;
};

// 694913 -> "694,913"
std::string grouped(std::int64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string node_op(const Node& n) {
  std::string op = op_name(n.op);
  if (n.op == OpKind::upsample) op += cat("(", upsample_name(n.upsample), ")");
  if (n.relu) op += "+relu";
  return op;
}

nlohmann::json to_json(const Model* model, const std::string& path, const TomoganConfig& cfg, const Graph& g,
                       std::size_t h, std::size_t w) {
  nlohmann::json j;
  j["model"] = model ? nlohmann::json(path) : nlohmann::json(nullptr);
  j["arch"] = "tomogan";
  j["slices"] = cfg.slices;
  j["levels"] = cfg.levels();
  j["widths"] = {{"stem", cfg.stem}, {"encoder", cfg.encoder}, {"bottleneck", cfg.bottleneck},
                 {"decoder", cfg.decoder}, {"head", cfg.head}};
  j["upsample"] = upsample_name(cfg.upsample);
  j["residual"] = cfg.residual;
  j["size"] = {h, w};
  j["multiple"] = g.multiple();
  j["receptive_radius"] = g.receptive_radius();
  j["tile_halo"] = tile_halo(g.receptive_radius(), std::size_t(g.multiple()));
  j["parameters"] = g.parameters();
  j["macs"] = g.macs(h, w);
  j["gmac"] = g.macs(h, w) / 1e9;
  j["layers"] = nlohmann::json::array();
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const Node& n = g.nodes[i];
    j["layers"].push_back({{"name", n.name}, {"op", op_name(n.op)}, {"relu", n.relu},
                           {"channels", n.channels}, {"level", n.level}, {"kernel", n.kernel},
                           {"parameters", g.parameters(i)}, {"macs", g.macs(i, h, w)}});
  }
  if (model) {
    j["format_version"] = model->format_version;
    j["trained"] = model->trained;
    j["normalization"] = {{"mode", model->norm.mode}, {"offset", model->norm.offset},
                          {"scale", model->norm.scale},
                          {"percentiles", {model->norm.low_percentile, model->norm.high_percentile}},
                          {"block", model->norm.block}};
    j["info"] = model->info;
  }
  return j;
}

void print_table(const Model* model, const std::string& path, const TomoganConfig& cfg, const Graph& g,
                 std::size_t h, std::size_t w) {
  std::ostream& out = std::cout;
  if (model) {
    out << "model: " << path << " (sira format version " << model->format_version << ")\n";
    out << "trained: "
        << (model->trained ? "yes" : "NO - randomly initialised, outputs are not restorations") << "\n";
    const Normalization& n = model->norm;
    if (n.mode == "fixed")
      out << "normalisation: fixed, x_net = (x - " << n.offset << ") * " << n.scale << "\n";
    else
      out << "normalisation: per_image, percentiles " << n.low_percentile << ".." << n.high_percentile
          << (n.block > 1 ? cat(" of ", n.block, "x", n.block, " block means") : std::string()) << " -> [0, 1]\n";
    for (const auto& [k, v] : model->info) out << "info." << k << ": " << v << "\n";
  }
  out << "architecture: TomoGAN generator, " << cfg.slices << " input slice(s), " << cfg.levels()
      << " levels, widths " << format_widths(cfg) << ", " << upsample_name(cfg.upsample) << " upsampling"
      << (cfg.residual ? ", global residual (output = centre input + network)" : "") << "\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-14s %-24s %6s %5s %6s %10s %12s\n", "layer", "op", "out", "level",
                "kernel", "params", "MMAC");
  out << line;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const Node& n = g.nodes[i];
    const std::string kernel = n.kernel ? cat(n.kernel, "x", n.kernel) : "-";
    std::snprintf(line, sizeof line, "%-14s %-24s %6d %5d %6s %10s %12.1f\n", n.name.c_str(),
                  node_op(n).c_str(), n.channels, n.level, kernel.c_str(), grouped(g.parameters(i)).c_str(),
                  g.macs(i, h, w) / 1e6);
    out << line;
  }
  const double macs = g.macs(h, w);
  std::snprintf(line, sizeof line, "%.1f", macs / 1e9);
  out << "\nparameters: " << grouped(g.parameters()) << "\n";
  out << "compute at " << h << "x" << w << ": " << line << " GMAC ("
      << grouped(static_cast<std::int64_t>(macs)) << " multiply-accumulates)\n";
  out << "receptive radius: " << g.receptive_radius() << " px (default tile halo "
      << tile_halo(g.receptive_radius(), std::size_t(g.multiple())) << " px: rounded up to the multiple); input "
      << "sides are padded to a multiple of " << g.multiple() << "\n";
}

// sira info FILE: what made an output (its provenance), or a model file's description.
int print_file_provenance(const std::string& file, bool json) {
  const auto fields = read_provenance(file);
  if (json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& [k, v] : fields) j[k] = v;
    std::cout << j.dump(2) << "\n";
  } else if (fields.empty()) {
    std::cout << file << ": no provenance recorded"
              << (parse_location(file).format == Format::npy ? " (.npy files have no place for it)" : "") << "\n";
  } else {
    for (const auto& [k, v] : fields) std::cout << k << ": " << v << "\n";
  }
  return 0;
}

Runner setup_info(CLI::App& sub) {
  auto opts = std::make_shared<InfoOptions>();
  sub.add_option("file", opts->file,
                 "An output of sira (image.tif, stack.npy, file.h5:/dataset, image.png): print what made it; "
                 "a .sira file: as -m");
  sub.add_option("-m,--model", opts->model, "Model file to describe (otherwise the architecture flags)");
  sub.add_option("--arch", opts->arch, "Architecture, when no model file is given")
      ->check(CLI::IsMember({"tomogan"}))
      ->capture_default_str();
  sub.add_option("--slices", opts->slices, "Input slices (channels), when no model file is given")
      ->capture_default_str();
  sub.add_option("--widths", opts->widths,
                 "Channel widths: stem, L encoder widths, bottleneck, L decoder widths, head "
                 "(default 8,32,64,128,128,64,32,32,16)");
  sub.add_option("--upsample", opts->upsample, "Decoder upsampling: bilinear, nearest or transposed")
      ->capture_default_str();
  sub.add_option("--size", opts->size, "Image size HxW for the MAC count (padded to the network's multiple)")
      ->capture_default_str();
  sub.add_flag("--json", opts->json, "Print JSON instead of a table");
  sub.footer(
      "Examples:\n"
      "  sira info --arch tomogan --slices 3 --size 1024x1024     (694,913 parameters, 97.2 GMAC)\n"
      "  sira info -m model.sira\n"
      "  sira info restored.h5:/data          (the provenance of an output)\n"
      "  sira info -m model.sira --size 2048x2048 --json\n"
      "  sira info --slices 1 --widths 8,16,32,32,16,16,8 --upsample transposed");
  return [opts, &sub] {
    if (!opts->file.empty()) {
      const bool model_file = opts->file.size() > 5 && opts->file.compare(opts->file.size() - 5, 5, ".sira") == 0;
      if (!model_file) return print_file_provenance(opts->file, opts->json);
      if (!opts->model.empty()) fail("give the model once: as FILE or with -m");
      opts->model = opts->file;
    }
    const auto [h, w] = parse_image_size("--size", opts->size);
    std::optional<Model> model;
    TomoganConfig cfg;
    if (!opts->model.empty()) {
      for (const char* flag : {"--slices", "--widths", "--upsample", "--arch"})
        if (sub.count(flag)) fail(flag, " describes an architecture; it cannot be combined with -m");
      model = load_model(opts->model);
      cfg = model->config;
    } else {
      cfg.slices = opts->slices;
      if (!opts->widths.empty()) parse_widths(opts->widths, cfg);
      cfg.upsample = parse_upsample(opts->upsample);
      cfg.validate();
    }
    const Graph g = build_graph(cfg);
    const Model* m = model ? &*model : nullptr;
    if (opts->json)
      std::cout << to_json(m, opts->model, cfg, g, h, w).dump(2) << "\n";
    else
      print_table(m, opts->model, cfg, g, h, w);
    return 0;
  };
}

const Command info_command{"info", "Layers, parameters and MACs of a model or architecture", setup_info};

}  // namespace
}  // namespace sira::cli
