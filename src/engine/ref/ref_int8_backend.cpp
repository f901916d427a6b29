// The reference int8 backend (docs/quantization.md): layers packed once per
// compiled model (Int8Weights), plans and buffers per session. It quantises the normalised
// input with the model's `input` parameters, runs every node on uint8 codes
// (int8 layers with int32 accumulation and requantisation, layers marked
// fp32/bf16 on their dequantised input) and returns the final conv's fp32 output.
#include <omp.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "engine/backend.hpp"
#include "engine/ref/buffer_plan.hpp"
#include "engine/ref/int8_conv_kernels.hpp"
#include "engine/ref/int8_kernels.hpp"
#include "engine/ref/kernels.hpp"
#include "sira/error.hpp"
#include "sira/quant.hpp"

namespace sira {
namespace {

using ref::Shape;

// A layer the quantised model keeps in fp32 or bf16.
struct FloatLayer {
  bool bf16 = false;
  ref::PackedConv packed;          // convs
  std::vector<float> storage, bias;
  std::vector<float> transposed;   // transposed upsample weights [in, out, 2, 2]
};

struct Int8Plan {
  std::vector<Shape> shapes;
  std::vector<int> slot;
  std::vector<std::size_t> slot_size;
  std::size_t int_scratch = 0, float_scratch = 0;  // conv scratch, all threads
  std::size_t float_buffer = 0;                    // a float layer's input plus output
};

// What a compiled int8 model fixes: the graph, the activation parameters and
// the packed layers. Immutable after construction, shared by every session.
struct Int8Weights final : PackedModel {
  Int8Weights(const Model& model, const Graph& g, int thread_count)
      : graph(g), threads(thread_count > 0 ? thread_count : omp_get_max_threads()) {
    if (!model.quant)
      fail("precision int8 needs a quantised model (make one with sira quantize); this model is fp32");
    ref::int8_conv_kernel();  // a bad SIRA_INT8_CONV_KERNEL is an error here, not inside a run
    const QuantParams& q = *model.quant;
    const std::size_t count = graph.nodes.size();
    params.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Node& n = graph.nodes[i];
      if (int(i) != graph.output) params[i] = q.activations.at(n.name);
      if (n.has_weights()) {
        prepare_layer(model, i);
        count_packed_weight_tensor();
      }
    }
  }

  std::string name() const override { return "ref"; }
  LayerPrecision precision() const override { return LayerPrecision::int8; }
  std::unique_ptr<Backend> session() const override;

  Graph graph;
  int threads;
  std::vector<ActivationParams> params;  // each node's output codes (unused for the output node)
  std::map<std::size_t, ref::Int8Conv> int8_layers;
  std::map<std::size_t, std::vector<std::int8_t>> transposed_weights;
  std::map<std::size_t, FloatLayer> float_layers;

 private:
  void prepare_layer(const Model& model, std::size_t i) {
    const Node& n = graph.nodes[i];
    const QuantLayer& l = model.quant->layers.at(n.name);
    const std::size_t cin = std::size_t(graph.nodes[n.inputs[0]].channels), cout = std::size_t(n.channels);
    const bool transposed = n.op == OpKind::upsample;
    if (l.precision != LayerPrecision::int8) {
      FloatLayer& f = float_layers[i];
      f.bf16 = l.precision == LayerPrecision::bf16;
      std::vector<float> wts = model.tensor(n.name + ".weight").data;
      if (f.bf16)
        for (float& v : wts) v = quant::round_bf16(v);
      f.bias = model.tensor(n.name + ".bias").data;
      if (transposed) {
        f.transposed = std::move(wts);
      } else {
        f.storage.resize(ref::packed_conv_size(cout, cin, std::size_t(n.kernel)));
        f.packed = {cin, cout, std::size_t(n.kernel), f.storage.data(), f.bias.data()};
        ref::pack_conv_weights(wts.data(), f.packed);
      }
      return;
    }
    const std::size_t k = std::size_t(n.kernel);
    ref::Int8Conv& c = int8_layers[i];
    c.in_channels = cin;
    c.out_channels = cout;
    c.kernel = k;
    c.relu = n.relu;
    c.bias = l.bias;
    const ActivationParams& in = params[std::size_t(n.inputs[0])];
    c.input_zero_point = in.zero_point;
    const bool final_layer = int(i) == graph.output;
    c.output_zero_point = final_layer ? 0 : params[i].zero_point;
    c.multiplier.resize(cout);
    for (std::size_t co = 0; co < cout; ++co)
      c.multiplier[co] = final_layer ? quant::output_multiplier(in.scale, l.scale(co))
                                     : quant::requant_multiplier(in.scale, l.scale(co), params[i].scale);
    if (transposed)
      transposed_weights[i] = l.weight;
    else
      ref::pack_int8_conv_weights(l.weight.data(), c);
  }
};

// A session: per-shape plans and the buffers they share, over Int8Weights.
class RefInt8Backend final : public Backend {
 public:
  explicit RefInt8Backend(std::shared_ptr<const Int8Weights> weights)
      : weights_(std::move(weights)),
        graph_(weights_->graph),
        threads_(weights_->threads),
        params_(weights_->params),
        int8_layers_(weights_->int8_layers),
        transposed_weights_(weights_->transposed_weights),
        float_layers_(weights_->float_layers) {}

