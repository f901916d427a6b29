// The XNNPACK backend (fp32): runs the Graph with XNNPACK's NHWC operators
// (Debian's libxnnpack-dev, a 2022-02 snapshot). XNNPACK picks its kernels for
// the CPU at run time (SSE/AVX/AVX-512 on x86, NEON and NEON-FMA on ARM), which
// makes it the fast fp32 path where oneDNN has none (ARM boards, docs/arm.md).
//
// Concatenation costs nothing here: the producers of a concat write straight into
// their channel range of its buffer and every reader of them reads through the
// buffer's pixel stride (XNNPACK's operators take channel/pixel strides).
// XnnpackWeights (the compiled model's part) repacks the weights to XNNPACK's
// OHWI layout once; each session (XnnpackBackend) creates its own operators from
// them, because an XNNPACK operator is set up and run by one thread at a time and
// the 2022 snapshot has no weights cache to share its internal packing. Buffers are
// planned per input shape by live range and reused.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/backend.hpp"
#include "sira/error.hpp"

namespace sira {
namespace {

void check(xnn_status status, const std::string& what) {
  if (status != xnn_status_success) fail("XNNPACK backend: ", what, " failed (xnn_status ", int(status), ")");
}

// XNNPACK is initialised once per process (and never deinitialised: its kernels
// table stays valid for every backend made later).
xnn_status initialization() {
  static std::once_flag once;
  static xnn_status status = xnn_status_success;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  return status;
}

struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

struct PoolDeleter {
  void operator()(pthreadpool_t pool) const { pthreadpool_destroy(pool); }
};

// Where a node's output lives: in the buffer of node `owner` (itself, or the
// concat it feeds), from channel `offset`, with that buffer's channels as stride.
struct Place {
  int owner = 0;
  std::size_t offset = 0;
};

// Buffers for one input size: one slot per owner, reused by live range.
struct Plan {
  std::vector<int> slot;               // per owner node (-1: none, the output writes to the caller's)
  std::vector<std::size_t> slot_size;  // floats
};

// Weights in XNNPACK's layouts, [out][kh][kw][in] for convolutions and
// transposed convolutions (sira stores PyTorch's [out][in][kh][kw] and [in][out][2][2]).
struct LayerWeights {
  std::vector<float> ohwi, bias;
};

// What a compiled model fixes: the graph, where each node's output lives, the
// repacked weights. Immutable, shared by every session.
class XnnpackWeights final : public PackedModel {
 public:
  XnnpackWeights(const Model& model, const Graph& g, int thread_count) : graph(g), threads(thread_count) {
    check(initialization(), "xnn_initialize (this CPU may lack the instructions XNNPACK needs)");
    place_nodes();
    for (std::size_t i = 1; i < graph.nodes.size(); ++i) repack(model, int(i));
  }
  std::string name() const override { return "xnnpack"; }
  LayerPrecision precision() const override { return LayerPrecision::fp32; }
  std::unique_ptr<Backend> session() const override;

  std::size_t stride(int node) const { return std::size_t(graph.nodes[place[node].owner].channels); }

  const Graph graph;
  const int threads;
  std::vector<Place> place;
  std::map<int, LayerWeights> weights;

 private:
  void place_nodes() {
    const std::size_t n = graph.nodes.size();
    place.resize(n);
    for (std::size_t i = 0; i < n; ++i) place[i] = {int(i), 0};
    std::vector<bool> placed(n, false);
    for (std::size_t c = 0; c < n; ++c) {
      const Node& node = graph.nodes[c];
      if (node.op != OpKind::concat) continue;
      std::size_t offset = 0;
      for (int j : node.inputs) {
        // TomoGAN never feeds a concat from the input or one tensor into two concats.
        if (j == 0 || placed[j] || graph.nodes[j].op == OpKind::concat || j == graph.output)
          fail("XNNPACK backend: node '", graph.nodes[j].name, "' cannot be placed in concat '", node.name, "'");
        place[j] = {int(c), offset};
        placed[j] = true;
        offset += std::size_t(graph.nodes[j].channels);
      }
    }
    if (place[graph.output].owner != graph.output || graph.nodes[graph.output].channels != 1)
      fail("XNNPACK backend: the output node must be a 1-channel tensor of its own");
  }

  void repack(const Model& model, int i) {
    const Node& n = graph.nodes[i];
    if (!n.has_weights()) return;
    const bool transposed = n.op == OpKind::upsample;
    const std::size_t cout = std::size_t(n.channels), cin = std::size_t(graph.nodes[n.inputs[0]].channels);
    const std::size_t k = transposed ? 2 : std::size_t(n.kernel);
    const std::vector<float>& w = model.tensor(n.name + ".weight").data;
    LayerWeights& lw = weights[i];
    lw.bias = model.tensor(n.name + ".bias").data;
    lw.ohwi.resize(w.size());
    for (std::size_t o = 0; o < cout; ++o)
      for (std::size_t c = 0; c < cin; ++c)
        for (std::size_t y = 0; y < k; ++y)
          for (std::size_t x = 0; x < k; ++x)
            lw.ohwi[((o * k + y) * k + x) * cin + c] =
                transposed ? w[((c * cout + o) * k + y) * k + x] : w[((o * cin + c) * k + y) * k + x];
    count_packed_weight_tensor();
  }
};

class XnnpackBackend final : public Backend {
 public:
  explicit XnnpackBackend(std::shared_ptr<const XnnpackWeights> weights)
      : weights_(std::move(weights)), graph_(weights_->graph), place_(weights_->place) {
    // One thread runs on the caller's (no pool); otherwise a pool of that many (0: every core).
    const int threads = weights_->threads;
    if (threads != 1) pool_.reset(pthreadpool_create(threads > 0 ? std::size_t(threads) : 0));
    ops_.resize(graph_.nodes.size());
    for (std::size_t i = 1; i < graph_.nodes.size(); ++i) create_operator(int(i));
  }

