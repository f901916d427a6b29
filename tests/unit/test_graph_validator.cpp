// validate_graph: well-formed graphs and models pass, and each kind of
// malformed graph or model is refused with the offending node (or tensor)
// named, before any backend sees it.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira {
namespace {

TomoganConfig small_config(Upsample up) {
  TomoganConfig c;
  parse_widths("4,6,8,8,8,8,6,6,4", c);
  c.upsample = up;
  return c;
}

int index_of(const Graph& g, const std::string& name) {
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return int(i);
  ADD_FAILURE() << "no node " << name;
  return 0;
}

// The error validate_graph gives after `spoil` changes the graph or the model.
std::string error_after(const std::function<void(Graph&, Model&)>& spoil,
                        Upsample up = Upsample::bilinear) {
  Model model = init_model(small_config(up), 1);
  Graph graph = build_graph(model.config);
  spoil(graph, model);
  try {
    validate_graph(graph, model);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

// A quantised model's parameters, complete (every layer kept in fp32, so no
// int8 tensors are needed).
void add_quant_params(const Graph& g, Model& m) {
  QuantParams q;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (int(i) != g.output) q.activations[g.nodes[i].name] = {0.01f, 3};
    if (g.nodes[i].has_weights()) q.layers[g.nodes[i].name].precision = LayerPrecision::fp32;
  }
  m.quant = q;
}

#define EXPECT_NAMES(message, name, what)                                          \
  do {                                                                             \
    const std::string m_ = (message);                                              \
    EXPECT_NE(m_.find(name), std::string::npos) << m_;                             \
    EXPECT_NE(m_.find(what), std::string::npos) << m_;                             \
  } while (0)

TEST(GraphValidator, AcceptsEveryBuiltGraphWithItsModel) {
  for (Upsample up : {Upsample::bilinear, Upsample::nearest, Upsample::transposed})
    for (int slices : {1, 3}) {
      TomoganConfig cfg = small_config(up);
      cfg.slices = slices;
      const Model model = init_model(cfg, 2);
      Graph g = build_graph(cfg);
      EXPECT_NO_THROW(validate_graph(g, model)) << upsample_name(up) << ", " << slices << " slices";
      Model quantised = model;
      add_quant_params(g, quantised);
      EXPECT_NO_THROW(validate_graph(g, quantised)) << upsample_name(up) << " quantised";
    }
}

TEST(GraphValidator, RefusesWrongChannelCountsNamingTheNode) {
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "dec.0.concat")].channels += 1; }),
               "'dec.0.concat'", "channels, expected");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "enc.1.pool")].channels = 5; }),
               "'enc.1.pool'", "5 channels, expected 8");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "dec.1.up")].channels = 3; }),
               "'dec.1.up'", "3 channels");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[0].channels = 2; }), "'input'", "expected 3");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "stem")].channels = 0; }), "'stem'",
               "0 channels");
}

TEST(GraphValidator, RefusesWrongInputsAndLevelsNamingTheNode) {
  EXPECT_NAMES(error_after([](Graph& g, Model&) {
                 const int i = index_of(g, "enc.0.conv1");
                 g.nodes[i].inputs = {i + 1};
               }),
               "'enc.0.conv1'", "not an earlier node");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "dec.1.concat")].inputs.pop_back(); }),
               "'dec.1.concat'", "1 inputs, expected 2");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "bottleneck")].level = 1; }),
               "'bottleneck'", "level 1, expected 3");
  EXPECT_NAMES(error_after([](Graph& g, Model&) {
                 Node& cc = g.nodes[index_of(g, "dec.0.concat")];
                 cc.inputs[0] = index_of(g, "enc.0.conv2");  // a level-0 skip into the level-1 concat
               }),
               "'dec.0.concat'", "level 0");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "stem")].op = OpKind::input; }),
               "'stem'", "only node 0");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.nodes[index_of(g, "enc.1.conv2")].kernel = 2; }),
               "'enc.1.conv2'", "kernel 2 (must be odd)");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.output = index_of(g, "head.conv1"); }), "'head.conv1'",
               "1 channel at level 0");
  EXPECT_NAMES(error_after([](Graph& g, Model&) { g.output = 99; }), "output node 99", "not one of its");
}

TEST(GraphValidator, RefusesMissingOrMisshapenTensorsNamingThem) {
  EXPECT_NAMES(error_after([](Graph&, Model& m) { m.tensors.erase("dec.0.conv1.weight"); }), "'dec.0.conv1'",
               "no tensor 'dec.0.conv1.weight'");
  EXPECT_NAMES(error_after([](Graph&, Model& m) { m.tensors["enc.1.conv1.bias"].shape = {9}; }),
               "'enc.1.conv1.bias'", "shape 9, expected 8");
  EXPECT_NAMES(error_after([](Graph&, Model& m) { m.tensors["head.conv2.weight"].data.pop_back(); }),
               "'head.conv2.weight'", "holds 3 values");
  // A transposed upsample's weight is [in, out, 2, 2]: the conv layout is refused.
  EXPECT_NAMES(error_after([](Graph&, Model& m) { m.tensors["dec.1.up.weight"].shape = {8, 8, 2, 3}; },
                           Upsample::transposed),
               "'dec.1.up.weight'", "expected 8x8x2x2");
}

TEST(GraphValidator, RefusesIncompleteQuantisationParametersNamingTheNode) {
  EXPECT_NAMES(error_after([](Graph& g, Model& m) {
                 add_quant_params(g, m);
                 m.quant->activations.erase("enc.1.pool");
               }),
               "'enc.1.pool'", "no activation parameters");
  EXPECT_NAMES(error_after([](Graph& g, Model& m) {
                 add_quant_params(g, m);
                 m.quant->layers.erase("dec.1.conv2");
               }),
               "'dec.1.conv2'", "no precision");
  EXPECT_NAMES(error_after([](Graph& g, Model& m) {
                 add_quant_params(g, m);
                 QuantLayer& l = m.quant->layers["stem"];
                 l.precision = LayerPrecision::int8;
                 l.weight.assign(12, 1);  // stem is 4 x 3 x 1 x 1
                 l.bias.assign(4, 0);
                 l.weight_scale.assign(3, 0.1f);  // neither 1 nor 4
               }),
               "'stem'", "3 weight scales");
}

// The engine validates when it compiles a model: the backend never sees a bad one.
TEST(GraphValidator, EngineRefusesAMalformedModelWithTheTensorNamed) {
  Model model = init_model(small_config(Upsample::nearest), 3);
  model.tensors["enc.0.conv2.weight"].shape = {6, 6, 1, 9};
  try {
    Engine(model, {.backend = "ref"});
    FAIL() << "a misshapen tensor was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'enc.0.conv2.weight' has shape 6x6x1x9, expected 6x6x3x3"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sira
