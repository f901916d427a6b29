// sira bench: times the engine on one image (a random-weight TomoGAN unless -m
// gives a model): warm-up, median/min/max ms, GMAC/s, peak RSS and the fraction
// of this CPU's measured arithmetic peak; --peak measures that peak alone.
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <vector>

#include "command.hpp"
#include "image_size_option.hpp"
#include "precision_option.hpp"
#include "core/arith_peak.hpp"
#include "engine/backend.hpp"
#include "engine/ref/fp32_conv_kernels.hpp"
#include "engine/ref/int8_conv_kernels.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant.hpp"

namespace sira::cli {
namespace {

struct BenchOptions {
  std::string model, size = "1024";
  int slices = 3, runs = 5, warmup = 1;
  std::uint64_t seed = 0;
  EngineOptions engine;
  bool json = false, peak = false;
};

// Peak resident set of this process in MB: VmHWM, else getrusage's ru_maxrss.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // kB on Linux
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string one_decimal(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

// Floor = the model's MACs at the peak rate of `threads` cores.
double floor_ms(const ArithPeak& p, double macs, int threads) {
  return p.available ? 1e3 * macs / (p.macs_per_second * threads) : 0.0;
}

nlohmann::json peak_json(const ArithPeak& p, double macs, int threads) {
  nlohmann::json j{{"precision", p.precision}, {"instruction", p.instruction}, {"available", p.available}};
  if (p.available) {
    j["gmac_per_s_per_core"] = p.macs_per_second / 1e9;
    j["gops_per_core"] = 2 * p.macs_per_second / 1e9;  // a MAC is two operations
    j["floor_ms"] = floor_ms(p, macs, threads);
  }
  return j;
}

struct Network {
  Model model;
  std::string description;
};

// Int8 parameters for a random model (speed does not depend on their values):
// input range [-0.1, 1.1], every other tensor [0, 4] (one scale, so the shared-
// scale rules hold), per-channel weight scales, int32 bias. 7-bit weights when
// oneDNN cannot run 8-bit ones on this CPU (no VNNI: vpmaddubsw saturates).
Model quantised_for_bench(const Model& fp32, int weight_bits) {
  Model m = fp32;
  const Graph g = build_graph(m.config);
  QuantParams q;
  q.weight_bits = weight_bits;
  q.method = "fixed ranges (sira bench)";
  const ActivationParams input = quant::activation_params(-0.1, 1.1), act = quant::activation_params(0.0, 4.0);
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (int(i) != g.output) q.activations[g.nodes[i].name] = i == 0 ? input : act;
  for (const Node& n : g.nodes) {
    if (!n.has_weights()) continue;
    const auto& w = m.tensor(n.name + ".weight").data;
    const auto& b = m.tensor(n.name + ".bias").data;
    const bool transposed = n.op == OpKind::upsample;  // weight [in, out, 2, 2]
    const std::size_t out = std::size_t(n.channels), per = w.size() / out;
    auto channel = [&](std::size_t k) { return transposed ? (k / 4) % out : k / per; };
    std::vector<double> max_abs(out, 0.0);
    for (std::size_t k = 0; k < w.size(); ++k)
      max_abs[channel(k)] = std::max(max_abs[channel(k)], double(std::abs(w[k])));
    QuantLayer layer;
    for (double v : max_abs) layer.weight_scale.push_back(quant::weight_scale(v, q.weight_qmax()));
    for (std::size_t k = 0; k < w.size(); ++k)
      layer.weight.push_back(quant::quantize_weight(w[k], layer.scale(channel(k)), q.weight_qmax()));
    const float s_in = q.activations.at(g.nodes[n.inputs[0]].name).scale;
    for (std::size_t c = 0; c < out; ++c) layer.bias.push_back(quant::quantize_bias(b[c], s_in, layer.scale(c)));
    q.layers[n.name] = std::move(layer);
  }
  m.quant = std::move(q);
  return m;
}

// An fp32 model timed at int8 is quantised here with fixed ranges: the speed
// is the same as with calibrated ranges (sira quantize makes a usable model).
Network for_precision(Model m, std::string what, Precision precision) {
  if (precision != Precision::int8 || m.quant) return {std::move(m), std::move(what)};
  Model q = quantised_for_bench(m, 8);
  if (onednn_available() && !onednn_unsupported(q, LayerPrecision::int8).empty()) {
    q = quantised_for_bench(m, 7);
    return {std::move(q), what + ", quantised here with fixed ranges, 7-bit weights"};
  }
  return {std::move(q), what + ", quantised here with fixed ranges"};
}

Network make_network(const BenchOptions& o) {
  if (!o.model.empty()) {
    Model m = load_model(o.model);
    std::string what = cat(o.model, " (", m.config.slices, " slice(s), ", m.trained ? "trained" : "untrained",
                           m.quant ? ", int8" : "", ")");
    return for_precision(std::move(m), what, o.engine.precision);
  }
  TomoganConfig cfg;
  cfg.slices = o.slices;
  cfg.validate();
  return for_precision(init_model(cfg, o.seed),
                       cat("TomoGAN ", o.slices, " slice(s), published widths, random weights (seed ", o.seed, ")"),
                       o.engine.precision);
}

int run_peak(const BenchOptions& o, const Graph& graph, const std::string& what, std::size_t h,
             std::size_t w) {
  const double macs = graph.macs(h, w);
  const int threads = resolve_threads(o.engine.threads);
  nlohmann::json peaks = nlohmann::json::array();
  if (!o.json) {
    std::printf("arithmetic peak per core (one thread, fastest of short repetitions)\n");
    std::printf("floor = %s GMAC of %s at %zux%zu on %d thread(s) at that peak\n\n",
                one_decimal(macs / 1e9).c_str(), what.c_str(), h, w, threads);
    std::printf("%-9s %-48s %12s %12s %10s\n", "precision", "instruction", "GMAC/s/core", "GOP/s/core",
                "floor ms");
  }
  // With AVX-512, fp32 also at 256 bits: the peak of the x86-64-v3 kernels.
  std::vector<ArithPeak> measured;
  for (const std::string& precision : arith_peak_precisions()) {
    measured.push_back(measure_arith_peak(precision));
    if (precision == "fp32" && measured.back().instruction.find("zmm") != std::string::npos)
      measured.push_back(measure_arith_peak(precision, 0.15, 256));
  }
  for (const ArithPeak& p : measured) {
    peaks.push_back(peak_json(p, macs, threads));
    if (o.json) continue;
    if (p.available)
      std::printf("%-9s %-48s %12.1f %12.1f %10.1f\n", p.precision.c_str(), p.instruction.c_str(),
                  p.macs_per_second / 1e9, 2 * p.macs_per_second / 1e9, floor_ms(p, macs, threads));
    else
      std::printf("%-9s %s\n", p.precision.c_str(), p.instruction.c_str());
  }
  if (o.json)
    std::cout << nlohmann::json{{"size", {h, w}}, {"threads", threads}, {"gmac", macs / 1e9}, {"peaks", peaks}}
                     .dump(2)
              << "\n";
  return 0;
}

int run_bench(const BenchOptions& o) {
  // Plain variables, not a structured binding: the timing lambda captures them (C++20 forbids that; clang refuses).
  const auto bench_size = parse_image_size("--size", o.size);
  const std::size_t h = bench_size.first, w = bench_size.second;
  if (o.runs < 1) fail("--runs ", o.runs, ": at least one timed run is needed");
  const Network net = make_network(o);
  const Graph graph = build_graph(net.model.config);
  if (o.peak) return run_peak(o, graph, net.description, h, w);

  // Measured before the engine starts its threads, on an otherwise idle process.
  const std::string precision = precision_name(o.engine.precision);
  ArithPeak peak = measure_arith_peak(precision);
  std::unique_ptr<Engine> engine;
  try {
    engine = std::make_unique<Engine>(net.model, o.engine);
  } catch (const Error& e) {
    fail("the engine refused --precision ", precision, " --backend ", o.engine.backend, ": ",
         e.what());
  }
  // A normalised input (what the network sees after the intensity map); the
  // timing covers padding, tiling and the network, not file I/O.
  const std::size_t cin = std::size_t(graph.in_channels);
  std::vector<float> input(cin * h * w), output(h * w);
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& v : input) v = uniform(gen);

  auto timed_run = [&](double& cpu_ms) {
    const std::clock_t cpu_start = std::clock();
    const auto start = std::chrono::steady_clock::now();
    engine->run_normalised(input.data(), h, w, output.data());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    cpu_ms = 1e3 * double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    return ms;
  };
  // The ref backend's convolutions run one of several ISA kernels (kernel_table.hpp);
  // one limited to x86-64-v3 is measured against the 256-bit peak, not AVX-512's.
  const bool ref_backend = engine->backend_name() == "ref";
  const std::string conv_kernel = !ref_backend                   ? ""
                                  : o.engine.precision == Precision::int8 ? ref::int8_conv_kernel_name(ref::int8_conv_kernel())
                                                                 : ref::fp32_conv_kernel_name(ref::fp32_conv_kernel());
  if (conv_kernel == "x86-64-v3") peak = measure_arith_peak(precision, 0.15, 256);
  std::vector<double> warmup_ms, wall, cpu;
  for (int i = 0; i < o.warmup; ++i) {
    double c = 0;
    warmup_ms.push_back(timed_run(c));
  }
  for (int r = 0; r < o.runs; ++r) {
    double c = 0;
    wall.push_back(timed_run(c));
    cpu.push_back(c);
  }
  const double macs = graph.macs(h, w);
  const double med = median(wall);
  const double gmacs = macs / 1e9 / (med / 1e3);
  const int threads = engine->threads();
  const double fraction = peak.available ? gmacs * 1e9 / (peak.macs_per_second * threads) : 0.0;
  const double rss = peak_rss_mb();

  if (o.json) {
    nlohmann::json j{{"model", o.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.model)},
                     {"network", net.description},
                     {"slices", net.model.config.slices},
                     {"size", {h, w}},
                     {"precision", precision},
                     {"backend", engine->backend_name()},
                     {"conv_kernel", conv_kernel.empty() ? nlohmann::json(nullptr) : nlohmann::json(conv_kernel)},
                     {"threads", threads},
                     {"tile", o.engine.tile},
                     {"tile_halo", engine->tile_halo()},
                     {"runs", o.runs},
                     {"warmup_ms", warmup_ms},
                     {"times_ms", wall},
                     {"median_ms", med},
                     {"min_ms", *std::min_element(wall.begin(), wall.end())},
                     {"max_ms", *std::max_element(wall.begin(), wall.end())},
                     {"median_cpu_ms", median(cpu)},
                     {"gmac", macs / 1e9},
                     {"gmac_per_s", gmacs},
                     {"megapixels_per_s", double(h) * double(w) / 1e6 / (med / 1e3)},
                     {"peak_rss_mb", rss},
                     {"peak", peak_json(peak, macs, threads)},
                     {"fraction_of_peak", peak.available ? nlohmann::json(fraction) : nlohmann::json(nullptr)}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s\n", net.description.c_str());
  std::printf("%zux%zu, %s, backend %s%s, %d thread(s), %s; %s GMAC per image\n", h, w,
              precision.c_str(), engine->backend_name().c_str(),
              conv_kernel.empty() ? "" : cat(" (conv kernel ", conv_kernel, ")").c_str(), threads,
              o.engine.tile ? cat("tile ", o.engine.tile, " + halo ", engine->tile_halo()).c_str() : "untiled",
              one_decimal(macs / 1e9).c_str());
  std::printf("warm-up %.1f ms, then %d run(s): median %.1f ms, min %.1f, max %.1f (median CPU time %.1f ms)\n",
              warmup_ms.empty() ? 0.0 : warmup_ms.front(), o.runs, med,
              *std::min_element(wall.begin(), wall.end()), *std::max_element(wall.begin(), wall.end()),
              median(cpu));
  if (peak.available)
    std::printf("%.1f GMAC/s = %.0f%% of the measured peak (%d x %.1f GMAC/s per core, %s; floor %.1f ms)\n",
                gmacs, 100 * fraction, threads, peak.macs_per_second / 1e9, peak.instruction.c_str(),
                floor_ms(peak, macs, threads));
  else
    std::printf("%.1f GMAC/s (arithmetic peak for %s: %s)\n", gmacs, precision.c_str(),
                peak.instruction.c_str());
  std::printf("peak RSS %.1f MB\n", rss);
  return 0;
}

Runner setup_bench(CLI::App& sub) {
  auto opts = std::make_shared<BenchOptions>();
  auto* model = sub.add_option("-m,--model", opts->model, "Model file to time (default: a random-weight TomoGAN)");
  sub.add_option("--slices", opts->slices, "Input slices of the random-weight TomoGAN")
      ->check(CLI::IsMember({1, 3}))
      ->excludes(model)
      ->capture_default_str();
  sub.add_option("--seed", opts->seed, "Seed of the random weights")->excludes(model)->capture_default_str();
  sub.add_option("--size", opts->size, "Image size: N (square) or HxW")->capture_default_str();
  add_precision_option(sub, opts->engine.precision, "Arithmetic precision (the engine may refuse one)");
  sub.add_option("--backend", opts->engine.backend, "auto, ref or onednn")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  sub.add_option("--threads", opts->engine.threads, "Threads (0 = every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--tile", opts->engine.tile, "Tile edge in pixels (0 = whole image)")->capture_default_str();
  sub.add_option("--halo", opts->engine.halo,
                 "Tile overlap in pixels (default: the receptive radius: tiled equals untiled)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--runs", opts->runs, "Timed runs after the warm-up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--warmup", opts->warmup, "Untimed warm-up runs (plans, weight packing, page faults)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_flag("--json", opts->json, "Print JSON");
  sub.add_flag("--peak", opts->peak,
               "Measure this CPU's per-core arithmetic peak (FMA fp32, VDPBF16PS bf16, VPDPBUSD or "
               "AVX2 int8; with AVX-512 also 256-bit fp32 FMA) and the floor it implies for the model and "
               "size; runs no network");
  sub.footer(
      "Examples:\n"
      "  sira bench --size 1024 --threads 2\n"
      "  sira bench --slices 1 --size 512x768 --precision int8 --runs 10 --json\n"
      "  sira bench -m model.sira --size 4096 --tile 256\n"
      "  sira bench --peak --size 1024 --threads 2\n"
      "Times cover the network, padding and tiling on a random normalised input (no file\n"
      "I/O). GMAC/s counts the model's MACs for the image (not the tiles' halos). The\n"
      "fraction of peak divides by threads x the one-core peak of the same precision (the\n"
      "256-bit one when the ref backend's conv kernel is x86-64-v3: SIRA_FP32_CONV_KERNEL).\n"
      "--precision int8 on an fp32 model quantises it with fixed ranges (7-bit weights where\n"
      "oneDNN needs them): the speed of a calibrated model, not its output.");
  return [opts] {
    use_threads(opts->engine.threads);
    return run_bench(*opts);
  };
}

const Command bench_command{"bench", "Time the engine on a random or given model; measure the CPU's peak",
                            setup_bench};

}  // namespace
}  // namespace sira::cli