  std::string name() const override { return "xnnpack"; }
  LayerPrecision precision() const override { return LayerPrecision::fp32; }

  void run(const float* input, std::size_t h, std::size_t w, float* output) override {
    const std::size_t m = std::size_t(graph_.multiple());
    if (h == 0 || w == 0 || h % m || w % m) fail("XNNPACK backend: input ", h, "x", w, " is not a non-zero multiple of ", m);
    const Plan& plan = plan_for(h, w);
    if (slots_.size() < plan.slot_size.size()) slots_.resize(plan.slot_size.size());
    // XNNPACK's kernels may read (never use) up to XNN_EXTRA_BYTES past an input's end.
    const std::size_t extra = (XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float);
    for (std::size_t s = 0; s < plan.slot_size.size(); ++s)
      if (slots_[s].size() < plan.slot_size[s] + extra) slots_[s].resize(plan.slot_size[s] + extra);
    const auto base = [&](int node) -> float* {  // the first channel of `node`'s output, first pixel
      const Place& p = place_[node];
      float* buffer = plan.slot[p.owner] >= 0 ? slots_[plan.slot[p.owner]].data() : output;
      return buffer + p.offset;
    };
    // The planar input into node 0's NHWC buffer.
    {
      const std::size_t c = std::size_t(graph_.in_channels), n = h * w;
      float* dst = base(0);
      for (std::size_t k = 0; k < c; ++k)
        for (std::size_t p = 0; p < n; ++p) dst[p * c + k] = input[k * n + p];
    }
    for (std::size_t i = 1; i < graph_.nodes.size(); ++i) execute(int(i), h, w, base);
  }

 private:
  std::size_t stride(int node) const { return weights_->stride(node); }

  void create_operator(int i) {
    const Node& n = graph_.nodes[i];
    const int in = n.inputs.empty() ? -1 : n.inputs[0];
    xnn_operator_t op = nullptr;
    const float lo = n.relu ? 0.0f : -std::numeric_limits<float>::infinity();
    const float hi = std::numeric_limits<float>::infinity();
    if (n.op == OpKind::conv) {
      const std::size_t cout = std::size_t(n.channels), cin = std::size_t(graph_.nodes[in].channels);
      const std::size_t k = std::size_t(n.kernel), pad = k / 2;
      const LayerWeights& w = weights_->weights.at(i);
      check(xnn_create_convolution2d_nhwc_f32(uint32_t(pad), uint32_t(pad), uint32_t(pad), uint32_t(pad), uint32_t(k),
                                              uint32_t(k), 1, 1, 1, 1, 1, cin, cout, stride(in), stride(i), w.ohwi.data(),
                                              w.bias.data(), lo, hi, 0, &op),
            "creating convolution '" + n.name + "'");
    } else if (n.op == OpKind::maxpool) {
      check(xnn_create_max_pooling2d_nhwc_f32(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, std::size_t(n.channels), stride(in),
                                              stride(i), -std::numeric_limits<float>::infinity(), hi, 0, &op),
            "creating max pooling '" + n.name + "'");
    } else if (n.op == OpKind::upsample && n.upsample == Upsample::bilinear) {
      // No flags: half-pixel centres, i.e. PyTorch's align_corners=False (as the ref backend).
      check(xnn_create_resize_bilinear2d_nhwc_f32(std::size_t(n.channels), stride(in), stride(i), 0, &op),
            "creating bilinear resize '" + n.name + "'");
    } else if (n.op == OpKind::upsample && n.upsample == Upsample::transposed) {
      const std::size_t cout = std::size_t(n.channels), cin = std::size_t(graph_.nodes[in].channels);
      const LayerWeights& w = weights_->weights.at(i);
      check(xnn_create_deconvolution2d_nhwc_f32(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, cin, cout, stride(in), stride(i),
                                                w.ohwi.data(), w.bias.data(), lo, hi, 0, &op),
            "creating transposed convolution '" + n.name + "'");
    }
    ops_[i].reset(op);  // nearest upsampling and concat need no operator
  }

