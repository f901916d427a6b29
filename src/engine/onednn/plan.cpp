#include "engine/onednn/plan.hpp"

#include "engine/onednn/activation_layout.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "sira/error.hpp"
#include "sira/quant.hpp"

namespace sira::onednn {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int kScratchSlot = 0;

class PlanBuilder {
 public:
  PlanBuilder(const Network& net, WeightStore& weights, const dnnl::engine& engine,
              LayerPrecision precision, const QuantParams* quant, std::size_t height,
              std::size_t width)
      : net_(net), weights_(weights), engine_(engine), int8_(precision == LayerPrecision::int8),
        act_(int8_ ? dt::u8 : precision == LayerPrecision::bf16 ? dt::bf16 : dt::f32),
        layout_(net.layout), blocked_(net.layout != tag::nhwc), quant_(quant),
        height_(height), width_(width) {
    if (int8_ && blocked_) fail("oneDNN backend: int8 runs on NHWC activations only");
    if (int8_ && !quant_) fail("oneDNN backend: int8 needs a quantised model");
    if (int8_ && net_.graph.nodes[net_.graph.output].op != OpKind::conv)
      fail("oneDNN backend: int8 needs the network output to be a convolution");
  }

  Plan build() {
    const int count = int(net_.graph.nodes.size());
    plan_.slot_bytes.assign(1, 0);  // the scratchpad slot
    assign_memories();
    for (int i = 0; i < count; ++i) {
      const Node& n = net_.graph.nodes[i];
      try {
        switch (n.op) {
          case OpKind::input: add_input(i); break;
          case OpKind::conv: add_conv(i); break;
          case OpKind::maxpool: add_maxpool(i); break;
          case OpKind::upsample: add_upsample(i); break;
          case OpKind::concat: add_concat(i); break;
        }
      } catch (const dnnl::error& e) {
        fail("oneDNN backend: node '", n.name, "' (", op_name(n.op), ") at ", height_, "x",
             width_, ": ", e.what());
      }
    }
    if (!output_in_place_) {
      memory& out = tensor_[net_.graph.output];
      try {
        plan_.steps.push_back({"output", dnnl::reorder(out, plan_.output),
                               {{DNNL_ARG_FROM, out}, {DNNL_ARG_TO, plan_.output}}, {}});
      } catch (const dnnl::error& e) {
        fail("oneDNN backend: output reorder at ", height_, "x", width_, ": ", e.what());
      }
    }
    return std::move(plan_);
  }

 private:
  memory::dims dims(int node, int channels) const {
    const int level = net_.graph.nodes[node].level;
    return {1, channels, memory::dim(height_ >> level), memory::dim(width_ >> level)};
  }
  // Activations in the plan's type; the network output is always f32 (it is
  // the caller's buffer, or reordered into it).
  memory::desc activation_desc(int node) const {
    const dt type = node == net_.graph.output ? dt::f32 : act_;
    return memory::desc(dims(node, net_.channels(node)), type, layout_);
  }
  std::size_t element_bytes() const { return act_ == dt::f32 ? 4 : act_ == dt::bf16 ? 2 : 1; }

  // Blocked layouts: a concat whose pieces are ordinary activations, each at a
  // channel offset that is a multiple of the block, gets its pieces as views
  // of its own buffer (a block range of an N=1 nChw8c tensor is dense).
  void plan_in_place_concats() {
    const Graph& g = net_.graph;
    const int count = int(g.nodes.size());
    view_of_.assign(count, -1);
    view_offset_.assign(count, 0);
    in_place_concat_.assign(count, false);
    if (!blocked_) return;
    const int block = channel_block(layout_);
    for (int c = 0; c < count; ++c) {
      const Node& n = g.nodes[c];
      if (n.op != OpKind::concat || net_.fused_concat[c] || c == g.output) continue;
      bool ok = true;
      int offset = 0;
      for (int j : n.inputs) {
        const OpKind op = g.nodes[j].op;
        ok = ok && op != OpKind::input && op != OpKind::concat && j != g.output &&
             view_of_[j] < 0 && offset % block == 0;
        offset += net_.channels(j);
      }
      for (std::size_t a = 0; a < n.inputs.size(); ++a)  // the same tensor twice cannot be two views
        for (std::size_t b = a + 1; b < n.inputs.size(); ++b) ok = ok && n.inputs[a] != n.inputs[b];
      if (!ok) continue;
      in_place_concat_[c] = true;
      const std::size_t plane = (height_ >> n.level) * (width_ >> n.level);
      offset = 0;
      for (int j : n.inputs) {
        view_of_[j] = c;
        view_offset_[j] = std::size_t(offset) * plane * element_bytes();
        offset += net_.channels(j);
      }
    }
  }

