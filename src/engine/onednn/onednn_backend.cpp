// The oneDNN backend: the Graph as oneDNN 2.6 primitives on activations in the
// layout oneDNN prefers on this CPU (activation_layout.hpp; plan.hpp and
// network.hpp for the fusion choices, docs/backend-onednn.md for measurements).
// Weights are registered once per compiled model (OnednnWeights, shared by its
// sessions) and packed once per layout whichever session first asks; each
// session (OnednnBackend) has its own stream, plans cached per input shape and
// buffers shared by its plans, so repeated runs allocate nothing.
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/backend.hpp"
#include "engine/onednn/activation_layout.hpp"
#include "engine/onednn/cpu_support.hpp"
#include "engine/onednn/network.hpp"
#include "engine/onednn/plan.hpp"
#include "core/thread_limit.hpp"
#include "engine/onednn/weight_store.hpp"
#include "sira/error.hpp"

namespace sira {
namespace onednn {
namespace {

// 64-byte aligned bytes (a cache line, and a full AVX-512 vector).
class AlignedBuffer {
 public:
  void reserve(std::size_t bytes) {
    if (bytes <= capacity_) return;
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) fail("oneDNN backend: cannot allocate ", rounded, " bytes of activations");
    data_.reset(p);
    capacity_ = rounded;
  }
  void* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> data_;
  std::size_t capacity_ = 0;
};

// What a compiled model fixes: the CPU engine, the network as oneDNN runs it
// and the weights (packed per layout on first use, under the store's lock).
struct OnednnWeights final : PackedModel {
  OnednnWeights(const Model& model, const Graph& graph, int thread_count, LayerPrecision layer_precision)
      : engine(make_engine()),
        network(make_network(graph, layer_precision, engine)),
        threads(thread_count),
        precision_(layer_precision),
        quant(model.quant),
        weights(engine) {
    const std::string why = unsupported_reason(model, layer_precision);
    if (!why.empty())
      fail("oneDNN backend cannot run ", precision_name(layer_precision), ": ", why,
           " (use --backend ref, or auto)");
    network.register_weights(model, weights, layer_precision);
  }

  std::string name() const override { return "onednn"; }
  LayerPrecision precision() const override { return precision_; }
  std::unique_ptr<Backend> session() const override;

  dnnl::engine engine;
  Network network;
  int threads;
  LayerPrecision precision_;
  std::optional<QuantParams> quant;  // int8: activation scales and zero points
  // Packing is the one thing sessions share that changes after construction:
  // WeightStore::packed locks, so the sessions pack each layout once between them.
  mutable WeightStore weights;

 private:
  static dnnl::engine make_engine() {
    try {
      return dnnl::engine(dnnl::engine::kind::cpu, 0);
    } catch (const dnnl::error& e) {
      fail("oneDNN backend: no CPU engine: ", e.what());
    }
  }

  // The activation layout oneDNN prefers here; split convolutions for concats
  // only in NHWC fp32 (blocked concats are written in place; a bf16 partial sum
  // would be rounded once more than the specification, an int8 one cannot be
  // carried in u8).
  static Network make_network(const Graph& graph, LayerPrecision precision,
                              const dnnl::engine& engine) {
    using dt = dnnl::memory::data_type;
    const dt type = precision == LayerPrecision::int8   ? dt::u8
                    : precision == LayerPrecision::bf16 ? dt::bf16
                                                        : dt::f32;
    const auto layout = activation_layout(engine, type, Network(graph, false).inner_channels());
    Network network(graph, precision == LayerPrecision::fp32 &&
                               layout == dnnl::memory::format_tag::nhwc);
    network.layout = layout;
    return network;
  }
};

// A session: its own stream, per-shape plans and the buffers they share.
class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(std::shared_ptr<const OnednnWeights> weights)
      : packed_(std::move(weights)),
        engine_(packed_->engine),
        stream_(engine_),
        network_(packed_->network),
        threads_(packed_->threads),
        precision_(packed_->precision()),
        quant_(packed_->quant),
        weights_(packed_->weights) {}

  std::string name() const override { return packed_->name(); }
  LayerPrecision precision() const override { return precision_; }

  void run(const float* input, std::size_t h, std::size_t w, float* output) override {
    const std::size_t m = std::size_t(network_.graph.multiple());
    if (h == 0 || w == 0 || h % m || w % m)
      fail("oneDNN backend: input ", h, "x", w, " is not a non-zero multiple of ", m);
    ThreadLimit limit(threads_);
    Plan& plan = plan_for(h, w);
    if (slots_.size() < plan.slot_bytes.size()) slots_.resize(plan.slot_bytes.size());
    for (std::size_t s = 0; s < plan.slot_bytes.size(); ++s) slots_[s].reserve(plan.slot_bytes[s]);
    for (SlotBinding& b : plan.bindings)
      b.memory.set_data_handle(static_cast<char*>(slots_[b.slot].data()) + b.offset);
    // oneDNN never writes a source; the handle is non-const only by API.
    plan.input.set_data_handle(const_cast<float*>(input));
    plan.output.set_data_handle(output);
    for (Step& step : plan.steps) {
      try {
        if (step.custom)
          step.custom();
        else
          step.primitive.execute(stream_, step.args);
      } catch (const dnnl::error& e) {
        fail("oneDNN backend: node '", step.node, "' at ", h, "x", w, ": ", e.what());
      }
    }
    stream_.wait();
  }

 private:
  Plan& plan_for(std::size_t h, std::size_t w) {
    auto found = plans_.find({h, w});
    if (found != plans_.end()) return found->second;
    Plan plan = build_plan(network_, weights_, engine_, precision_,
                           quant_ ? &*quant_ : nullptr, h, w);
    return plans_.emplace(std::make_pair(h, w), std::move(plan)).first->second;
  }

  std::shared_ptr<const OnednnWeights> packed_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  const Network& network_;
  const int threads_;
  const LayerPrecision precision_;
  const std::optional<QuantParams>& quant_;
  WeightStore& weights_;  // the compiled model's (thread-safe)
  std::map<std::pair<std::size_t, std::size_t>, Plan> plans_;
  std::vector<AlignedBuffer> slots_;  // activation buffers shared by the plans
};

std::unique_ptr<Backend> OnednnWeights::session() const {
  return std::make_unique<OnednnBackend>(std::static_pointer_cast<const OnednnWeights>(shared_from_this()));
}

}  // namespace
}  // namespace onednn

std::shared_ptr<const PackedModel> pack_onednn(const Model& model, const Graph& graph, int threads,
                                               LayerPrecision precision) {
  return std::make_shared<const onednn::OnednnWeights>(model, graph, threads, precision);
}

bool onednn_available() { return true; }

std::string onednn_unsupported(const Model& model, LayerPrecision precision) {
  return onednn::unsupported_reason(model, precision);
}

}  // namespace sira
