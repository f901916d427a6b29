// The oneDNN bf16 path. oneDNN 2.6 implements bf16 convolution only from
// AVX-512 on; where it cannot, the backend must refuse with the reason (and
// `auto` keeps to the ref backend's bf16 emulation). Where it can, it must agree
// with the ref emulation (docs/quantization.md "bf16"): both round the same
// values to bf16 at the same points and differ only in fp32 summation order, so
// an element differs, if at all, by one bf16 ulp (2^-8 relative) where a sum lies
// next to a rounding boundary. Such flips are rare, but random weights can
// amplify one through later layers: the bound below is 8 ulp of the largest
// |output| anywhere (measured up to 5.5 on an AVX512_BF16 Zen 4) and 0.05 % of
// it on average, far below a real bug (a missing rounding or bias moves the
// mean by several %).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/backend.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "network_fixtures.hpp"

namespace sira {
namespace {

using fixtures::random_input;

TEST(OnednnBf16, RefusedWithTheReasonWhereOneDnnHasNoBf16Convolution) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg;
  const Model model = init_model(cfg, 1);
  const std::string why = onednn_unsupported(model, LayerPrecision::bf16);
  if (why.empty()) GTEST_SKIP() << "this CPU runs oneDNN bf16 (checked by the next test)";
  EXPECT_NE(why.find("AVX-512"), std::string::npos) << why;
  try {
    make_onednn_backend(model, build_graph(cfg), 1, LayerPrecision::bf16);
    FAIL() << "bf16 accepted although oneDNN cannot run it";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--backend ref"), std::string::npos) << e.what();
  }
}

TEST(OnednnBf16, MatchesTheRefEmulation) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  for (Upsample up : {Upsample::bilinear, Upsample::nearest, Upsample::transposed})
    for (int slices : {1, 3}) {
      TomoganConfig cfg;
      cfg.slices = slices;
      cfg.upsample = up;
      const Model model = init_model(cfg, 40 + slices);
      if (!onednn_unsupported(model, LayerPrecision::bf16).empty())
        GTEST_SKIP() << "oneDNN has no bf16 convolution on this CPU";
      const Graph graph = build_graph(cfg);
      auto ref = make_ref_backend(model, graph, 2, LayerPrecision::bf16);
      auto dnn = make_onednn_backend(model, graph, 2, LayerPrecision::bf16);
      const std::size_t h = 24, w = 40;
      const auto input = random_input(slices, h, w, 3);
      std::vector<float> want(h * w), got(h * w);
      ref->run(input.data(), h, w, want.data());
      dnn->run(input.data(), h, w, got.data());
      // One bf16 ulp is relative to the magnitude, not to the spread: a random
      // network's outputs sit on an offset with a small spread, so the bound is
      // taken from the largest |output|.
      double scale = 0.0;
      for (float v : want) scale = std::max(scale, std::abs(double(v)));
      ASSERT_GT(scale, 0.0);
      double worst = 0.0, mean = 0.0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        const double d = std::abs(double(got[i]) - double(want[i]));
        worst = std::max(worst, d);
        mean += d / double(want.size());
      }
      EXPECT_LE(worst, 3.2e-2 * scale) << upsample_name(up) << ", " << slices << " slices";  // 8 ulp
      EXPECT_LE(mean, 5e-4 * scale) << upsample_name(up) << ", " << slices << " slices";
    }
}

}  // namespace
}  // namespace sira
