// The execution plan for one input shape: oneDNN primitives in graph order with
// their arguments, and where every activation lives. Activations take the
// network's layout (NHWC, or nChw8c on AVX2: activation_layout.hpp). In a
// blocked layout the caller's planar input is read as is by the first
// convolution, and a concat is built in place (its pieces are views at
// block-aligned channel offsets of its buffer). Buffers are slots shared by all
// plans (only one plan runs at a time, slots grow to the largest), assigned by
// liveness so a 1024x1024 run keeps only the live tensors.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/onednn/network.hpp"
#include "engine/onednn/weight_store.hpp"

namespace sira::onednn {

struct Step {
  std::string node;  // for error messages
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;
  std::function<void()> custom;  // runs instead of the primitive when set
};

// A memory object whose data lives in slot `slot` (rebound before each run,
// since a slot is reallocated when a larger plan grows it).
struct SlotBinding {
  dnnl::memory memory;
  int slot = 0;
  std::size_t offset = 0;  // bytes into the slot (a piece of an in-place concat)
};

struct Plan {
  std::vector<Step> steps;
  std::vector<SlotBinding> bindings;
  std::vector<std::size_t> slot_bytes;  // slot 0 is the shared primitive scratchpad
  dnnl::memory input;                   // the caller's planar input (handle set per run)
  dnnl::memory output;                  // the caller's planar output (handle set per run)
};

// fp32 / bf16: activations and weights in that type, bias and accumulation f32.
// int8 (docs/quantization.md): u8 activations with model.quant's per-tensor
// scales and zero points, s8 weights, s32 bias, requantised by output scales.
// The network output is f32 in every precision.
Plan build_plan(const Network& network, WeightStore& weights, const dnnl::engine& engine,
                LayerPrecision precision, const QuantParams* quant, std::size_t height,
                std::size_t width);

}  // namespace sira::onednn
