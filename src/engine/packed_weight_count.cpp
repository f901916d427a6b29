// The process-wide count of packed weight tensors (engine/backend.hpp): how a
// test sees that the sessions of one compiled model share its packed weights.
#include <atomic>

#include "engine/backend.hpp"

namespace sira {
namespace {
std::atomic<std::size_t> packed{0};
}

std::size_t packed_weight_tensors() { return packed.load(); }
void count_packed_weight_tensor() { ++packed; }

}  // namespace sira
