// The reference backend: executes the Graph node by node with the kernels of
// this folder. Weights are packed once per compiled model (RefWeights, shared
// by its sessions); each session (RefBackend) plans its activation buffers once
// per input shape (liveness-based reuse, cached), so running a stream of
// equal-size tiles allocates nothing.
#include <omp.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "engine/backend.hpp"
#include "engine/ref/buffer_plan.hpp"
#include "engine/ref/fp32_conv_kernels.hpp"
#include "engine/ref/kernels.hpp"
#include "sira/error.hpp"
#include "sira/quant.hpp"

namespace sira {
namespace {

using ref::Shape;

struct ConvWeights {
  ref::PackedConv packed;
  std::vector<float> storage;  // packed.weights points here
  std::vector<float> bias;
};

struct TransposedWeights {
  std::vector<float> weights;  // PyTorch layout [in, out, 2, 2]
  std::vector<float> bias;
};

// Where every node's output lives for one input size. The buffers themselves
// belong to the backend and are shared by all plans (only one runs at a time),
// so tiles of a few different shapes cost the largest plan's memory, not the sum.
struct Plan {
  std::vector<Shape> shapes;
  std::vector<int> slot;               // buffer slot per node (-1: input / output)
  std::vector<std::size_t> slot_size;  // floats each slot needs
  std::size_t conv_scratch = 0;        // floats of conv scratch, all threads
};

// What a compiled model fixes: the graph, the options and the packed weights.
// Immutable after construction, shared by every session.
struct RefWeights final : PackedModel {
  RefWeights(const Model& model, const Graph& g, int thread_count, bool bf16_emulation, NodeObserver node_observer)
      : graph(g),
        threads(thread_count > 0 ? thread_count : omp_get_max_threads()),
        bf16(bf16_emulation),
        observer(std::move(node_observer)) {
    ref::fp32_conv_kernel();  // a bad SIRA_FP32_CONV_KERNEL is an error here, not inside a run
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) prepare(model, i);
  }

  std::string name() const override { return "ref"; }
  LayerPrecision precision() const override { return bf16 ? LayerPrecision::bf16 : LayerPrecision::fp32; }
  std::unique_ptr<Backend> session() const override;

  Graph graph;
  int threads;
  bool bf16;              // emulate bf16 (docs/quantization.md): rounded weights and activations
  NodeObserver observer;  // sees every node's output (calibration)
  std::map<std::size_t, ConvWeights> convs;
  std::map<std::size_t, TransposedWeights> transposed;

 private:
  static std::vector<float> rounded_bf16(std::vector<float> values) {
    for (float& v : values) v = quant::round_bf16(v);
    return values;
  }

  void prepare(const Model& model, std::size_t i) {
    const Node& n = graph.nodes[i];
    if (n.op == OpKind::conv) {
      const std::size_t cout = std::size_t(n.channels), k = std::size_t(n.kernel);
      const std::size_t cin = std::size_t(graph.nodes[n.inputs[0]].channels);
      const ModelTensor& w = model.tensor(n.name + ".weight");
      const ModelTensor& b = model.tensor(n.name + ".bias");
      ConvWeights& cw = convs[i];
      cw.bias = b.data;
      cw.storage.resize(ref::packed_conv_size(cout, cin, k));
      cw.packed = {cin, cout, k, cw.storage.data(), cw.bias.data()};
      count_packed_weight_tensor();
      ref::pack_conv_weights(bf16 ? rounded_bf16(w.data).data() : w.data.data(), cw.packed);
    } else if (n.op == OpKind::upsample && n.upsample == Upsample::transposed) {
      TransposedWeights& tw = transposed[i];
      tw.weights = model.tensor(n.name + ".weight").data;
      if (bf16) tw.weights = rounded_bf16(tw.weights);
      tw.bias = model.tensor(n.name + ".bias").data;
      count_packed_weight_tensor();
    }
  }
};

// A session: per-shape plans and the buffers they share, over RefWeights.
class RefBackend final : public Backend {
 public:
  explicit RefBackend(std::shared_ptr<const RefWeights> weights)
      : weights_(std::move(weights)),
        graph_(weights_->graph),
        threads_(weights_->threads),
        bf16_(weights_->bf16),
        observer_(weights_->observer),
        convs_(weights_->convs),
        transposed_(weights_->transposed) {}

  std::string name() const override { return weights_->name(); }
  LayerPrecision precision() const override { return weights_->precision(); }

