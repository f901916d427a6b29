// Reference kernels against hand-computed values and naive loops written here
// independently of src/engine/ref (direct formulas, no blocking, no packing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "engine/ref/fp32_conv_kernels.hpp"
#include "engine/ref/kernels.hpp"

using sira::ref::Shape;

namespace {

std::vector<float> random_values(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Straight from the definition: zero padding k/2, PyTorch weight [out][in][ky][kx].
std::vector<float> naive_conv(const std::vector<float>& in, Shape s, const std::vector<float>& w,
                              const std::vector<float>& b, std::size_t cout, std::size_t k,
                              bool relu) {
  std::vector<float> out(cout * s.plane());
  const long pad = long(k / 2);
  for (std::size_t co = 0; co < cout; ++co)
    for (long y = 0; y < long(s.height); ++y)
      for (long x = 0; x < long(s.width); ++x) {
        double sum = b[co];
        for (std::size_t ci = 0; ci < s.channels; ++ci)
          for (long ky = 0; ky < long(k); ++ky)
            for (long kx = 0; kx < long(k); ++kx) {
              const long iy = y + ky - pad, ix = x + kx - pad;
              if (iy < 0 || ix < 0 || iy >= long(s.height) || ix >= long(s.width)) continue;
              sum += double(w[((co * s.channels + ci) * k + ky) * k + kx]) *
                     in[(ci * s.height + iy) * s.width + ix];
            }
        out[(co * s.height + y) * s.width + x] = relu ? std::max(float(sum), 0.0f) : float(sum);
      }
  return out;
}

std::vector<float> run_conv(const std::vector<float>& in, Shape s, const std::vector<float>& w,
                            const std::vector<float>& b, std::size_t cout, std::size_t k,
                            bool relu, int threads) {
  std::vector<float> packed(sira::ref::packed_conv_size(cout, s.channels, k));
  sira::ref::PackedConv conv{s.channels, cout, k, packed.data(), b.data()};
  sira::ref::pack_conv_weights(w.data(), conv);
  std::vector<float> scratch(sira::ref::conv2d_scratch_per_thread(conv, s.width) * threads);
  std::vector<float> out(cout * s.plane(), -999.0f);
  sira::ref::conv2d(in.data(), s, conv, relu, out.data(), scratch.data(), threads);
  return out;
}

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << "index " << i;
}

}  // namespace

TEST(RefConv2d, OnesKernelCountsNeighboursInsideTheImage) {
  // 3x3 kernel of ones on a 3x4 image of ones: each output counts the in-image
  // neighbours (4 at corners, 6 on edges, 9 inside), plus bias 0.5.
  const Shape s{1, 3, 4};
  const std::vector<float> in(12, 1.0f), w(9, 1.0f), b{0.5f};
  const std::vector<float> want{4.5f, 6.5f, 6.5f, 4.5f, 6.5f, 9.5f, 9.5f, 6.5f,
                                4.5f, 6.5f, 6.5f, 4.5f};
  expect_near_all(run_conv(in, s, w, b, 1, 3, false, 1), want, 0.0f);
}

TEST(RefConv2d, HandComputedTwoChannelCase) {
  // in0 = 1..4 in a 2x2, in1 = all 1; weight: channel 0 centre tap 2, channel 1
  // right tap (ky=1, kx=2) -1; bias 1. out(y,x) = 2*in0(y,x) - in1(y,x+1) + 1.
  const Shape s{2, 2, 2};
  const std::vector<float> in{1, 2, 3, 4, 1, 1, 1, 1};
  std::vector<float> w(18, 0.0f);
  w[4] = 2.0f;       // [0][0][1][1]
  w[9 + 5] = -1.0f;  // [0][1][1][2]
  const std::vector<float> want{2 * 1 - 1 + 1, 2 * 2 + 1, 2 * 3 - 1 + 1, 2 * 4 + 1};
  expect_near_all(run_conv(in, s, w, {1.0f}, 1, 3, false, 1), want, 0.0f);
}

