// The oneDNN backend against the reference backend (the numerical
// specification, itself checked against PyTorch): random models of published and
// small odd widths, 1 and 3 slices, every upsampling mode, sizes that exercise
// every tail; plus the per-shape plan cache and error reporting.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <random>
#include <vector>

#include "engine/backend.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "network_fixtures.hpp"

namespace sira {
namespace {

using fixtures::random_input;
using fixtures::small_config;

TomoganConfig published_config(int slices, Upsample up) {
  TomoganConfig c;
  c.slices = slices;
  c.upsample = up;
  return c;
}

struct Size {
  std::size_t h, w;
};

// Max |onednn - ref| over the output, and the reference output's range.
void expect_matches_reference(const TomoganConfig& cfg, std::uint64_t seed,
                              const std::vector<Size>& sizes) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const Model model = init_model(cfg, seed);
  const Graph graph = build_graph(cfg);
  auto ref = make_ref_backend(model, graph, 2);
  auto dnn = make_onednn_backend(model, graph, 2);
  for (const Size& s : sizes) {
    SCOPED_TRACE(testing::Message() << "slices " << cfg.slices << ", upsample "
                                    << upsample_name(cfg.upsample) << ", " << s.h << "x" << s.w);
    const auto input = random_input(cfg.slices, s.h, s.w, unsigned(seed + s.h * 131 + s.w));
    std::vector<float> want(s.h * s.w), got(s.h * s.w, -12345.0f);
    ref->run(input.data(), s.h, s.w, want.data());
    dnn->run(input.data(), s.h, s.w, got.data());
    const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
    const double range = double(*hi) - double(*lo);
    ASSERT_GT(range, 0.0) << "a constant reference output would make the check vacuous";
    double worst = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i)
      worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
    EXPECT_LE(worst, 1e-4 * range) << "output range " << range;
  }
}

TEST(OnednnBackend, SmallWidthsMatchReferenceEveryUpsampling) {
  for (Upsample up : {Upsample::bilinear, Upsample::nearest, Upsample::transposed})
    for (int slices : {1, 3})
      expect_matches_reference(small_config(slices, up), 11 + slices,
                               {{4, 4}, {12, 20}, {28, 8}, {36, 44}});
}

TEST(OnednnBackend, PublishedWidthsMatchReference) {
  for (Upsample up : {Upsample::bilinear, Upsample::nearest, Upsample::transposed})
    expect_matches_reference(published_config(3, up), 7, {{8, 8}, {24, 40}, {64, 72}});
  expect_matches_reference(published_config(1, Upsample::bilinear), 8, {{128, 128}, {40, 24}});
}

// Sets SIRA_ONEDNN_LAYOUT for one scope: the backend reads it at construction.
class ForcedLayout {
 public:
  explicit ForcedLayout(const char* layout) { setenv("SIRA_ONEDNN_LAYOUT", layout, 1); }
  ~ForcedLayout() { unsetenv("SIRA_ONEDNN_LAYOUT"); }
};

// Both activation layouts on every machine: NHWC with split convolutions for
// concats (what AVX-512 CPUs pick), nChw8c with concats built in place (AVX2).
TEST(OnednnBackend, EachActivationLayoutMatchesReference) {
  TomoganConfig odd = published_config(3, Upsample::bilinear);
  odd.stem = 8;
  odd.encoder = {16, 24};  // concat offsets 16 and 24: multiples of 8 only
  odd.bottleneck = 40;
  odd.decoder = {24, 8};
  odd.head = 16;
  for (const char* layout : {"nhwc", "blocked"}) {
    SCOPED_TRACE(layout);
    ForcedLayout forced(layout);
    expect_matches_reference(published_config(3, Upsample::bilinear), 4, {{24, 40}});
    expect_matches_reference(published_config(1, Upsample::transposed), 5, {{16, 8}});
    for (Upsample up : {Upsample::bilinear, Upsample::transposed})
      for (int slices : {1, 3}) {
        odd.slices = slices;
        odd.upsample = up;
        expect_matches_reference(odd, 6 + slices, {{8, 16}, {20, 12}});
      }
  }
}

