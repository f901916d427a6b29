// The inference engine: runs a compiled model on images and stacks, handling
// normalisation, reflect padding to the network's multiple, 3-slice
// neighbourhoods (edges replicated) and overlapping tiles. An Engine is one
// session: its own per-shape plans and work buffers over a CompiledModel that
// any number of sessions share (one Engine per thread; docs/library.md).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sira/compiled_model.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/stack.hpp"

namespace sira {

class Backend;

using Progress = std::function<void(std::size_t done, std::size_t total)>;

class Engine {
 public:
  // A session on `compiled`, which it shares (with other sessions, on other threads).
  explicit Engine(std::shared_ptr<const CompiledModel> compiled);
  // A session on a model compiled for it alone: Engine(compile(model, options)).
  Engine(const Model& model, const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const CompiledModel& compiled() const { return *compiled_; }
  std::string backend_name() const { return compiled_->backend_name(); }
  Precision precision() const { return compiled_->precision(); }
  const Graph& graph() const { return compiled_->graph(); }
  std::size_t min_size() const;  // smallest height/width accepted
  std::size_t tile_halo() const;  // halo added around each tile (0 when not tiling)
  int threads() const { return compiled_->threads(); }

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
  std::shared_ptr<const CompiledModel> compiled_;
  std::unique_ptr<Backend> backend_;  // this session's plans and buffers over compiled_'s weights
  // Work buffers kept between calls so a stack of equal slices allocates once.
  std::vector<float> channels_, padded_out_, tile_in_, tile_out_, band_;
};

}  // namespace sira