  std::string name() const override { return weights_->name(); }
  LayerPrecision precision() const override { return weights_->precision(); }

  void run(const float* input, std::size_t h, std::size_t w, float* output) override {
    const std::size_t m = std::size_t(graph_.multiple());
    if (h == 0 || w == 0 || h % m || w % m)
      fail("reference backend: input ", h, "x", w, " is not a non-zero multiple of ", m);
    const Int8Plan& plan = plan_for(h, w);
    if (slots_.size() < plan.slot_size.size()) slots_.resize(plan.slot_size.size());
    for (std::size_t s = 0; s < plan.slot_size.size(); ++s)
      if (slots_[s].size() < plan.slot_size[s]) slots_[s].resize(plan.slot_size[s]);
    if (int_scratch_.size() < plan.int_scratch) int_scratch_.resize(plan.int_scratch);
    if (float_scratch_.size() < plan.float_scratch) float_scratch_.resize(plan.float_scratch);
    if (float_buffer_.size() < plan.float_buffer) float_buffer_.resize(plan.float_buffer);
    input_codes_.resize(plan.shapes[0].size());
    ref::quantize_tensor(input, input_codes_.size(), params_[0].scale, params_[0].zero_point,
                         input_codes_.data());
    buffers_.assign(graph_.nodes.size(), nullptr);
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
      buffers_[i] = graph_.nodes[i].op == OpKind::input ? input_codes_.data()
                    : plan.slot[i] >= 0                ? slots_[plan.slot[i]].data()
                                                       : nullptr;
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) execute(i, plan, output);
  }

 private:
  const Int8Plan& plan_for(std::size_t h, std::size_t w) {
    auto found = plans_.find({h, w});
    if (found != plans_.end()) return found->second;
    Int8Plan plan;
    const std::size_t count = graph_.nodes.size();
    plan.shapes.resize(count);
    std::vector<std::size_t> need(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Node& n = graph_.nodes[i];
      plan.shapes[i] = {std::size_t(n.channels), h >> n.level, w >> n.level};
      need[i] = plan.shapes[i].size();
      if (n.op != OpKind::conv) continue;
      const Shape in = plan.shapes[std::size_t(n.inputs[0])];
      if (auto it = int8_layers_.find(i); it != int8_layers_.end())
        plan.int_scratch = std::max(plan.int_scratch, ref::conv2d_int8_scratch_per_thread(it->second, in.width));
      if (auto it = float_layers_.find(i); it != float_layers_.end()) {
        plan.float_scratch = std::max(plan.float_scratch, ref::conv2d_scratch_per_thread(it->second.packed, in.width));
        plan.float_buffer = std::max(plan.float_buffer, in.size() + plan.shapes[i].size());
      }
    }
    for (const auto& [i, f] : float_layers_)
      if (graph_.nodes[i].op == OpKind::upsample)
        plan.float_buffer = std::max(plan.float_buffer, plan.shapes[graph_.nodes[i].inputs[0]].size() + plan.shapes[i].size());
    ref::BufferPlan b = ref::plan_buffers(graph_, need);
    plan.slot = std::move(b.slot);
    plan.slot_size = std::move(b.slot_size);
    plan.int_scratch *= std::size_t(threads_);
    plan.float_scratch *= std::size_t(threads_);
    return plans_.emplace(std::make_pair(h, w), std::move(plan)).first->second;
  }