  void run(const float* input, std::size_t h, std::size_t w, float* output) override {
    const std::size_t m = std::size_t(graph_.multiple());
    if (h == 0 || w == 0 || h % m || w % m)
      fail("reference backend: input ", h, "x", w, " is not a non-zero multiple of ", m);
    const Plan& plan = plan_for(h, w);
    // Grows the shared buffers the first time a larger plan runs; no-op after.
    if (slots_.size() < plan.slot_size.size()) slots_.resize(plan.slot_size.size());
    for (std::size_t s = 0; s < plan.slot_size.size(); ++s)
      if (slots_[s].size() < plan.slot_size[s]) slots_[s].resize(plan.slot_size[s]);
    if (conv_scratch_.size() < plan.conv_scratch) conv_scratch_.resize(plan.conv_scratch);
    std::vector<float*>& buffers = node_buffers_;
    buffers.assign(graph_.nodes.size(), nullptr);
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
      if (plan.slot[i] >= 0) buffers[i] = slots_[plan.slot[i]].data();
    buffers[graph_.output] = output;
    if (bf16_) {  // the stem reads the input rounded to bf16 (docs/quantization.md)
      const std::size_t n = plan.shapes[0].size();
      bf16_input_.resize(n);
      for (std::size_t k = 0; k < n; ++k) bf16_input_[k] = quant::round_bf16(input[k]);
      input = bf16_input_.data();
    }
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      execute(i, input, plan, buffers);
      const Node& n = graph_.nodes[i];
      // bf16 activations: what a conv or bilinear upsample writes is stored as
      // bf16; pool, nearest and concat move stored values unchanged.
      if (bf16_ && int(i) != graph_.output &&
          (n.op == OpKind::conv || (n.op == OpKind::upsample && n.upsample != Upsample::nearest)))
        round_to_bf16(buffers[i], plan.shapes[i].size());
      if (observer_)
        observer_(int(i), n.op == OpKind::input ? input : buffers[i], plan.shapes[i].channels,
                  plan.shapes[i].height, plan.shapes[i].width);
    }
  }

 private:
  void round_to_bf16(float* data, std::size_t n) const {
#pragma omp parallel for num_threads(threads_) schedule(static) if (ref::worth_threads(n))
    for (std::size_t k = 0; k < n; ++k) data[k] = quant::round_bf16(data[k]);
  }

  const Plan& plan_for(std::size_t h, std::size_t w) {
    auto found = plans_.find({h, w});
    if (found != plans_.end()) return found->second;
    Plan plan;
    const std::size_t count = graph_.nodes.size();
    plan.shapes.resize(count);
    std::vector<std::size_t> need(count);
    std::size_t scratch = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const Node& n = graph_.nodes[i];
      plan.shapes[i] = {std::size_t(n.channels), h >> n.level, w >> n.level};
      need[i] = plan.shapes[i].size();
      if (n.op == OpKind::conv)
        scratch = std::max(scratch, ref::conv2d_scratch_per_thread(convs_.at(i).packed,
                                                                   plan.shapes[i].width));
    }
    ref::BufferPlan buffers = ref::plan_buffers(graph_, need);
    plan.slot = std::move(buffers.slot);
    plan.slot_size = std::move(buffers.slot_size);
    plan.conv_scratch = scratch * std::size_t(threads_);
    return plans_.emplace(std::make_pair(h, w), std::move(plan)).first->second;
  }

  void execute(std::size_t i, const float* input, const Plan& plan,
               const std::vector<float*>& buffers) {
    const Node& n = graph_.nodes[i];
    float* out = buffers[i];
    const auto in = [&](std::size_t k) -> const float* {
      const int j = n.inputs[k];
      return graph_.nodes[j].op == OpKind::input ? input : buffers[j];
    };
    const auto in_shape = [&](std::size_t k) { return plan.shapes[n.inputs[k]]; };
    switch (n.op) {
      case OpKind::input: return;
      case OpKind::conv:
        ref::conv2d(in(0), in_shape(0), convs_.at(i).packed, n.relu, out,
                    conv_scratch_.data(), threads_);
        return;
      case OpKind::maxpool: ref::maxpool2x2(in(0), in_shape(0), out); return;
      case OpKind::upsample:
        switch (n.upsample) {
          case Upsample::bilinear: ref::upsample_bilinear2x(in(0), in_shape(0), out); return;
          case Upsample::nearest: ref::upsample_nearest2x(in(0), in_shape(0), out); return;
          case Upsample::transposed: {
            const TransposedWeights& tw = transposed_.at(i);
            ref::conv_transpose2x2(in(0), in_shape(0), tw.weights.data(), tw.bias.data(),
                                   std::size_t(n.channels), n.relu, out);
            return;
          }
        }
        return;
      case OpKind::concat: {
        const Shape a = in_shape(0), b = in_shape(1);
        ref::concat_channels(in(0), a.channels, in(1), b.channels, a.plane(), out);
        return;
      }
    }
  }

  std::shared_ptr<const RefWeights> weights_;
  const Graph& graph_;
  const int threads_;
  const bool bf16_;
  const NodeObserver& observer_;
  const std::map<std::size_t, ConvWeights>& convs_;
  const std::map<std::size_t, TransposedWeights>& transposed_;
  std::vector<float> bf16_input_;
  std::map<std::pair<std::size_t, std::size_t>, Plan> plans_;
  std::vector<std::vector<float>> slots_;  // activation buffers shared by the plans
  std::vector<float> conv_scratch_;
  std::vector<float*> node_buffers_;
};

std::unique_ptr<Backend> RefWeights::session() const {
  return std::make_unique<RefBackend>(std::static_pointer_cast<const RefWeights>(shared_from_this()));
}

}  // namespace

std::shared_ptr<const PackedModel> pack_ref(const Model& model, const Graph& graph, int threads,
                                            LayerPrecision precision, const NodeObserver& observer) {
  if (precision == LayerPrecision::int8) {
    if (observer) fail("reference backend: node observers run at fp32 or bf16 only");
    return pack_ref_int8(model, graph, threads);
  }
  return std::make_shared<const RefWeights>(model, graph, threads, precision == LayerPrecision::bf16, observer);
}

}  // namespace sira
