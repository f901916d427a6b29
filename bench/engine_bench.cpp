// engine_bench: times the backends on a randomly initialised TomoGAN (fixed
// seed, no trained weights needed): per backend, size and thread count, a
// warm-up run (plans, weight packing, page faults) then the median of N runs,
// reported as ms and GMAC/s, with the oneDNN/ref ratio. The median process CPU
// time per run is printed too: on a shared machine the 1-thread CPU time is a
// steadier A/B figure than wall time (other jobs' time slices are not counted).
// A backend name may carry a precision: ref-bf16, ref-int8, onednn-bf16, onednn-int8 (the int8 model
// is the random one quantised here with plausible fixed ranges: speed does not
// depend on the values; 7-bit weights where the CPU has no VNNI).
//
//   engine_bench [--backends ref,onednn,onednn-int8] [--sizes 512,1024] [--threads 1,2]
//                [--runs 5] [--slices 3] [--upsample bilinear]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant.hpp"

namespace {

struct Options {
  std::vector<std::string> backends{"ref", "onednn"};
  std::vector<int> sizes{512, 1024};
  std::vector<int> threads{1, 2};
  int runs = 5;
  int slices = 3;
  std::string upsample = "bilinear";
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string p; std::getline(in, p, ',');)
    if (!p.empty()) parts.push_back(p);
  return parts;
}

int to_int(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  sira::fail("engine_bench: ", flag, " expects positive integers, got '", text, "'");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) sira::fail("engine_bench: ", flag, " needs a value (see the header of bench/engine_bench.cpp)");
    const std::string value = argv[++i];
    auto ints = [&] {
      std::vector<int> v;
      for (const auto& p : split(value)) v.push_back(to_int(flag, p));
      return v;
    };
    if (flag == "--backends") o.backends = split(value);
    else if (flag == "--sizes") o.sizes = ints();
    else if (flag == "--threads") o.threads = ints();
    else if (flag == "--runs") o.runs = to_int(flag, value);
    else if (flag == "--slices") o.slices = to_int(flag, value);
    else if (flag == "--upsample") o.upsample = value;
    else sira::fail("engine_bench: unknown option '", flag, "'");
  }
  return o;
}

// Int8 parameters for a benchmark: every tensor [0, 4] (the input [-0.1, 1.1],
// asymmetric, as the engine's normalised input), one group scale throughout so
// shared-scale rules hold, per-channel weights, int32 bias.
sira::Model bench_quantised(sira::Model m, const sira::Graph& g, int weight_bits) {
  sira::QuantParams q;
  q.weight_bits = weight_bits;
  const sira::ActivationParams input = sira::quant::activation_params(-0.1, 1.1);
  const sira::ActivationParams act = sira::quant::activation_params(0.0, 4.0);
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (int(i) != g.output) q.activations[g.nodes[i].name] = i == 0 ? input : act;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const sira::Node& n = g.nodes[i];
    if (!n.has_weights()) continue;
    const auto& w = m.tensor(n.name + ".weight").data;
    const auto& b = m.tensor(n.name + ".bias").data;
    const bool transposed = n.op == sira::OpKind::upsample;
    const std::size_t out = std::size_t(n.channels), per = w.size() / out;
    auto channel = [&](std::size_t k) { return transposed ? (k / 4) % out : k / per; };
    std::vector<double> max_abs(out, 0.0);
    for (std::size_t k = 0; k < w.size(); ++k)
      max_abs[channel(k)] = std::max(max_abs[channel(k)], double(std::abs(w[k])));
    sira::QuantLayer layer;
    for (double v : max_abs) layer.weight_scale.push_back(sira::quant::weight_scale(v, q.weight_qmax()));
    for (std::size_t k = 0; k < w.size(); ++k)
      layer.weight.push_back(sira::quant::quantize_weight(w[k], layer.scale(channel(k)), q.weight_qmax()));
    const float s_in = q.activations.at(g.nodes[n.inputs[0]].name).scale;
    for (std::size_t c = 0; c < out; ++c)
      layer.bias.push_back(sira::quant::quantize_bias(b[c], s_in, layer.scale(c)));
    q.layers[n.name] = std::move(layer);
  }
  m.quant = std::move(q);
  return m;
}

