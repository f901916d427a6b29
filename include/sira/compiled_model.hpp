// A model compiled for one backend and precision: the model, its validated
// graph and the backend's packed weights. Immutable once built, so one
// CompiledModel (held as std::shared_ptr<const CompiledModel>) serves any number
// of Engines, the per-call sessions, on any threads: like ncnn's Net and
// Extractor, or XNNPACK's packed operators and their reshape/setup.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira {

// Called by the fp32/bf16 reference backend after every node with its output
// (planar channels x height x width floats; the input node too): calibration
// records activation ranges through it.
using NodeObserver = std::function<void(int node, const float* data, std::size_t channels,
                                        std::size_t height, std::size_t width)>;

// The arithmetic the engine runs a model in (docs/quantization.md): the same
// three a layer of a quantised model can have. A name is parsed once where it
// comes in (parse_precision: CLI options, Python arguments, model metadata)
// and printed with precision_name.
using Precision = LayerPrecision;

struct EngineOptions {
  // "auto" or a name of backend_names(); check_backend_name refuses others.
  std::string backend = "auto";
  Precision precision = Precision::fp32;  // int8 needs a quantised model
  int threads = 0;                 // 0 = all cores
  std::size_t tile = 0;            // 0 = whole image; else tile edge in pixels (plus halo)
  // Overlap of tiles in pixels (rounded up to the network's multiple); -1 = the
  // receptive radius, so tiled equals untiled. Smaller is faster: the samples
  // near a tile's edge then see zero padding where their far context was.
  long halo = -1;
  // Set: runs the ref backend (fp32/bf16) and reports each node; every session
  // of one CompiledModel calls it (from its own thread).
  NodeObserver observer{};
};

// What EngineOptions::backend accepts in this build: "auto", then every backend
// in the order auto tries them (src/engine/backend_table.cpp).
std::vector<std::string> backend_names();
// Throws, listing backend_names(), unless `name` is one of them. The CLI and
// the Python binding check a name where it comes in; compiling checks it too.
void check_backend_name(const std::string& name);

// Threads an EngineOptions::threads value means (0 = every core).
int resolve_threads(int threads);

class PackedModel;  // a backend's packed weights (src/engine/backend.hpp)

class CompiledModel {
 public:
  // Validates the model (validate_graph) and the options, chooses the backend
  // (options.backend; "auto": the first of the table that can run the model at
  // options.precision) and packs the weights.
  CompiledModel(const Model& model, const EngineOptions& options);
  ~CompiledModel();
  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;

  const Model& model() const { return model_; }
  const Graph& graph() const { return graph_; }
  const EngineOptions& options() const { return options_; }
  int threads() const { return threads_; }  // options().threads resolved
  std::string backend_name() const;
  Precision precision() const;
  const PackedModel& packed() const { return *packed_; }

 private:
  Model model_;
  Graph graph_;
  EngineOptions options_;
  int threads_ = 1;
  std::shared_ptr<const PackedModel> packed_;
};

// std::make_shared<const CompiledModel>(model, options).
std::shared_ptr<const CompiledModel> compile(const Model& model, const EngineOptions& options);

}  // namespace sira