// Random odd shapes against the definition in double, on every fp32 conv kernel
// this build has and this CPU runs (fp32_conv_kernels.hpp); the kernels with
// FMA (x86-64-v3 and -v4) must also agree bit for bit, so the AVX2 path of a
// Zen 3 gives what the AVX-512 path gives here.
static std::vector<std::vector<float>> odd_shape_results(bool check_against_naive) {
  struct Case { Shape s; std::size_t cout, k; bool relu; int threads; };
  const Case cases[] = {
      {{3, 4, 5}, 3, 3, false, 1},    // 4x5 image, fewer outputs than a block
      {{2, 7, 70}, 9, 3, true, 2},    // width past two column blocks, 9 = block + 1
      {{5, 6, 33}, 16, 1, true, 2},   // 1x1, width 33
      {{1, 1, 1}, 1, 3, false, 1},    // a single pixel
      {{4, 9, 8}, 8, 3, false, 3},    // more threads than needed rows per thread
      {{32, 5, 40}, 16, 3, true, 2},  // a TomoGAN-like layer: long tap loop
      {{3, 11, 57}, 10, 5, false, 3}, // k 5, rows in two bands (8 + 3), a tail of 2 vectors after whole spans
  };
  std::vector<std::vector<float>> results;
  unsigned seed = 1;
  for (const Case& c : cases) {
    const auto in = random_values(c.s.size(), seed++);
    const auto w = random_values(c.cout * c.s.channels * c.k * c.k, seed++);
    const auto b = random_values(c.cout, seed++);
    SCOPED_TRACE(testing::Message() << c.s.channels << "x" << c.s.height << "x" << c.s.width
                                    << " -> " << c.cout << " k" << c.k);
    results.push_back(run_conv(in, c.s, w, b, c.cout, c.k, c.relu, c.threads));
    if (check_against_naive)
      expect_near_all(results.back(), naive_conv(in, c.s, w, b, c.cout, c.k, c.relu), 1e-5f * float(c.s.channels));
  }
  return results;
}

TEST(RefConv2d, MatchesNaiveLoopsOnOddShapes) {
  using sira::ref::Fp32ConvKernel;
  const auto chosen = sira::ref::fp32_conv_kernel();
  std::vector<std::pair<std::string, std::vector<std::vector<float>>>> fma;
  for (const auto& k : sira::ref::fp32_conv_kernels()) {
    if (!k.available) continue;
    SCOPED_TRACE(k.name);
    sira::ref::select_fp32_conv_kernel(Fp32ConvKernel(k.id));
    auto results = odd_shape_results(true);
    if (Fp32ConvKernel(k.id) != Fp32ConvKernel::portable) fma.emplace_back(k.name, std::move(results));
  }
  sira::ref::select_fp32_conv_kernel(chosen);
  for (std::size_t i = 1; i < fma.size(); ++i)
    for (std::size_t c = 0; c < fma[0].second.size(); ++c)
      EXPECT_EQ(std::memcmp(fma[i].second[c].data(), fma[0].second[c].data(), fma[0].second[c].size() * 4), 0)
          << fma[i].first << " and " << fma[0].first << " differ in case " << c;
}

