// The inference engine: runs a model on images and stacks with the chosen
// backend, handling normalisation, reflect padding to the network's multiple,
// 3-slice neighbourhoods (edges replicated) and overlapping tiles.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/stack.hpp"

namespace sira {

class Backend;

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
  NodeObserver observer{};         // set: runs the ref backend (fp32/bf16) and reports each node
};

// What EngineOptions::backend accepts in this build: "auto", then every backend
// in the order auto tries them (src/engine/backend_table.cpp).
std::vector<std::string> backend_names();
// Throws, listing backend_names(), unless `name` is one of them. The CLI and
// the Python binding check a name where it comes in; Engine checks it too.
void check_backend_name(const std::string& name);

// Threads an EngineOptions::threads value means (0 = every core).
int resolve_threads(int threads);

using Progress = std::function<void(std::size_t done, std::size_t total)>;

class Engine {
 public:
  Engine(const Model& model, const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  std::string backend_name() const;
  Precision precision() const;
  const Graph& graph() const { return graph_; }
  std::size_t min_size() const;  // smallest height/width accepted
  std::size_t tile_halo() const;  // halo added around each tile (0 when not tiling)
  int threads() const { return threads_; }

  // Denoises slice `index` of `input` (its neighbours feed a 3-slice model);
  // writes height*width floats to `out`.
  void denoise_slice(const Stack& input, std::size_t index, float* out);
  // The same for slice `centre` of consecutive h x w slices (a window of a stack,
  // at least its neighbours; the window's ends are repeated as the stack's are).
  // The caller has checked the samples are finite. Nothing is copied whole: a
  // tiled run reads each tile straight from these slices.
  void denoise_window(const std::vector<const float*>& slices, std::size_t centre,
                      std::size_t h, std::size_t w, float* out);
  // The same, handing the result to `sink` as it is finished: consecutive bands
  // of rows, top to bottom (a tiled run: one band per row of tiles; else one band
  // of all rows). The band's memory is the engine's and valid during the call.
  using RowSink = std::function<void(std::size_t first_row, std::size_t rows, const float* band)>;
  void denoise_window(const std::vector<const float*>& slices, std::size_t centre,
                      std::size_t h, std::size_t w, const RowSink& sink);
  // Denoises every slice; the result has the input's shape and dtype.
  Stack denoise(const Stack& input, const Progress& progress = {});

  // Runs the network on one normalised, planar in_channels x h x w input of any
  // size (padding and tiling applied here); out is h x w. Exposed for tests.
  void run_normalised(const float* input, std::size_t h, std::size_t w, float* out);

 private:
  // The network's input as the caller holds it: one h x w plane per input
  // channel, normalised on the way in by (v - offset) * scale.
  struct PlanarInput {
    std::vector<const float*> planes;
    std::size_t h = 0, w = 0;
    float offset = 0.0f, scale = 1.0f;
  };
  // Runs the network, giving the result's rows to `sink` in bands, each
  // mapped back by `finish` first (denormalisation).
  void run_planes(const PlanarInput& in, const RowSink& sink,
                  const std::function<void(float*, std::size_t)>& finish);
  bool is_tiled(std::size_t padded_h, std::size_t padded_w) const;  // would this image be tiled?
  Model model_;
  Graph graph_;
  EngineOptions options_;
  int threads_ = 1;
  std::unique_ptr<Backend> backend_;
  // Work buffers kept between calls so a stack of equal slices allocates once.
  std::vector<float> channels_, padded_out_, tile_in_, tile_out_, band_;
};

}  // namespace sira
