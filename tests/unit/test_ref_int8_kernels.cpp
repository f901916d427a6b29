// The int8 reference kernels (src/engine/ref/int8_*.cpp) against cases worked
// out by hand from docs/quantization.md, and the blocked conv against a plain
// integer loop written here for odd sizes and channel counts.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cmath>
#include <random>
#include <vector>

#include "engine/ref/int8_conv_kernels.hpp"
#include "engine/ref/int8_kernels.hpp"

using sira::ref::Int8Conv;
using sira::ref::Shape;

namespace {

std::vector<std::uint8_t> run_conv(const std::vector<std::uint8_t>& in, Shape s, Int8Conv& conv,
                                   const std::vector<std::int8_t>& w, int threads = 1) {
  sira::ref::pack_int8_conv_weights(w.data(), conv);
  std::vector<std::int32_t> scratch(sira::ref::conv2d_int8_scratch_per_thread(conv, s.width) * threads);
  std::vector<std::uint8_t> out(conv.out_channels * s.plane());
  sira::ref::conv2d_int8(in.data(), s, conv, out.data(), nullptr, scratch.data(), threads);
  return out;
}

}  // namespace

// Codes 2..10 with zero point 2 are the values 0..8; all-ones 3x3 kernel,
// bias 1, multiplier 0.5. Border taps in the padding add nothing (the padding
// is the real 0, i.e. code 2), and x.5 rounds to even.
TEST(RefInt8Conv, HandComputedThreeByThree) {
  const std::vector<std::uint8_t> in{2, 3, 4, 5, 6, 7, 8, 9, 10};
  Int8Conv conv;
  conv.in_channels = 1;
  conv.out_channels = 2;
  conv.kernel = 3;
  conv.bias = {1, 0};
  conv.multiplier = {0.5f, 1.0f};
  conv.input_zero_point = 2;
  conv.output_zero_point = 100;
  std::vector<std::int8_t> w(18, 0);
  for (int i = 0; i < 9; ++i) w[i] = 1;
  w[9 + 4] = -3;  // channel 1: centre tap only
  const auto out = run_conv(in, {1, 3, 3}, conv, w);
  // channel 0: acc = 9,16,13 / 22,37,28 / 21,34,25; x 0.5 + 100, half to even
  const std::vector<std::uint8_t> c0{104, 108, 106, 111, 118, 114, 110, 117, 112};
  // channel 1: 100 - 3 * value
  const std::vector<std::uint8_t> c1{100, 97, 94, 91, 88, 85, 82, 79, 76};
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 9), c0);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin() + 9, out.end()), c1);

  // The same with ReLU and zero point 0: channel 1 is all negative -> 0 except 0 itself.
  conv.relu = true;
  conv.output_zero_point = 0;
  const auto relu = run_conv(in, {1, 3, 3}, conv, w);
  EXPECT_EQ(std::vector<std::uint8_t>(relu.begin(), relu.begin() + 9),
            (std::vector<std::uint8_t>{4, 8, 6, 11, 18, 14, 10, 17, 12}));
  EXPECT_EQ(std::vector<std::uint8_t>(relu.begin() + 9, relu.end()), std::vector<std::uint8_t>(9, 0));

  // fp32 output (the final layer): float(acc) * D.
  conv.relu = false;
  std::vector<std::int32_t> scratch(sira::ref::conv2d_int8_scratch_per_thread(conv, 3));
  std::vector<float> f(18);
  sira::ref::conv2d_int8(in.data(), {1, 3, 3}, conv, nullptr, f.data(), scratch.data(), 1);
  EXPECT_EQ(f[4], 18.5f);
  EXPECT_EQ(f[9 + 8], -24.0f);
}

// Random odd shapes against the definition as a plain loop, on every int8 conv
// kernel this build has and this CPU runs (int8_conv_kernels.hpp).
static void expect_plain_loop_results();

