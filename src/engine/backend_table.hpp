// The backends of this build, in one table read by the engine (which one runs)
// and the CLI (the names --backend accepts). A backend is a folder of
// src/engine/ with its factory, and one line in backend_table.cpp (docs/engine.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.hpp"

namespace sira {

struct BackendRequest {
  const Model& model;
  const Graph& graph;
  int threads;
  LayerPrecision precision;
  const NodeObserver& observer;  // set only for a backend that `observes`
};

struct BackendEntry {
  std::string name;
  bool observes = false;  // reports every node's output (calibration needs it)
  // Empty when this build and CPU can run `model` at `precision` here, else why not.
  std::function<std::string(const Model& model, LayerPrecision precision)> unsupported;
  // Packs the weights once, for every session (Backend) of a compiled model.
  std::function<std::shared_ptr<const PackedModel>(const BackendRequest&)> pack;
};

// In the order `auto` tries them: the first that can run the model wins.
const std::vector<BackendEntry>& backend_table();

}  // namespace sira
