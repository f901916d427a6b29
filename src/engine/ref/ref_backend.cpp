// The reference backend: executes the Graph node by node with the kernels of
// this folder. Weights are validated and packed once; activation buffers are
// planned once per input shape (liveness-based reuse, cached), so running a
// stream of equal-size tiles allocates nothing.
#include <omp.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "engine/backend.hpp"
#include "engine/ref/kernels.hpp"
#include "sira/error.hpp"

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

class RefBackend final : public Backend {
 public:
  RefBackend(const Model& model, const Graph& graph, int threads)
      : graph_(graph), threads_(threads > 0 ? threads : omp_get_max_threads()) {
    if (graph.nodes.empty() || graph.output < 0 || graph.output >= int(graph.nodes.size()))
      fail("reference backend: the graph has no output node");
    channels_.resize(graph.nodes.size());
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      channels_[i] = infer_channels(i);
      prepare_weights(model, i);
    }
    const Node& out = graph.nodes[graph.output];
    if (channels_[graph.output] != 1 || out.level != 0)
      fail("reference backend: output node '", out.name, "' must have 1 channel at level 0");
  }

  std::string name() const override { return "ref"; }

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
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
      execute(i, input, plan, buffers);
  }

 private:
  int infer_channels(std::size_t i) const {
    const Node& n = graph_.nodes[i];
    for (int j : n.inputs)
      if (j < 0 || std::size_t(j) >= i)
        fail("reference backend: node '", n.name, "' reads node ", j, " that is not earlier");
    const auto want_inputs = [&](std::size_t count) {
      if (n.inputs.size() != count)
        fail("reference backend: node '", n.name, "' (", op_name(n.op), ") has ",
             n.inputs.size(), " inputs, expected ", count);
    };
    switch (n.op) {
      case OpKind::input: want_inputs(0); return graph_.in_channels;
      case OpKind::conv: want_inputs(1); return n.channels;
      case OpKind::maxpool: want_inputs(1); return channels_[n.inputs[0]];
      case OpKind::upsample:
        want_inputs(1);
        return n.upsample == Upsample::transposed ? n.channels : channels_[n.inputs[0]];
      case OpKind::concat: {
        int sum = 0;
        for (int j : n.inputs) sum += channels_[j];
        want_inputs(2);
        return sum;
      }
    }
    fail("reference backend: node '", n.name, "' has an unknown operation");
  }

  const ModelTensor& weight(const Model& model, const std::string& name,
                            std::vector<std::int64_t> shape) const {
    const ModelTensor& t = model.tensor(name);
    if (t.shape != shape || t.data.size() != t.numel()) {
      std::string want, got;
      for (auto d : shape) want += cat(want.empty() ? "" : "x", d);
      for (auto d : t.shape) got += cat(got.empty() ? "" : "x", d);
      fail("reference backend: tensor '", name, "' has shape ", got, ", expected ", want);
    }
    return t;
  }

  void prepare_weights(const Model& model, std::size_t i) {
    const Node& n = graph_.nodes[i];
    if (n.op == OpKind::conv) {
      if (n.kernel < 1 || n.kernel % 2 == 0)
        fail("reference backend: conv '", n.name, "' has kernel ", n.kernel, " (must be odd)");
      const std::int64_t cout = n.channels, cin = channels_[n.inputs[0]], k = n.kernel;
      const ModelTensor& w = weight(model, n.name + ".weight", {cout, cin, k, k});
      const ModelTensor& b = weight(model, n.name + ".bias", {cout});
      ConvWeights& cw = convs_[i];
      cw.bias = b.data;
      cw.storage.resize(ref::packed_conv_size(cout, cin, k));
      cw.packed = {std::size_t(cin), std::size_t(cout), std::size_t(k), cw.storage.data(),
                   cw.bias.data()};
      ref::pack_conv_weights(w.data.data(), cw.packed);
    } else if (n.op == OpKind::upsample && n.upsample == Upsample::transposed) {
      const std::int64_t cout = n.channels, cin = channels_[n.inputs[0]];
      if (n.kernel != 2)
        fail("reference backend: transposed upsample '", n.name, "' has kernel ", n.kernel,
             ", expected 2");
      TransposedWeights& tw = transposed_[i];
      tw.weights = weight(model, n.name + ".weight", {cin, cout, 2, 2}).data;
      tw.bias = weight(model, n.name + ".bias", {cout}).data;
    }
  }

  const Plan& plan_for(std::size_t h, std::size_t w) {
    auto found = plans_.find({h, w});
    if (found != plans_.end()) return found->second;
    Plan plan;
    const std::size_t count = graph_.nodes.size();
    plan.shapes.resize(count);
    plan.slot.assign(count, -1);
    std::vector<std::size_t> last_use(count, 0);
    for (std::size_t i = 0; i < count; ++i) {
      const Node& n = graph_.nodes[i];
      plan.shapes[i] = {std::size_t(channels_[i]), h >> n.level, w >> n.level};
      for (int j : n.inputs) last_use[j] = i;
    }
    // Greedy slot reuse: a node takes the smallest free slot (growing it if
    // needed) and frees its inputs' slots once it is their last reader.
    std::vector<std::size_t>& slot_size = plan.slot_size;
    std::vector<bool> slot_free;
    std::size_t scratch = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const Node& n = graph_.nodes[i];
      if (n.op != OpKind::input && int(i) != graph_.output) {
        const std::size_t need = plan.shapes[i].size();
        int best = -1;  // smallest free slot that fits, else the largest free one
        for (std::size_t s = 0; s < slot_size.size(); ++s) {
          if (!slot_free[s]) continue;
          if (best < 0) { best = int(s); continue; }
          const bool fits = slot_size[s] >= need, best_fits = slot_size[best] >= need;
          if (fits ? (!best_fits || slot_size[s] < slot_size[best])
                   : (!best_fits && slot_size[s] > slot_size[best]))
            best = int(s);
        }
        if (best < 0) {
          best = int(slot_size.size());
          slot_size.push_back(0);
          slot_free.push_back(false);
        }
        slot_size[best] = std::max(slot_size[best], need);
        slot_free[best] = false;
        plan.slot[i] = best;
      }
      if (n.op == OpKind::conv)
        scratch = std::max(scratch, ref::conv2d_scratch_per_thread(convs_.at(i).packed,
                                                                   plan.shapes[i].width));
      for (int j : n.inputs)
        if (last_use[j] == i && plan.slot[j] >= 0) slot_free[plan.slot[j]] = true;
    }
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
        if (a.plane() != b.plane())
          fail("reference backend: concat '", n.name, "' joins ", a.height, "x", a.width,
               " with ", b.height, "x", b.width);
        ref::concat_channels(in(0), a.channels, in(1), b.channels, a.plane(), out);
        return;
      }
    }
  }

  Graph graph_;
  int threads_;
  std::vector<int> channels_;
  std::map<std::size_t, ConvWeights> convs_;
  std::map<std::size_t, TransposedWeights> transposed_;
  std::map<std::pair<std::size_t, std::size_t>, Plan> plans_;
  std::vector<std::vector<float>> slots_;  // activation buffers shared by the plans
  std::vector<float> conv_scratch_;
  std::vector<float*> node_buffers_;
};

}  // namespace

std::unique_ptr<Backend> make_ref_backend(const Model& model, const Graph& graph, int threads) {
  return std::make_unique<RefBackend>(model, graph, threads);
}

}  // namespace sira
