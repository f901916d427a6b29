// A backend executes a Graph on one padded, normalised input. Backends plan
// their memory per input shape (cached, so a stream of equal-size tiles
// allocates nothing) and pack weights once at construction.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // input: graph.in_channels x h x w planar floats; h, w multiples of
  // graph.multiple(). output: h x w floats (the network's single channel).
  virtual void run(const float* input, std::size_t h, std::size_t w, float* output) = 0;
};

std::unique_ptr<Backend> make_ref_backend(const Model& model, const Graph& graph, int threads);
// Throws sira::Error when sira was built without oneDNN.
std::unique_ptr<Backend> make_onednn_backend(const Model& model, const Graph& graph, int threads);
bool onednn_available();

}  // namespace sira
