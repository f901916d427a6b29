// Tiling geometry and the promise it makes: tiled output equals untiled output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/tiling.hpp"
#include "sira/error.hpp"
#include "sira/engine.hpp"
#include "sira/model.hpp"

namespace {

TEST(EngineTiling, HaloIsTheRadiusRoundedUpToTheMultiple) {
  EXPECT_EQ(sira::tile_halo(50, 8), 56u);
  EXPECT_EQ(sira::tile_halo(48, 8), 48u);
  EXPECT_EQ(sira::tile_halo(0, 8), 0u);
  EXPECT_EQ(sira::tile_halo(1, 4), 4u);
}

TEST(EngineTiling, CoresPartitionTheImageAndInputsAddTheClippedHalo) {
  const std::size_t h = 200, w = 176, halo = 16, m = 8;
  const auto tiles = sira::plan_tiles(h, w, 60, halo, m);  // 60 rounds up to 64
  std::vector<int> covered(h * w, 0);
  for (const auto& t : tiles) {
    EXPECT_EQ(t.core.y0 % 64, 0u);
    EXPECT_EQ(t.core.x0 % 64, 0u);
    for (std::size_t v : {t.input.y0, t.input.x0, t.input.y1, t.input.x1}) EXPECT_EQ(v % m, 0u);
    EXPECT_EQ(t.input.y0, t.core.y0 >= halo ? t.core.y0 - halo : 0);
    EXPECT_EQ(t.input.x0, t.core.x0 >= halo ? t.core.x0 - halo : 0);
    EXPECT_EQ(t.input.y1, std::min(t.core.y1 + halo, h));
    EXPECT_EQ(t.input.x1, std::min(t.core.x1 + halo, w));
    for (std::size_t y = t.core.y0; y < t.core.y1; ++y)
      for (std::size_t x = t.core.x0; x < t.core.x1; ++x) ++covered[y * w + x];
  }
  EXPECT_EQ(tiles.size(), 4u * 3u);  // ceil(200/64) x ceil(176/64)
  EXPECT_TRUE(std::all_of(covered.begin(), covered.end(), [](int c) { return c == 1; }));
  EXPECT_THROW(sira::plan_tiles(100, 176, 64, 16, 8), sira::Error);  // 100 not a multiple of 8
}

// Small widths keep the test fast; the tiling argument does not depend on them.
sira::Model small_model(sira::Upsample up, int slices) {
  sira::TomoganConfig cfg;
  cfg.slices = slices;
  sira::parse_widths("4,6,8,8,8,8,6,6,4", cfg);
  cfg.upsample = up;
  return sira::init_model(cfg, 11);
}

std::vector<float> random_image(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

TEST(EngineTiling, TiledEqualsUntiledOnAnOddSize) {
  const std::size_t h = 200, w = 173;  // padded to 200x176, tile 64 + halo
  for (auto up : {sira::Upsample::bilinear, sira::Upsample::nearest, sira::Upsample::transposed}) {
    SCOPED_TRACE(sira::upsample_name(up));
    const sira::Model model = small_model(up, 3);
    const auto input = random_image(3 * h * w, 5);
    sira::Engine whole(model, {.backend = "ref", .threads = 2, .tile = 0});
    sira::Engine tiled(model, {.backend = "ref", .threads = 2, .tile = 64});
    EXPECT_GE(tiled.tile_halo(), std::size_t(whole.graph().receptive_radius()));
    std::vector<float> a(h * w), b(h * w);
    whole.run_normalised(input.data(), h, w, a.data());
    tiled.run_normalised(input.data(), h, w, b.data());
    const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
    const double range = *hi - *lo;
    ASSERT_GT(range, 0.0);
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
    EXPECT_LE(worst, 1e-4 * range) << "max abs diff " << worst << ", range " << range;
  }
}

TEST(EngineTiling, ASmallerHaloShowsAtTheSeamsAndTheExactOneIsTheCap) {
  // The comparison above can fail: with --halo 0 each 64x64 core runs alone and
  // pixels near the seams change, so the equality is not vacuous.
  const std::size_t h = 128, w = 128;
  const sira::Model model = small_model(sira::Upsample::bilinear, 1);
  const auto input = random_image(h * w, 9);
  sira::Engine whole(model, {.backend = "ref", .threads = 2});
  sira::Engine no_halo(model, {.backend = "ref", .threads = 2, .tile = 64, .halo = 0});
  sira::Engine exact(model, {.backend = "ref", .threads = 2, .tile = 64});
  sira::Engine beyond(model, {.backend = "ref", .threads = 2, .tile = 64, .halo = 1000});
  sira::Engine short_halo(model, {.backend = "ref", .threads = 2, .tile = 64, .halo = 3});
  EXPECT_EQ(no_halo.tile_halo(), 0u);
  EXPECT_EQ(short_halo.tile_halo(), 8u);  // rounded up to the multiple
  EXPECT_EQ(beyond.tile_halo(), exact.tile_halo());
  std::vector<float> a(h * w), b(h * w), c(h * w);
  whole.run_normalised(input.data(), h, w, a.data());
  no_halo.run_normalised(input.data(), h, w, b.data());
  beyond.run_normalised(input.data(), h, w, c.data());
  double worst = 0.0, worst_beyond = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, double(std::fabs(b[i] - a[i])));
    worst_beyond = std::max(worst_beyond, double(std::fabs(c[i] - a[i])));
  }
  EXPECT_GT(worst, 1e-3);
  EXPECT_LE(worst_beyond, 1e-5);
  EXPECT_THROW(sira::Engine(model, {.backend = "ref", .tile = 64, .halo = -2}), sira::Error);
}

}  // namespace
