// onednn_layout_probe: times every convolution shape of the published TomoGAN
// (3 slices) alone in oneDNN with NHWC, format_tag::any and nChw8c activations,
// and prints the kernel oneDNN chose (impl string), so a layout choice in
// src/engine/onednn/activation_layout.cpp can be checked on a new CPU.
// Weights are zero (speed does not depend on values); best of N runs; a
// reference kernel (ref:any, ref_int8:any) is named but not timed.
//
//   onednn_layout_probe [--size 512] [--type f32|u8] [--runs 3] [--threads 1]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Shape {
  int in, out, kernel, level;
};

// Every conv of the published network: stem, encoder, bottleneck, decoder (the
// concat already joined), head.
const std::vector<Shape> kShapes = {
    {3, 8, 1, 0},    {8, 32, 3, 0},   {32, 32, 3, 0},   {32, 64, 3, 1},  {64, 64, 3, 1},
    {64, 128, 3, 2}, {128, 128, 3, 2}, {128, 128, 3, 3}, {256, 64, 3, 2}, {64, 64, 3, 2},
    {128, 32, 3, 1}, {32, 32, 3, 1},  {64, 32, 3, 0},   {32, 16, 1, 0},  {16, 1, 1, 0}};

const char* layout_name(tag t) {
  return t == tag::nhwc ? "nhwc" : t == tag::any ? "any" : t == tag::nChw8c ? "nChw8c" : "?";
}

// Best-of-`runs` ms of one conv, or a negative value when oneDNN cannot create it.
double time_conv(const dnnl::engine& engine, dnnl::stream& stream, const Shape& s, int size,
                 bool int8, tag layout, int runs, std::string& impl) {
  const memory::dim h = size >> s.level;
  const dt act = int8 ? dt::u8 : dt::f32;
  try {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    if (int8) attr.set_output_scales(0, {0.01f});
    const memory::dim pad = s.kernel / 2;
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        memory::desc({1, s.in, h, h}, act, layout),
        memory::desc({s.out, s.in, s.kernel, s.kernel}, int8 ? dt::s8 : dt::f32, tag::any),
        memory::desc({s.out}, int8 ? dt::s32 : dt::f32, tag::x),
        memory::desc({1, s.out, h, h}, act, layout), {1, 1}, {pad, pad}, {pad, pad});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    impl = pd.impl_info_str();
    if (impl.rfind("ref", 0) == 0) return 0;  // a reference kernel: minutes at 512², not timed
    std::unordered_map<int, memory> args;
    for (auto [arg, md] : {std::pair{DNNL_ARG_SRC, pd.src_desc()}, {DNNL_ARG_WEIGHTS, pd.weights_desc()},
                           {DNNL_ARG_BIAS, pd.bias_desc()}, {DNNL_ARG_DST, pd.dst_desc()}}) {
      memory m(md, engine);
      std::memset(m.get_data_handle(), 0, md.get_size());
      args[arg] = m;
    }
    dnnl::convolution_forward conv(pd);
    conv.execute(stream, args);  // warm-up
    stream.wait();
    double best = 1e300;
    for (int r = 0; r < runs; ++r) {
      const auto start = std::chrono::steady_clock::now();
      conv.execute(stream, args);
      stream.wait();
      best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
  } catch (const dnnl::error& e) {
    impl = e.what();
    return -1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int size = 512, runs = 3, threads = 1;
  std::string type = "f32";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--size") size = std::atoi(value.c_str());
    else if (flag == "--type") type = value;
    else if (flag == "--runs") runs = std::atoi(value.c_str());
    else if (flag == "--threads") threads = std::atoi(value.c_str());
    else { std::fprintf(stderr, "onednn_layout_probe: unknown option '%s'\n", flag.c_str()); return 1; }
  }
  if (size < 8 || size % 8 || runs < 1 || threads < 1 || (type != "f32" && type != "u8")) {
    std::fprintf(stderr, "onednn_layout_probe: --size (multiple of 8), --runs, --threads must be positive, --type f32|u8\n");
    return 1;
  }
  omp_set_num_threads(threads);
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const bool int8 = type == "u8";
  std::printf("%s convs of TomoGAN at %dx%d, %d thread(s), best of %d: ms GMAC/s [kernel]\n",
              type.c_str(), size, size, threads, runs);
  std::vector<double> total(3, 0.0);
  const tag layouts[3] = {tag::nhwc, tag::any, tag::nChw8c};
  for (const Shape& s : kShapes) {
    const double h = double(size >> s.level);
    const double gmac = h * h * s.in * s.out * s.kernel * s.kernel * 1e-9;
    std::printf("%3d->%3d k%d %4d²:", s.in, s.out, s.kernel, size >> s.level);
    for (int v = 0; v < 3; ++v) {
      std::string impl;
      const double ms = time_conv(engine, stream, s, size, int8, layouts[v], runs, impl);
      if (ms < 0) { std::printf("  %s failed (%s)", layout_name(layouts[v]), impl.c_str()); continue; }
      if (ms == 0) { std::printf("  %s [%s, not timed]", layout_name(layouts[v]), impl.c_str()); continue; }
      total[v] += ms;
      std::printf("  %s %.1f %.1f [%s]", layout_name(layouts[v]), ms, gmac / (ms * 1e-3), impl.c_str());
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("sum: nhwc %.1f ms, any %.1f ms, nChw8c %.1f ms\n", total[0], total[1], total[2]);
  return 0;
}
