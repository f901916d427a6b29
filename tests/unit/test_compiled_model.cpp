// CompiledModel and sessions: one compiled model shared by two Engines on two
// threads gives each exactly what a single Engine gives (ref fp32, ref int8,
// oneDNN fp32 and int8 where this build and CPU run them), and the sessions
// pack no weights of their own: together they pack what one Engine packs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/backend.hpp"
#include "network_fixtures.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"
#include "sira/quantize.hpp"

namespace sira {
namespace {

using fixtures::random_input;

struct Image {
  std::size_t h, w;
  std::vector<float> planes;
};

// Two sizes, so each session caches a second plan; 13x30 is padded (not a
// multiple of the network's 4). With a tile of 16 both are tiled.
std::vector<Image> images(int slices) {
  return {{20, 28, random_input(slices, 20, 28, 1)}, {13, 30, random_input(slices, 13, 30, 2)}};
}

// Every image through `engine`, twice in turn (the cached plans run again).
std::vector<std::vector<float>> run_all(Engine& engine, const std::vector<Image>& in) {
  std::vector<std::vector<float>> out;
  for (int pass = 0; pass < 2; ++pass)
    for (const Image& im : in) {
      out.emplace_back(im.h * im.w);
      engine.run_normalised(im.planes.data(), im.h, im.w, out.back().data());
    }
  return out;
}

Model int8_model(const Model& fp32) {
  QuantizeOptions o;
  o.weight_bits = 7;  // oneDNN runs 7-bit weights exactly on every x86 CPU
  o.method = "minmax";
  o.threads = 1;
  return quantize_model(fp32, {{"blobs", fixtures::blob_image(2, 24, 24, 5)}}, o);
}

void expect_shared_sessions_match_one_engine(const Model& model, const EngineOptions& options) {
  const std::vector<Image> in = images(model.config.slices);
  const std::size_t before_single = packed_weight_tensors();
  Engine single(model, options);
  const std::vector<std::vector<float>> want = run_all(single, in);
  const std::size_t single_packs = packed_weight_tensors() - before_single;
  ASSERT_GT(single_packs, 0u) << "the counter must see one engine's packing";

  const std::size_t before_shared = packed_weight_tensors();
  const std::shared_ptr<const CompiledModel> compiled = compile(model, options);
  std::vector<std::vector<float>> got[2];
  std::string errors[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      try {
        Engine session(compiled);
        got[t] = run_all(session, in);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 2; ++t) {
    ASSERT_EQ(errors[t], "") << "session " << t;
    ASSERT_EQ(got[t].size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[t][i], want[i]) << "session " << t << ", run " << i;
  }
  EXPECT_EQ(packed_weight_tensors() - before_shared, single_packs)
      << "two sessions of one compiled model must pack what one engine packs";
  EXPECT_EQ(compiled.use_count(), 1) << "the sessions released the compiled model";
}

TomoganConfig config() { return fixtures::small_config(3, Upsample::bilinear); }

TEST(CompiledModel, SharedByTwoThreadsMatchesOneEngineOnRef) {
  const Model fp32 = init_model(config(), 4);
  expect_shared_sessions_match_one_engine(fp32, {.backend = "ref", .threads = 1, .tile = 16});
  expect_shared_sessions_match_one_engine(int8_model(fp32),
                                          {.backend = "ref", .precision = Precision::int8, .threads = 1});
}

TEST(CompiledModel, SharedByTwoThreadsMatchesOneEngineOnOnednn) {
  if (!onednn_available()) GTEST_SKIP() << "sira was built without oneDNN";
  TomoganConfig cfg = config();
  cfg.upsample = Upsample::transposed;
  const Model fp32 = init_model(cfg, 5);
  expect_shared_sessions_match_one_engine(fp32, {.backend = "onednn", .threads = 1, .tile = 16});
  const Model int8 = int8_model(fp32);
  const std::string why = onednn_unsupported(int8, Precision::int8);
  if (!why.empty()) GTEST_SKIP() << "oneDNN cannot run int8 here: " << why;
  expect_shared_sessions_match_one_engine(int8, {.backend = "onednn", .precision = Precision::int8, .threads = 1});
}

// XNNPACK sessions make their own operators from the weights repacked once.
TEST(CompiledModel, SharedByTwoThreadsMatchesOneEngineOnXnnpack) {
  if (!xnnpack_available()) GTEST_SKIP() << "sira was built without XNNPACK";
  TomoganConfig cfg = config();
  const Model fp32 = init_model(cfg, 6);
  expect_shared_sessions_match_one_engine(fp32, {.backend = "xnnpack", .threads = 1, .tile = 16});
}

TEST(CompiledModel, CompilesOnceAndRefusesBadOptionsThere) {
  const Model model = init_model(config(), 6);
  const auto compiled = compile(model, {.backend = "ref", .threads = 1});
  EXPECT_EQ(compiled->backend_name(), "ref");
  EXPECT_EQ(compiled->precision(), Precision::fp32);
  EXPECT_EQ(compiled->threads(), 1);
  Engine a(compiled), b(compiled);
  EXPECT_EQ(&a.compiled(), &b.compiled());
  EXPECT_EQ(&a.compiled().packed(), &b.compiled().packed());
  EXPECT_THROW(compile(model, {.backend = "ref", .precision = Precision::int8}), Error);  // an fp32 model
  EXPECT_THROW(compile(model, {.backend = "cuda"}), Error);
  EXPECT_THROW(Engine{std::shared_ptr<const CompiledModel>{}}, Error);
}

}  // namespace
}  // namespace sira