// Each ISA variant of this build, where the CPU has it; skipped (with the reason)
// only where it does not. Unless the environment forces one, the first available runs.
TEST(RefConv2d, EveryKernelOfThisBuildRunsWhereTheCpuHasIt) {
  std::string missing, first;
  for (const auto& k : sira::ref::fp32_conv_kernels()) {
    if (k.available && first.empty()) first = k.name;
    if (k.available || k.why_not.starts_with("not built")) continue;
    missing += std::string(k.name) + ": " + k.why_not + "; ";
  }
  if (!std::getenv("SIRA_FP32_CONV_KERNEL")) {
    EXPECT_EQ(std::string(sira::ref::fp32_conv_kernel_name(sira::ref::fp32_conv_kernel())), first);
  }
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(RefMaxpool, TakesTheLargestOfEachBlock) {
  const Shape s{2, 2, 4};
  const std::vector<float> in{1, 5, -1, -2, 3, 2, -3, -4,   // channel 0
                              0, 0, 9, 8, 0, -1, 7, 10};    // channel 1
  std::vector<float> out(4);
  sira::ref::maxpool2x2(in.data(), s, out.data());
  expect_near_all(out, {5, -1, 0, 10}, 0.0f);
}

TEST(RefUpsampleBilinear, MatchesPyTorchOn2x2) {
  // torch.nn.functional.interpolate(torch.tensor([[[[1.,2.],[3.,4.]]]]),
  //   scale_factor=2, mode='bilinear', align_corners=False)
  const std::vector<float> in{1, 2, 3, 4};
  std::vector<float> out(16);
  sira::ref::upsample_bilinear2x(in.data(), {1, 2, 2}, out.data());
  expect_near_all(out, {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                        2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f}, 1e-6f);
}

TEST(RefUpsampleBilinear, MatchesPyTorchFormulaOnOddShapes) {
  // PyTorch's area_pixel_compute_source_index for align_corners=False:
  // src = max(0, (o + 0.5) / scale - 0.5), i0 = floor(src), i1 = min(i0 + 1, n - 1).
  const auto source = [](std::size_t o, std::size_t n, std::size_t& i0, std::size_t& i1,
                          double& frac) {
    const double src = std::max(0.0, (double(o) + 0.5) / 2.0 - 0.5);
    i0 = std::size_t(std::floor(src));
    i1 = std::min(i0 + 1, n - 1);
    frac = src - double(i0);
  };
  for (const Shape s : {Shape{2, 3, 5}, Shape{1, 1, 4}, Shape{3, 7, 1}}) {
    const auto in = random_values(s.size(), 7);
    std::vector<float> out(4 * s.size());
    sira::ref::upsample_bilinear2x(in.data(), s, out.data());
    for (std::size_t c = 0; c < s.channels; ++c)
      for (std::size_t oy = 0; oy < 2 * s.height; ++oy)
        for (std::size_t ox = 0; ox < 2 * s.width; ++ox) {
          std::size_t y0, y1, x0, x1;
          double fy, fx;
          source(oy, s.height, y0, y1, fy);
          source(ox, s.width, x0, x1, fx);
          const auto at = [&](std::size_t y, std::size_t x) {
            return double(in[(c * s.height + y) * s.width + x]);
          };
          const double want = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                              fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
          ASSERT_NEAR(out[(c * 2 * s.height + oy) * 2 * s.width + ox], want, 1e-6)
              << "channel " << c << " at " << oy << "," << ox;
        }
  }
}

TEST(RefUpsampleNearest, RepeatsEachSampleAsA2x2Block) {
  const std::vector<float> in{1, 2, 3, 4, 5, 6};  // 1 channel, 2x3
  std::vector<float> out(24);
  sira::ref::upsample_nearest2x(in.data(), {1, 2, 3}, out.data());
  expect_near_all(out, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3,
                        4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6}, 0.0f);
}

TEST(RefConvTranspose, HandComputed2x2Stride2) {
  // 2 input channels of 1x2, 1 output channel; weight [in][out][dy][dx].
  const std::vector<float> in{1, 2, 10, 20};
  const std::vector<float> w{1, 2, 3, 4,        // in 0
                             0.5f, 0, 0, -1};   // in 1
  const std::vector<float> bias{0.25f};
  std::vector<float> out(8);
  sira::ref::conv_transpose2x2(in.data(), {2, 1, 2}, w.data(), bias.data(), 1, false,
                               out.data());
  // out[dy][2x+dx] = 0.25 + in0[x] * w0[dy][dx] + in1[x] * w1[dy][dx]
  expect_near_all(out, {0.25f + 1 + 5, 0.25f + 2, 0.25f + 2 + 10, 0.25f + 4,
                        0.25f + 3, 0.25f + 4 - 10, 0.25f + 6, 0.25f + 8 - 20}, 1e-6f);
  std::vector<float> rectified(8);
  sira::ref::conv_transpose2x2(in.data(), {2, 1, 2}, w.data(), bias.data(), 1, true,
                               rectified.data());
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(rectified[i], std::max(out[i], 0.0f));
}

TEST(RefConcat, PlacesSecondInputAfterTheFirst) {
  const std::vector<float> a{1, 2, 3, 4}, b{5, 6};  // 2 planes + 1 plane of 2 samples
  std::vector<float> out(6);
  sira::ref::concat_channels(a.data(), 2, b.data(), 1, 2, out.data());
  expect_near_all(out, {1, 2, 3, 4, 5, 6}, 0.0f);
}