  // Gives every executed node a memory object: the caller's buffers where the
  // layouts agree (planar input: 1-channel NHWC, or any input in a blocked
  // layout, whose first convolution reads planar data; 1-channel NHWC output),
  // else a slot chosen by liveness (the concat's slot for its in-place pieces).
  void assign_memories() {
    const Graph& g = net_.graph;
    const int count = int(g.nodes.size());
    plan_in_place_concats();
    tensor_.resize(count);
    auto owner = [&](int node) { return view_of_[node] >= 0 ? view_of_[node] : node; };
    std::vector<int> last_use(count, -1), slot(count, -1);
    for (int i = 0; i < count; ++i)
      if (!net_.fused_concat[i] && !in_place_concat_[i])
        for (int s : net_.sources[i]) last_use[owner(s)] = std::max(last_use[owner(s)], i);

    const int input_channels = g.in_channels;
    input_in_place_ = act_ == dt::f32 && (blocked_ || input_channels == 1);
    plan_.input = memory(memory::desc(dims(0, input_channels), dt::f32,
                                      input_in_place_ && !blocked_ ? layout_ : tag::nchw),
                         engine_, DNNL_MEMORY_NONE);
    output_in_place_ = g.nodes[g.output].op == OpKind::conv && !blocked_;
    plan_.output = memory(output_in_place_ ? activation_desc(g.output)
                                           : memory::desc(dims(g.output, 1), dt::f32, tag::nchw),
                          engine_, DNNL_MEMORY_NONE);

    std::vector<bool> slot_free(1, false);  // the scratchpad slot is never free
    auto bind = [&](int node, int at_slot, std::size_t offset) {
      tensor_[node] = memory(activation_desc(node), engine_, DNNL_MEMORY_NONE);
      plan_.bindings.push_back({tensor_[node], at_slot, offset});
    };
    for (int i = 0; i < count; ++i) {
      const Node& n = g.nodes[i];
      if (net_.fused_concat[i]) continue;
      if (n.op == OpKind::input && input_in_place_) {
        tensor_[i] = plan_.input;
      } else if (i == g.output && output_in_place_) {
        tensor_[i] = plan_.output;
      } else {
        const int o = owner(i);
        if (slot[o] < 0) slot[o] = take_slot(activation_desc(o).get_size(), slot_free);
        bind(i, slot[o], view_of_[i] >= 0 ? view_offset_[i] : 0);
      }
      if (in_place_concat_[i]) continue;  // its pieces' slot lives until the concat's last reader
      for (int s : net_.sources[i])
        if (last_use[owner(s)] == i && slot[owner(s)] >= 0) slot_free[slot[owner(s)]] = true;
    }
  }

  // The smallest free slot that fits, else the largest free one (grown), else a new one.
  int take_slot(std::size_t bytes, std::vector<bool>& slot_free) {
    std::vector<std::size_t>& size = plan_.slot_bytes;
    int best = -1;
    for (int s = 0; s < int(size.size()); ++s) {
      if (!slot_free[s]) continue;
      if (best < 0) { best = s; continue; }
      const bool fits = size[s] >= bytes, best_fits = size[best] >= bytes;
      if (fits ? (!best_fits || size[s] < size[best]) : (!best_fits && size[s] > size[best]))
        best = s;
    }
    if (best < 0) {
      best = int(size.size());
      size.push_back(0);
      slot_free.push_back(false);
    }
    size[best] = std::max(size[best], bytes);
    slot_free[best] = false;
    return best;
  }