TEST(RefInt8Conv, MatchesAPlainLoopOnOddShapes) {
  const auto chosen = sira::ref::int8_conv_kernel();
  for (const auto& k : sira::ref::int8_conv_kernels()) {
    if (!k.available) continue;
    SCOPED_TRACE(k.name);
    sira::ref::select_int8_conv_kernel(sira::ref::Int8ConvKernel(k.id));
    expect_plain_loop_results();
  }
  sira::ref::select_int8_conv_kernel(chosen);
}

// Each ISA-specific kernel of this build, where the CPU has it; skipped (with the
// reason) only where it does not.
// Unless the environment forces one, the first available kernel is the one that runs.
TEST(RefInt8Conv, EveryKernelOfThisBuildRunsWhereTheCpuHasIt) {
  std::string missing, first;
  for (const auto& k : sira::ref::int8_conv_kernels()) {
    if (k.available && first.empty()) first = k.name;
    if (k.available || k.why_not.starts_with("not built")) continue;
    missing += std::string(k.name) + ": " + k.why_not + "; ";
  }
  if (!std::getenv("SIRA_INT8_CONV_KERNEL")) {
    EXPECT_EQ(std::string(sira::ref::int8_conv_kernel_name(sira::ref::int8_conv_kernel())), first);
  }
  if (!missing.empty()) GTEST_SKIP() << missing;
}

static void expect_plain_loop_results() {
  std::mt19937 rng(5);
  for (const auto& [cin, cout, h, w, k] : std::vector<std::array<std::size_t, 5>>{
           {1, 1, 1, 1, 3}, {3, 5, 7, 33, 3}, {4, 9, 5, 70, 1}, {7, 8, 9, 31, 3}, {2, 17, 3, 65, 3},
           {32, 16, 4, 20, 3}, {4, 6, 13, 57, 5}}) {
    const Shape s{cin, h, w};
    std::vector<std::uint8_t> in(s.size());
    for (auto& v : in) v = std::uint8_t(rng() % 256);
    std::vector<std::int8_t> wt(cout * cin * k * k);
    for (auto& v : wt) v = std::int8_t(int(rng() % 255) - 127);
    Int8Conv conv;
    conv.in_channels = cin;
    conv.out_channels = cout;
    conv.kernel = k;
    conv.input_zero_point = int(rng() % 256);
    conv.output_zero_point = int(rng() % 256);
    for (std::size_t c = 0; c < cout; ++c) {
      conv.bias.push_back(int(rng() % 20001) - 10000);
      conv.multiplier.push_back(1.0f / float(200 + rng() % 3000));
    }
    // Three threads: the larger shapes split their rows into bands (row_conv.hpp).
    const auto out = run_conv(in, s, conv, wt, 3);
    const long pad = long(k / 2);
    for (std::size_t co = 0; co < cout; ++co)
      for (long y = 0; y < long(h); ++y)
        for (long x = 0; x < long(w); ++x) {
          long acc = conv.bias[co];
          for (std::size_t ci = 0; ci < cin; ++ci)
            for (long ky = 0; ky < long(k); ++ky)
              for (long kx = 0; kx < long(k); ++kx) {
                const long iy = y + ky - pad, ix = x + kx - pad;
                if (iy < 0 || ix < 0 || iy >= long(h) || ix >= long(w)) continue;
                acc += long(wt[((co * cin + ci) * k + ky) * k + kx]) *
                       (long(in[(ci * h + iy) * w + ix]) - conv.input_zero_point);
              }
          const float v = std::nearbyint(float(acc) * conv.multiplier[co] + float(conv.output_zero_point));
          const int want = int(std::fmin(std::fmax(v, 0.0f), 255.0f));
          ASSERT_EQ(int(out[(co * h + y) * w + x]), want)
              << "cin " << cin << " cout " << cout << " " << h << "x" << w << " k " << k << " at " << co << ","
              << y << "," << x;
        }
  }
}