TEST(OnednnBackend, OneLevelNetworkMatchesReference) {
  TomoganConfig c = small_config(3, Upsample::bilinear);
  c.encoder = {16};
  c.decoder = {16};
  expect_matches_reference(c, 3, {{2, 2}, {10, 6}});
}

// Plans and buffers are cached per shape and shared: running A, B, A, B must
// give bit-identical results to the first run of each shape.
TEST(OnednnBackend, PlanCacheGivesIdenticalResultsForRepeatedAndAlternatingShapes) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = published_config(3, Upsample::bilinear);
  const Model model = init_model(cfg, 21);
  auto dnn = make_onednn_backend(model, build_graph(cfg), 2);
  const std::vector<Size> sizes{{48, 32}, {16, 64}, {48, 32}, {64, 64}, {16, 64}, {48, 32}};
  std::vector<std::vector<float>> first(sizes.size());
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const Size s = sizes[k];
    const auto input = random_input(3, s.h, s.w, unsigned(s.h * 1000 + s.w));
    std::vector<float> out(s.h * s.w, 0.0f);
    dnn->run(input.data(), s.h, s.w, out.data());
    for (std::size_t j = 0; j < k; ++j) {
      if (sizes[j].h != s.h || sizes[j].w != s.w) continue;
      EXPECT_EQ(0, std::memcmp(first[j].data(), out.data(), out.size() * sizeof(float)))
          << "run " << k << " (" << s.h << "x" << s.w << ") differs from run " << j;
    }
    first[k] = std::move(out);
  }
  // Different inputs on one shape must give different outputs (the cache does
  // not replay a stale result).
  const auto other = random_input(3, 48, 32, 999);
  std::vector<float> out(48 * 32);
  dnn->run(other.data(), 48, 32, out.data());
  EXPECT_NE(0, std::memcmp(first[0].data(), out.data(), out.size() * sizeof(float)));
}

TEST(OnednnBackend, ThreadCountDoesNotChangeTheResultBeyondRounding) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = published_config(3, Upsample::nearest);
  const Model model = init_model(cfg, 5);
  const Graph graph = build_graph(cfg);
  auto one = make_onednn_backend(model, graph, 1);
  auto two = make_onednn_backend(model, graph, 2);
  const auto input = random_input(3, 32, 48, 77);
  std::vector<float> a(32 * 48), b(32 * 48);
  one->run(input.data(), 32, 48, a.data());
  two->run(input.data(), 32, 48, b.data());
  const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 * (*hi - *lo));
}

TEST(OnednnBackend, RejectsSizesThatAreNotMultiplesOfTheNetwork) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = published_config(1, Upsample::bilinear);
  auto dnn = make_onednn_backend(init_model(cfg, 1), build_graph(cfg), 1);
  std::vector<float> in(12 * 16), out(12 * 16);
  EXPECT_THROW(dnn->run(in.data(), 12, 16, out.data()), Error);  // 12 is not a multiple of 8
  EXPECT_THROW(dnn->run(in.data(), 0, 16, out.data()), Error);
}

// The engine validates the model before the backend packs anything: the
// backend trusts the shapes (validate_graph, tests/unit/test_graph_validator.cpp).
TEST(OnednnBackend, EngineRefusesModelsWithMissingOrMisshapenTensors) {
  if (!onednn_available()) GTEST_SKIP() << "built without oneDNN";
  const TomoganConfig cfg = small_config(3, Upsample::transposed);
  Model missing = init_model(cfg, 2);
  missing.tensors.erase("dec.0.conv1.weight");
  EXPECT_THROW(Engine(missing, {.backend = "onednn", .threads = 1}), Error);
  Model misshapen = init_model(cfg, 2);
  misshapen.tensors["dec.1.up.weight"].shape = {1, 2, 3, 4};
  try {
    Engine(misshapen, {.backend = "onednn", .threads = 1});
    FAIL() << "a misshapen tensor was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dec.1.up.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sira