  template <class Base>
  void execute(int i, std::size_t h, std::size_t w, const Base& base) {
    const Node& n = graph_.nodes[i];
    const int in = n.inputs.empty() ? -1 : n.inputs[0];
    const int level_in = in >= 0 ? graph_.nodes[in].level : 0;
    const std::size_t hi = h >> level_in, wi = w >> level_in;
    xnn_operator_t op = ops_[i].get();
    switch (n.op) {
      case OpKind::input:
      case OpKind::concat:  // its inputs wrote into it
        return;
      case OpKind::conv:
        check(xnn_setup_convolution2d_nhwc_f32(op, 1, hi, wi, base(in), base(i), pool_.get()), "convolution setup");
        break;
      case OpKind::maxpool:
        check(xnn_setup_max_pooling2d_nhwc_f32(op, 1, hi, wi, base(in), base(i), pool_.get()), "max pooling setup");
        break;
      case OpKind::upsample:
        if (n.upsample == Upsample::nearest) {
          upsample_nearest(base(in), hi, wi, std::size_t(n.channels), stride(in), base(i), stride(i));
          return;
        }
        if (n.upsample == Upsample::bilinear)
          check(xnn_setup_resize_bilinear2d_nhwc_f32(op, 1, hi, wi, 2 * hi, 2 * wi, base(in), base(i), pool_.get()),
                "bilinear resize setup");
        else
          check(xnn_setup_deconvolution2d_nhwc_f32(op, 1, hi, wi, 0, 0, base(in), base(i), pool_.get()),
                "transposed convolution setup");
        break;
    }
    check(xnn_run_operator(op, pool_.get()), "running '" + n.name + "'");
  }

  static void upsample_nearest(const float* in, std::size_t h, std::size_t w, std::size_t c, std::size_t in_stride,
                               float* out, std::size_t out_stride) {
    for (std::size_t y = 0; y < 2 * h; ++y)
      for (std::size_t x = 0; x < 2 * w; ++x)
        std::copy_n(in + ((y / 2) * w + x / 2) * in_stride, c, out + (y * 2 * w + x) * out_stride);
  }

  // Slots by live range: an owner's buffer is taken when its first member is
  // written and given back after the last reader of any member has run.
  const Plan& plan_for(std::size_t h, std::size_t w) {
    const auto key = std::make_pair(h, w);
    if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    const std::size_t n = graph_.nodes.size();
    std::vector<int> first(n, -1), last(n, -1);
    for (std::size_t i = 0; i < n; ++i) {
      const int o = place_[i].owner;
      if (first[o] < 0 || int(i) < first[o]) first[o] = int(i);
      last[o] = std::max(last[o], int(i));
      for (int j : graph_.nodes[i].inputs) last[place_[j].owner] = std::max(last[place_[j].owner], int(i));
    }
    Plan plan;
    plan.slot.assign(n, -1);
    std::vector<int> free_after;  // per slot: the step after which it is free again
    for (std::size_t step = 0; step < n; ++step) {
      for (std::size_t o = 0; o < n; ++o) {
        if (first[o] != int(step) || int(o) == graph_.output) continue;
        const Node& node = graph_.nodes[o];
        const std::size_t need = (h >> node.level) * (w >> node.level) * std::size_t(node.channels);
        int best = -1;
        for (std::size_t s = 0; s < free_after.size(); ++s)
          if (free_after[s] < int(step) && (best < 0 || plan.slot_size[s] < plan.slot_size[std::size_t(best)]) &&
              plan.slot_size[s] >= need)
            best = int(s);
        if (best < 0)
          for (std::size_t s = 0; s < free_after.size(); ++s)
            if (free_after[s] < int(step)) best = int(s);  // grow a free one
        if (best < 0) {
          best = int(free_after.size());
          free_after.push_back(0);
          plan.slot_size.push_back(0);
        }
        plan.slot_size[std::size_t(best)] = std::max(plan.slot_size[std::size_t(best)], need);
        free_after[std::size_t(best)] = last[o];
        plan.slot[o] = best;
      }
    }
    return plans_.emplace(key, std::move(plan)).first->second;
  }

  std::shared_ptr<const XnnpackWeights> weights_;
  const Graph& graph_;
  const std::vector<Place>& place_;
  std::unique_ptr<pthreadpool, PoolDeleter> pool_;
  std::vector<Operator> ops_;
  std::map<std::pair<std::size_t, std::size_t>, Plan> plans_;
  std::vector<std::vector<float>> slots_;
};

std::unique_ptr<Backend> XnnpackWeights::session() const {
  return std::make_unique<XnnpackBackend>(std::static_pointer_cast<const XnnpackWeights>(shared_from_this()));
}

}  // namespace

std::shared_ptr<const PackedModel> pack_xnnpack(const Model& model, const Graph& graph, int threads,
                                                LayerPrecision precision) {
  if (std::string why = xnnpack_unsupported(model, precision); !why.empty()) fail("XNNPACK backend: ", why);
  return std::make_shared<const XnnpackWeights>(model, graph, threads);
}

bool xnnpack_available() { return true; }

std::string xnnpack_unsupported(const Model&, LayerPrecision precision) {
  if (precision != LayerPrecision::fp32)
    return cat("it runs fp32 only (", precision_name(precision), ": use --backend ref or onednn)");
  if (initialization() != xnn_status_success) return "XNNPACK does not support this CPU";
  return {};
}

}  // namespace sira
