// Engine: backend selection, size and value checks, 3-slice neighbourhoods.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/normalize.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"

namespace {

sira::Model small_model(int slices) {
  sira::TomoganConfig cfg;
  cfg.slices = slices;
  sira::parse_widths("4,6,8,8,8,8,6,6,4", cfg);
  return sira::init_model(cfg, 3);
}

sira::Stack ramp_stack(std::size_t d, std::size_t h, std::size_t w) {
  sira::Stack s(d, h, w);
  for (std::size_t i = 0; i < s.size(); ++i) s.data[i] = float(std::sin(0.37 * double(i)) * 100 + 200);
  return s;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sira::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Engine, SelectsTheRequestedBackend) {
  const sira::Model model = small_model(1);
  EXPECT_EQ(sira::Engine(model, {.backend = "ref"}).backend_name(), "ref");
  // auto: the first of the table this build has (fp32: XNNPACK runs it where oneDNN is absent).
  EXPECT_EQ(sira::Engine(model, {.backend = "auto"}).backend_name(),
            sira::onednn_available() ? "onednn" : sira::xnnpack_available() ? "xnnpack" : "ref");
  EXPECT_NE(message_of([&] { sira::Engine(model, {.backend = "cuda"}); }).find("unknown backend"),
            std::string::npos);
  if (!sira::onednn_available()) {
    EXPECT_NE(message_of([&] { sira::Engine(model, {.backend = "onednn"}); }).find("without oneDNN"),
              std::string::npos);
  }
  EXPECT_THROW(sira::Engine(model, {.backend = "ref", .threads = -1}), sira::Error);
}

// Options are typed: a precision or backend name is parsed (and refused) once,
// where it comes in, with the names that are accepted.
TEST(Engine, PrecisionAndBackendNamesAreParsedOnceAtTheEdge) {
  for (sira::Precision p : {sira::Precision::fp32, sira::Precision::bf16, sira::Precision::int8})
    EXPECT_EQ(sira::parse_precision(sira::precision_name(p)), p);
  EXPECT_EQ(sira::precision_name(sira::Precision::bf16), std::string("bf16"));
  EXPECT_NE(message_of([] { sira::parse_precision("fp8"); }).find("precision 'fp8' is unknown"), std::string::npos);
  EXPECT_NE(message_of([] { sira::parse_precision("FP32"); }).find("'FP32' is unknown"), std::string::npos);
  for (const std::string& name : sira::backend_names()) EXPECT_NO_THROW(sira::check_backend_name(name));
  std::string names;
  for (const std::string& n : sira::backend_names()) names += (names.empty() ? "" : ", ") + n;
  EXPECT_NE(message_of([] { sira::check_backend_name("cuda"); }).find("unknown backend 'cuda' (expected " + names + ")"),
            std::string::npos);
  EXPECT_NE(message_of([] { sira::check_backend_name(""); }).find("unknown backend ''"), std::string::npos);
  const sira::Model model = small_model(1);
  EXPECT_EQ(sira::Engine(model, {.backend = "ref", .precision = sira::Precision::bf16}).precision(),
            sira::Precision::bf16);
}

// The engine limits its threads for its own calls only: a library caller's
// OpenMP setting is the same before and after (the engine used to set it for good).
TEST(Engine, KeepsTheCallersThreadSettingAndUsesItsOwnInside) {
  const sira::Model model = small_model(1);
  const int callers = 3;
  omp_set_num_threads(callers);
  std::vector<std::string> backends{"ref"};
  if (sira::onednn_available()) backends.push_back("onednn");
  for (const std::string& backend : backends) {
    sira::Engine engine(model, {.backend = backend, .threads = 1});
    EXPECT_EQ(omp_get_max_threads(), callers) << backend << ": after construction";
    const sira::Stack s = ramp_stack(1, 16, 16);
    std::vector<float> out(s.size());
    int inside = 0;
    engine.denoise_window({s.slice(0)}, 0, 16, 16,
                          [&](std::size_t, std::size_t, const float*) { inside = omp_get_max_threads(); });
    EXPECT_EQ(inside, 1) << backend << ": the engine's own calls run with its thread count";
    engine.run_normalised(s.slice(0), 16, 16, out.data());
    EXPECT_EQ(omp_get_max_threads(), callers) << backend << ": after running";
  }
  omp_set_num_threads(omp_get_num_procs());
}

TEST(Engine, RefusesAnImageSmallerThanTheMinimumNamingBoth) {
  sira::Engine engine(small_model(1), {.backend = "ref"});
  EXPECT_EQ(engine.min_size(), 8u);  // three pooling levels
  const sira::Stack tiny = ramp_stack(1, 7, 40);
  const std::string msg = message_of([&] { engine.denoise(tiny); });
  EXPECT_NE(msg.find("7x40"), std::string::npos) << msg;
  EXPECT_NE(msg.find("8x8"), std::string::npos) << msg;
  EXPECT_NO_THROW(engine.denoise(ramp_stack(1, 8, 9)));
}

TEST(Engine, RefusesNonFiniteInputNamingThePosition) {
  sira::Engine engine(small_model(3), {.backend = "ref"});
  sira::Stack s = ramp_stack(3, 16, 16);
  s.at(2, 4, 5) = std::numeric_limits<float>::infinity();
  const std::string msg = message_of([&] { engine.denoise(s); });
  EXPECT_NE(msg.find("slice 2, row 4, column 5"), std::string::npos) << msg;
}

TEST(Engine, ThreeSliceModelSeesNeighboursWithEdgesReplicated) {
  sira::Model model = small_model(3);
  model.norm.mode = "per_image";
  sira::Engine engine(model, {.backend = "ref", .threads = 2});
  const std::size_t h = 24, w = 19, n = h * w;
  const sira::Stack s = ramp_stack(3, h, w);
  std::size_t calls = 0;
  const sira::Stack out = engine.denoise(s, [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 3u);
    EXPECT_EQ(done, ++calls);
  });
  EXPECT_EQ(calls, 3u);
  ASSERT_EQ(out.depth, 3u);
  // Expected channels for each slice, assembled here by hand: [prev, self, next]
  // with the stack's ends repeated, all normalised by the centre slice's map.
  const int neighbours[3][3] = {{0, 0, 1}, {0, 1, 2}, {1, 2, 2}};
  for (int i = 0; i < 3; ++i) {
    const auto map = sira::intensity_map(model.norm, s.slice(i), s.height, s.width);
    std::vector<float> channels(3 * n), want(n);
    for (int c = 0; c < 3; ++c)
      sira::normalize(s.slice(neighbours[i][c]), n, map, channels.data() + c * n);
    engine.run_normalised(channels.data(), h, w, want.data());
    sira::denormalize(want.data(), n, map);
    for (std::size_t k = 0; k < n; ++k) ASSERT_NEAR(out.slice(i)[k], want[k], 1e-5) << "slice " << i;
  }
}

TEST(Engine, OutputKeepsTheInputShape) {
  sira::Engine engine(small_model(1), {.backend = "ref"});
  sira::Stack s = ramp_stack(1, 21, 13);
  s.dtype = sira::DType::u16;
  const sira::Stack out = engine.denoise(s);
  EXPECT_EQ(out.depth, 1u);
  EXPECT_EQ(out.height, 21u);
  EXPECT_EQ(out.width, 13u);
  EXPECT_TRUE(out.is_2d);
  for (float v : out.data) EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