  // A layer kept in fp32/bf16: dequantised input, float kernel, then codes
  // (or the network's fp32 output).
  void execute_float_layer(std::size_t i, const Int8Plan& plan, float* output) {
    const Node& n = graph_.nodes[i];
    const FloatLayer& f = float_layers_.at(i);
    const std::size_t j = std::size_t(n.inputs[0]);
    const Shape in = plan.shapes[j], out = plan.shapes[i];
    float* x = float_buffer_.data();
    float* y = int(i) == graph_.output ? output : x + in.size();
    ref::dequantize_tensor(buffers_[j], in.size(), params_[j].scale, params_[j].zero_point, x);
    if (f.bf16)
      for (std::size_t k = 0; k < in.size(); ++k) x[k] = quant::round_bf16(x[k]);
    if (n.op == OpKind::upsample)
      ref::conv_transpose2x2(x, in, f.transposed.data(), f.bias.data(), out.channels, n.relu, y);
    else
      ref::conv2d(x, in, f.packed, n.relu, y, float_scratch_.data(), threads_);
    if (int(i) != graph_.output)
      ref::quantize_tensor(y, out.size(), params_[i].scale, params_[i].zero_point, buffers_[i]);
  }

  void execute(std::size_t i, const Int8Plan& plan, float* output) {
    const Node& n = graph_.nodes[i];
    if (n.op == OpKind::input) return;
    if (float_layers_.count(i)) {
      execute_float_layer(i, plan, output);
      return;
    }
    const std::uint8_t* in = buffers_[std::size_t(n.inputs[0])];
    const Shape s = plan.shapes[std::size_t(n.inputs[0])];
    std::uint8_t* out = buffers_[i];
    switch (n.op) {
      case OpKind::input: return;
      case OpKind::conv:
        ref::conv2d_int8(in, s, int8_layers_.at(i), int(i) == graph_.output ? nullptr : out,
                         int(i) == graph_.output ? output : nullptr, int_scratch_.data(), threads_);
        return;
      case OpKind::maxpool: ref::maxpool2x2_u8(in, s, out); return;
      case OpKind::upsample:
        if (n.upsample == Upsample::bilinear) ref::upsample_bilinear2x_u8(in, s, out);
        else if (n.upsample == Upsample::nearest) ref::upsample_nearest2x_u8(in, s, out);
        else ref::conv_transpose2x2_int8(in, s, transposed_weights_.at(i).data(), int8_layers_.at(i), out);
        return;
      case OpKind::concat: {
        const Shape b = plan.shapes[std::size_t(n.inputs[1])];
        ref::concat_channels_u8(in, s.channels, buffers_[std::size_t(n.inputs[1])], b.channels, s.plane(), out);
        return;
      }
    }
  }

  std::shared_ptr<const Int8Weights> weights_;
  const Graph& graph_;
  const int threads_;
  const std::vector<ActivationParams>& params_;
  const std::map<std::size_t, ref::Int8Conv>& int8_layers_;
  const std::map<std::size_t, std::vector<std::int8_t>>& transposed_weights_;
  const std::map<std::size_t, FloatLayer>& float_layers_;
  std::map<std::pair<std::size_t, std::size_t>, Int8Plan> plans_;
  std::vector<std::vector<std::uint8_t>> slots_;
  std::vector<std::uint8_t> input_codes_;
  std::vector<std::int32_t> int_scratch_;
  std::vector<float> float_scratch_, float_buffer_;
  std::vector<std::uint8_t*> buffers_;
};

std::unique_ptr<Backend> Int8Weights::session() const {
  return std::make_unique<RefInt8Backend>(std::static_pointer_cast<const Int8Weights>(shared_from_this()));
}

}  // namespace

std::shared_ptr<const PackedModel> pack_ref_int8(const Model& model, const Graph& graph, int threads) {
  return std::make_shared<const Int8Weights>(model, graph, threads);
}

}  // namespace sira
