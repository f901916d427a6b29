// A backend in two parts (docs/engine.md):
// - PackedModel, built once when a model is compiled: the packed weights and
//   whatever else the model fixes. Immutable, shared by every session.
// - Backend, one per session (Engine): executes the Graph on one padded,
//   normalised input, planning its memory per input shape (cached, so a stream
//   of equal-size tiles allocates nothing).
// The graph and model a backend is made from have passed validate_graph (the
// engine checks them when it compiles a model), so a backend uses
// Node::channels and the model's tensors as they are.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "sira/engine.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant_params.hpp"

namespace sira {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual LayerPrecision precision() const = 0;
  // input: graph.in_channels x h x w planar floats; h, w multiples of
  // graph.multiple(). output: h x w floats (the network's single channel).
  virtual void run(const float* input, std::size_t h, std::size_t w, float* output) = 0;
};

class PackedModel : public std::enable_shared_from_this<PackedModel> {
 public:
  virtual ~PackedModel() = default;
  virtual std::string name() const = 0;
  virtual LayerPrecision precision() const = 0;
  // A new session on these weights (it keeps them alive): its own plans and
  // buffers, for one thread at a time.
  virtual std::unique_ptr<Backend> session() const = 0;
};

// Weight tensors packed (laid out for a kernel) in this process so far, by
// every backend: sessions of one PackedModel pack nothing again (tested).
std::size_t packed_weight_tensors();
void count_packed_weight_tensor();

// precision fp32 | bf16 (emulated) | int8 (the model must carry quantisation params).
std::shared_ptr<const PackedModel> pack_ref(const Model& model, const Graph& graph, int threads,
                                            LayerPrecision precision = LayerPrecision::fp32,
                                            const NodeObserver& observer = {});
std::shared_ptr<const PackedModel> pack_ref_int8(const Model& model, const Graph& graph, int threads);
// Throws sira::Error when sira was built without oneDNN, or when this CPU or
// model cannot run `precision` there (onednn_unsupported says why).
// int8 needs model.quant with every layer int8.
std::shared_ptr<const PackedModel> pack_onednn(const Model& model, const Graph& graph, int threads,
                                               LayerPrecision precision = LayerPrecision::fp32);
bool onednn_available();
// Empty when the oneDNN backend can run `model` at `precision` on this CPU and
// match the ref backend, else the reason (bf16 needs AVX-512; int8 with 8-bit
// weights needs VNNI; mixed-precision int8 models are ref only). `auto` uses it.
std::string onednn_unsupported(const Model& model, LayerPrecision precision);
// XNNPACK (fp32 only; the fast fp32 path on ARM): throws sira::Error when sira was
// built without it, or for another precision (xnnpack_unsupported says why).
std::shared_ptr<const PackedModel> pack_xnnpack(const Model& model, const Graph& graph, int threads,
                                                LayerPrecision precision = LayerPrecision::fp32);
bool xnnpack_available();
std::string xnnpack_unsupported(const Model& model, LayerPrecision precision);

// One session on weights packed for it alone (tests, benchmarks).
inline std::unique_ptr<Backend> make_ref_backend(const Model& model, const Graph& graph, int threads,
                                                 LayerPrecision precision = LayerPrecision::fp32,
                                                 const NodeObserver& observer = {}) {
  return pack_ref(model, graph, threads, precision, observer)->session();
}
inline std::unique_ptr<Backend> make_onednn_backend(const Model& model, const Graph& graph, int threads,
                                                    LayerPrecision precision = LayerPrecision::fp32) {
  return pack_onednn(model, graph, threads, precision)->session();
}
inline std::unique_ptr<Backend> make_xnnpack_backend(const Model& model, const Graph& graph, int threads,
                                                     LayerPrecision precision = LayerPrecision::fp32) {
  return pack_xnnpack(model, graph, threads, precision)->session();
}

}  // namespace sira