  dnnl::primitive_attr attributes(const dnnl::post_ops& ops = dnnl::post_ops()) const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // one shared scratchpad, no per-call allocation
    attr.set_post_ops(ops);
    return attr;
  }

  void add_step(int node, dnnl::primitive primitive, std::unordered_map<int, memory> args,
                const memory::desc& scratchpad) {
    if (scratchpad.get_size() > 0) {
      memory scratch(scratchpad, engine_, DNNL_MEMORY_NONE);
      plan_.bindings.push_back({scratch, kScratchSlot});
      plan_.slot_bytes[kScratchSlot] = std::max(plan_.slot_bytes[kScratchSlot], scratchpad.get_size());
      args[DNNL_ARG_SCRATCHPAD] = scratch;
    }
    plan_.steps.push_back({net_.graph.nodes[node].name, std::move(primitive), std::move(args), {}});
  }

  // int8: the planar f32 input quantised into NHWC uint8 with quant::quantize
  // itself, so the first rounding is the specification's bit for bit.
  void add_input(int i) {
    if (input_in_place_) return;
    if (int8_) {
      const ActivationParams p = params(i);
      const float inv = quant::inverse_scale(p.scale);
      const int zp = p.zero_point, channels = net_.graph.in_channels;
      const std::size_t pixels = height_ * width_;
      memory from = plan_.input, to = tensor_[i];
      Step step;
      step.node = net_.graph.nodes[i].name;
      step.custom = [=]() mutable {
        const float* src = static_cast<const float*>(from.get_data_handle());
        std::uint8_t* dst = static_cast<std::uint8_t*>(to.get_data_handle());
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t px = 0; px < std::ptrdiff_t(pixels); ++px)
          for (int c = 0; c < channels; ++c)
            dst[std::size_t(px) * channels + c] = quant::quantize(src[c * pixels + px], inv, zp);
      };
      plan_.steps.push_back(std::move(step));
      return;
    }
    dnnl::reorder::primitive_desc pd(plan_.input, tensor_[i], attributes());
    add_step(i, dnnl::reorder(pd), {{DNNL_ARG_FROM, plan_.input}, {DNNL_ARG_TO, tensor_[i]}},
             pd.scratchpad_desc());
  }

  // A conv over k sources (k = 2 after a fused concat) is k primitives writing
  // one destination: the first adds the bias, the others accumulate (sum post-op),
  // the last applies the ReLU.
  void add_conv(int i) {
    if (int8_) {
      add_int8_conv(i);
      return;
    }
    const Node& n = net_.graph.nodes[i];
    const auto& sources = net_.sources[i];
    const memory::dim out = net_.channels(i), k = n.kernel, pad = n.kernel / 2;
    for (std::size_t part = 0; part < sources.size(); ++part) {
      const memory& src = tensor_[sources[part]];
      const memory::desc weights_any({out, net_.channels(sources[part]), k, k}, act_, tag::any);
      const memory::desc bias_desc({out}, dt::f32, tag::x);
      dnnl::post_ops ops;
      if (part > 0) ops.append_sum(1.0f);
      if (part + 1 == sources.size() && n.relu)
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      const auto kind = dnnl::prop_kind::forward_inference;
      const auto alg = dnnl::algorithm::convolution_direct;
      const memory::dims stride{1, 1}, padding{pad, pad};
      const auto desc =
          part == 0 ? dnnl::convolution_forward::desc(kind, alg, src.get_desc(), weights_any,
                                                      bias_desc, tensor_[i].get_desc(), stride,
                                                      padding, padding)
                    : dnnl::convolution_forward::desc(kind, alg, src.get_desc(), weights_any,
                                                      tensor_[i].get_desc(), stride, padding,
                                                      padding);
      dnnl::convolution_forward::primitive_desc pd(desc, attributes(ops), engine_);
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, src},
          {DNNL_ARG_WEIGHTS, weights_.packed(Network::conv_weight_key(n.name, part), pd.weights_desc())},
          {DNNL_ARG_DST, tensor_[i]}};
      if (part == 0) args[DNNL_ARG_BIAS] = weights_.packed(Network::bias_key(n.name), pd.bias_desc());
      add_step(i, dnnl::convolution_forward(pd), std::move(args), pd.scratchpad_desc());
    }
  }

  void add_maxpool(int i) {
    const memory& src = tensor_[net_.sources[i][0]];
    const dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, src.get_desc(),
        tensor_[i].get_desc(), {2, 2}, {2, 2}, {0, 0}, {0, 0});
    dnnl::pooling_forward::primitive_desc pd(desc, attributes(), engine_);
    add_step(i, dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, tensor_[i]}},
             pd.scratchpad_desc());
  }

  // Bilinear: oneDNN's linear resampling maps output x to source (x + 0.5) / 2 - 0.5
  // clamped at the edges, which is PyTorch's align_corners=False. Nearest: source
  // round((x + 0.5) / 2 - 0.5) = floor(x / 2), PyTorch's 'nearest'.
  void add_upsample(int i) {
    const Node& n = net_.graph.nodes[i];
    const memory& src = tensor_[net_.sources[i][0]];
    if (n.upsample == Upsample::transposed) {
      add_transposed(i, src);
      return;
    }
    const auto alg = n.upsample == Upsample::bilinear ? dnnl::algorithm::resampling_linear
                                                      : dnnl::algorithm::resampling_nearest;
    const dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_inference, alg,
                                              src.get_desc(), tensor_[i].get_desc());
    dnnl::resampling_forward::primitive_desc pd(desc, attributes(), engine_);
    add_step(i, dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, tensor_[i]}},
             pd.scratchpad_desc());
  }

  // ConvTranspose2d(k=2, stride=2): every output pixel takes exactly one tap.
  void add_transposed(int i, const memory& src) {
    if (int8_) {
      add_int8_transposed(i, src);
      return;
    }
    dnnl::post_ops ops;
    if (net_.graph.nodes[i].relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    add_deconv2x2_step(i, src, act_, dt::f32, attributes(ops));
  }

  // The kernel-2 stride-2 deconvolution of node i with weights and bias of these
  // types (weights in the layout oneDNN picks, packed once).
  void add_deconv2x2_step(int i, const memory& src, dt weight_type, dt bias_type,
                          const dnnl::primitive_attr& attr) {
    const Node& n = net_.graph.nodes[i];
    const memory::dim out = net_.channels(i), in = net_.channels(net_.sources[i].at(0));
    const dnnl::deconvolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct, src.get_desc(),
        memory::desc({out, in, 2, 2}, weight_type, tag::any), memory::desc({out}, bias_type, tag::x),
        tensor_[i].get_desc(), {2, 2}, {0, 0}, {0, 0});
    dnnl::deconvolution_forward::primitive_desc pd(desc, attr, engine_);
    add_step(i, dnnl::deconvolution_forward(pd),
             {{DNNL_ARG_SRC, src},
              {DNNL_ARG_WEIGHTS, weights_.packed(Network::weight_key(n.name), pd.weights_desc())},
              {DNNL_ARG_BIAS, weights_.packed(Network::bias_key(n.name), pd.bias_desc())},
              {DNNL_ARG_DST, tensor_[i]}},
             pd.scratchpad_desc());
  }

  ActivationParams params(int node) const {
    const std::string& name = net_.graph.nodes[node].name;
    const auto found = quant_->activations.find(name);
    if (found == quant_->activations.end())
      fail("oneDNN backend: int8 model has no scale for activation '", name, "'");
    return found->second;
  }

  // Requantisation of int8 layer i reading node `source` (docs/quantization.md):
  // per-channel output scales M[c] = s_in * s_w[c] / s_out (D[c] = s_in * s_w[c]
  // for the final f32 output), source and destination zero points, fused ReLU.
  // oneDNN applies them in the specification's order: f32(acc + bias) * M, ReLU,
  // + zp_out, round half to even, saturate.
  dnnl::primitive_attr int8_attributes(int i, int source) const {
    const Node& n = net_.graph.nodes[i];
    const QuantLayer& q = quant_->layers.at(n.name);
    const bool last = i == net_.graph.output;
    const ActivationParams in = params(source);
    const ActivationParams out = last ? ActivationParams{} : params(i);
    std::vector<float> scales(std::size_t(net_.channels(i)));
    for (std::size_t c = 0; c < scales.size(); ++c)
      scales[c] = last ? quant::output_multiplier(in.scale, q.scale(c))
                       : quant::requant_multiplier(in.scale, q.scale(c), out.scale);
    dnnl::post_ops ops;
    if (n.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::primitive_attr attr = attributes(ops);
    attr.set_output_scales(1 << 1, scales);
    if (in.zero_point) attr.set_zero_points(DNNL_ARG_SRC, 0, {in.zero_point});
    if (out.zero_point) attr.set_zero_points(DNNL_ARG_DST, 0, {out.zero_point});
    return attr;
  }

  void add_int8_conv(int i) {
    const Node& n = net_.graph.nodes[i];
    const int source = net_.sources[i].at(0);
    const memory& src = tensor_[source];
    const memory::dim out = net_.channels(i), k = n.kernel, pad = n.kernel / 2;
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src.get_desc(),
        memory::desc({out, net_.channels(source), k, k}, dt::s8, tag::any),
        memory::desc({out}, dt::s32, tag::x), tensor_[i].get_desc(), {1, 1}, {pad, pad},
        {pad, pad});
    dnnl::convolution_forward::primitive_desc pd(desc, int8_attributes(i, source), engine_);
    add_step(i, dnnl::convolution_forward(pd),
             {{DNNL_ARG_SRC, src},
              {DNNL_ARG_WEIGHTS, weights_.packed(Network::conv_weight_key(n.name, 0), pd.weights_desc())},
              {DNNL_ARG_BIAS, weights_.packed(Network::bias_key(n.name), pd.bias_desc())},
              {DNNL_ARG_DST, tensor_[i]}},
             pd.scratchpad_desc());
  }

  void add_int8_transposed(int i, const memory& src) {
    add_deconv2x2_step(i, src, dt::s8, dt::s32, int8_attributes(i, net_.sources[i].at(0)));
  }

  // Materialised only when neither fused into split convs (NHWC fp32) nor
  // built in place (blocked layouts).
  void add_concat(int i) {
    if (net_.fused_concat[i] || in_place_concat_[i]) return;
    std::vector<memory::desc> descs;
    std::unordered_map<int, memory> args{{DNNL_ARG_DST, tensor_[i]}};
    for (std::size_t k = 0; k < net_.sources[i].size(); ++k) {
      descs.push_back(tensor_[net_.sources[i][k]].get_desc());
      args[DNNL_ARG_MULTIPLE_SRC + int(k)] = tensor_[net_.sources[i][k]];
    }
    dnnl::concat::primitive_desc pd(tensor_[i].get_desc(), 1, descs, engine_, attributes());
    add_step(i, dnnl::concat(pd), std::move(args), pd.scratchpad_desc());
  }

  const Network& net_;
  WeightStore& weights_;
  dnnl::engine engine_;
  bool int8_;
  dt act_;  // activation type: f32, bf16 (also the weights') or u8
  tag layout_;    // of every activation but the caller's input and output
  bool blocked_;  // layout_ is nChw8c / nChw16c
  const QuantParams* quant_;  // int8 only
  std::size_t height_, width_;
  Plan plan_;
  std::vector<memory> tensor_;  // output of every executed node
  std::vector<int> view_of_;              // the in-place concat a node is a piece of, or -1
  std::vector<std::size_t> view_offset_;  // that piece's byte offset in the concat's buffer
  std::vector<bool> in_place_concat_;
  bool input_in_place_ = false;
  bool output_in_place_ = false;
};

}  // namespace

Plan build_plan(const Network& network, WeightStore& weights, const dnnl::engine& engine,
                LayerPrecision precision, const QuantParams* quant, std::size_t height,
                std::size_t width) {
  return PlanBuilder(network, weights, engine, precision, quant, height, width).build();
}

}  // namespace sira::onednn