std::unique_ptr<sira::Backend> make(const std::string& name, const sira::Model& m,
                                    const sira::Graph& g, int threads) {
  if (name == "ref") return sira::make_ref_backend(m, g, threads);
  if (name == "onednn") return sira::make_onednn_backend(m, g, threads);
  if (name == "onednn-bf16")
    return sira::make_onednn_backend(m, g, threads, sira::LayerPrecision::bf16);
  if (name == "onednn-int8" || name == "ref-int8") {
    sira::Model q = bench_quantised(m, g, 8);
    if (!sira::onednn_unsupported(q, sira::LayerPrecision::int8).empty()) q = bench_quantised(m, g, 7);
    if (name == "ref-int8") return sira::make_ref_backend(q, g, threads, sira::LayerPrecision::int8);
    return sira::make_onednn_backend(q, g, threads, sira::LayerPrecision::int8);
  }
  if (name == "ref-bf16") return sira::make_ref_backend(m, g, threads, sira::LayerPrecision::bf16);
  sira::fail("engine_bench: unknown backend '", name,
             "' (expected ref, ref-bf16, ref-int8, onednn, onednn-bf16 or onednn-int8)");
}

struct Timing {
  double wall_ms = 0, cpu_ms = 0;  // medians
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Timing time_runs(sira::Backend& backend, const std::vector<float>& input, std::size_t n, int runs) {
  std::vector<float> out(n * n);
  backend.run(input.data(), n, n, out.data());  // warm-up
  std::vector<double> wall, cpu;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    backend.run(input.data(), n, n, out.data());
    cpu.push_back(1e3 * double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return {median(wall), median(cpu)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    sira::TomoganConfig cfg;
    cfg.slices = o.slices;
    cfg.upsample = sira::parse_upsample(o.upsample);
    const sira::Model model = sira::init_model(cfg, 2024);
    const sira::Graph graph = sira::build_graph(cfg);
    std::printf("TomoGAN %d slice(s), %s upsampling, %lld parameters, median of %d runs\n",
                o.slices, o.upsample.c_str(), static_cast<long long>(graph.parameters()), o.runs);
    std::printf("%-12s %6s %7s %10s %8s %8s %10s\n", "backend", "size", "threads", "median ms",
                "GMAC/s", "cpu ms", "vs ref");
    for (int n : o.sizes) {
      const std::size_t size = std::size_t(n);
      if (size % std::size_t(graph.multiple()))
        sira::fail("engine_bench: size ", n, " is not a multiple of ", graph.multiple());
      std::mt19937 gen(7);
      std::uniform_real_distribution<float> u(0.0f, 1.0f);
      std::vector<float> input(std::size_t(o.slices) * size * size);
      for (float& x : input) x = u(gen);
      const double gmac = graph.macs(size, size) * 1e-9;
      for (int t : o.threads) {
        std::map<std::string, double> ms;
        for (const auto& name : o.backends) {
          auto backend = make(name, model, graph, t);
          const Timing timing = time_runs(*backend, input, size, o.runs);
          ms[name] = timing.wall_ms;
          const auto ref = ms.find("ref");
          std::printf("%-12s %6d %7d %10.1f %8.1f %8.1f %10s\n", name.c_str(), n, t, ms[name],
                      gmac / (ms[name] * 1e-3), timing.cpu_ms,
                      ref != ms.end() && name != "ref"
                          ? sira::cat(ref->second / ms[name], "x").c_str() : "");
          std::fflush(stdout);
        }
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_bench: error: %s\n", e.what());
    return 1;
  }
}