TEST(RefInt8Ops, MaxpoolOnCodes) {
  const std::vector<std::uint8_t> in{1, 5, 9, 0, 3, 2, 7, 8};  // 1 channel, 2x4
  std::vector<std::uint8_t> out(2);
  sira::ref::maxpool2x2_u8(in.data(), {1, 2, 4}, out.data());
  EXPECT_EQ(out, (std::vector<std::uint8_t>{5, 9}));
}

TEST(RefInt8Ops, BilinearIsExactThenRoundedHalfToEven) {
  // 2x2 -> 4x4: weights 1/4, 3/4 per axis (align_corners=False), edges clamped.
  const std::vector<std::uint8_t> in{0, 16, 32, 48};
  std::vector<std::uint8_t> out(16);
  sira::ref::upsample_bilinear2x_u8(in.data(), {1, 2, 2}, out.data());
  EXPECT_EQ(out, (std::vector<std::uint8_t>{0, 4, 12, 16, 8, 12, 20, 24, 24, 28, 36, 40, 32, 36, 44, 48}));
  // 1x2 [0, 2] -> rows [0, 0.5, 1.5, 2]: ties go to even -> [0, 0, 2, 2].
  const std::vector<std::uint8_t> tie{0, 2};
  std::vector<std::uint8_t> t(8);
  sira::ref::upsample_bilinear2x_u8(tie.data(), {1, 1, 2}, t.data());
  EXPECT_EQ(t, (std::vector<std::uint8_t>{0, 0, 2, 2, 0, 0, 2, 2}));
}

TEST(RefInt8Ops, NearestAndConcatMoveCodes) {
  const std::vector<std::uint8_t> in{1, 2};
  std::vector<std::uint8_t> out(8);
  sira::ref::upsample_nearest2x_u8(in.data(), {1, 1, 2}, out.data());
  EXPECT_EQ(out, (std::vector<std::uint8_t>{1, 1, 2, 2, 1, 1, 2, 2}));
  const std::vector<std::uint8_t> a{1, 2}, b{3, 4, 5, 6};
  std::vector<std::uint8_t> c(6);
  sira::ref::concat_channels_u8(a.data(), 1, b.data(), 2, 2, c.data());
  EXPECT_EQ(c, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6}));
}

// One input code 5 with zero point 3 (value 2), weights [1, -1, 2, 0], bias 1,
// multiplier 1, output zero point 10: out = 10 + 1 + 2 w.
TEST(RefInt8Ops, TransposedConvHandComputed) {
  const std::vector<std::uint8_t> in{5};
  const std::vector<std::int8_t> w{1, -1, 2, 0};
  Int8Conv conv;
  conv.in_channels = 1;
  conv.out_channels = 1;
  conv.kernel = 2;
  conv.bias = {1};
  conv.multiplier = {1.0f};
  conv.input_zero_point = 3;
  conv.output_zero_point = 10;
  std::vector<std::uint8_t> out(4);
  sira::ref::conv_transpose2x2_int8(in.data(), {1, 1, 1}, w.data(), conv, out.data());
  EXPECT_EQ(out, (std::vector<std::uint8_t>{13, 9, 15, 11}));
}

TEST(RefInt8Ops, QuantizeAndDequantizeTensors) {
  const std::vector<float> x{-1.0f, 0.0f, 0.125f, 100.0f};
  std::vector<std::uint8_t> q(4);
  sira::ref::quantize_tensor(x.data(), 4, 0.25f, 10, q.data());
  EXPECT_EQ(q, (std::vector<std::uint8_t>{6, 10, 10, 255}));  // 0.5 + 10 -> 10 (even)
  std::vector<float> back(4);
  sira::ref::dequantize_tensor(q.data(), 4, 0.25f, 10, back.data());
  EXPECT_EQ(back, (std::vector<float>{-1.0f, 0.0f, 0.0f, 61.25f}));
}
