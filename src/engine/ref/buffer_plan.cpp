#include "engine/ref/buffer_plan.hpp"

#include <algorithm>

namespace sira::ref {

BufferPlan plan_buffers(const Graph& graph, const std::vector<std::size_t>& need) {
  const std::size_t count = graph.nodes.size();
  BufferPlan plan;
  plan.slot.assign(count, -1);
  std::vector<std::size_t> last_use(count, 0);
  for (std::size_t i = 0; i < count; ++i)
    for (int j : graph.nodes[i].inputs) last_use[std::size_t(j)] = i;
  std::vector<std::size_t>& slot_size = plan.slot_size;
  std::vector<bool> slot_free;
  for (std::size_t i = 0; i < count; ++i) {
    const Node& n = graph.nodes[i];
    if (n.op != OpKind::input && int(i) != graph.output) {
      int best = -1;  // smallest free slot that fits, else the largest free one
      for (std::size_t s = 0; s < slot_size.size(); ++s) {
        if (!slot_free[s]) continue;
        if (best < 0) { best = int(s); continue; }
        const bool fits = slot_size[s] >= need[i], best_fits = slot_size[best] >= need[i];
        if (fits ? (!best_fits || slot_size[s] < slot_size[best])
                 : (!best_fits && slot_size[s] > slot_size[best]))
          best = int(s);
      }
      if (best < 0) {
        best = int(slot_size.size());
        slot_size.push_back(0);
        slot_free.push_back(false);
      }
      slot_size[best] = std::max(slot_size[best], need[i]);
      slot_free[best] = false;
      plan.slot[i] = best;
    }
    for (int j : n.inputs)
      if (last_use[std::size_t(j)] == i && plan.slot[std::size_t(j)] >= 0) slot_free[plan.slot[std::size_t(j)]] = true;
  }
  return plan;
}

}  // namespace sira::ref
