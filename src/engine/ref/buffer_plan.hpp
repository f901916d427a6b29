// Liveness-based reuse of activation buffers for one pass over a Graph: a
// node takes the smallest free slot that fits (growing one if none does) and
// frees its inputs' slots once it is their last reader. Shared by the fp32/bf16
// and int8 reference executors (sizes are in elements of whatever they store).
#pragma once

#include <cstddef>
#include <vector>

#include "sira/graph.hpp"

namespace sira::ref {

struct BufferPlan {
  std::vector<int> slot;               // slot per node; -1 for the input and output nodes
  std::vector<std::size_t> slot_size;  // elements each slot needs
};

// `need[i]`: elements node i writes.
BufferPlan plan_buffers(const Graph& graph, const std::vector<std::size_t>& need);

}  // namespace sira::ref
