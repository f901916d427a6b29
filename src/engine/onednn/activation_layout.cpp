#include "engine/onednn/activation_layout.hpp"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "sira/error.hpp"

namespace sira::onednn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// The layout oneDNN picks for the destination of a 32->32 3x3 convolution
// (the network's most common shape) given format_tag::any everywhere.
tag probed_layout(const dnnl::engine& engine, dt type) {
  try {
    const memory::dims dims{1, 32, 32, 32};
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        memory::desc(dims, type, tag::any), memory::desc({32, 32, 3, 3}, type, tag::any),
        memory::desc({32}, dt::f32, tag::x), memory::desc(dims, type, tag::any), {1, 1},
        {1, 1}, {1, 1});
    const dnnl::convolution_forward::primitive_desc pd(desc, engine);
    if (std::strncmp(pd.impl_info_str(), "ref", 3) == 0) return tag::nhwc;
    for (tag blocked : {tag::nChw8c, tag::nChw16c})
      if (pd.dst_desc() == memory::desc(dims, type, blocked)) return blocked;
  } catch (const dnnl::error&) {
    // no such convolution here (e.g. bf16 on AVX2): the plan reports that later
  }
  return tag::nhwc;
}

tag cached_probe(const dnnl::engine& engine, dt type) {
  static std::mutex mutex;
  static std::map<dt, tag> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto found = cache.find(type);
  if (found != cache.end()) return found->second;
  return cache[type] = probed_layout(engine, type);
}

}  // namespace

int channel_block(tag layout) {
  return layout == tag::nChw8c ? 8 : layout == tag::nChw16c ? 16 : 1;
}

tag activation_layout(const dnnl::engine& engine, dt type, const std::vector<int>& channels) {
  if (type == dt::u8) return tag::nhwc;
  const char* forced = std::getenv("SIRA_ONEDNN_LAYOUT");
  const std::string force = forced ? forced : "";
  if (!force.empty() && force != "nhwc" && force != "blocked")
    fail("SIRA_ONEDNN_LAYOUT is '", force, "', expected nhwc or blocked");
  if (force == "nhwc") return tag::nhwc;
  tag layout = cached_probe(engine, type);
  if (force == "blocked" && layout == tag::nhwc) layout = tag::nChw8c;
  const int block = channel_block(layout);
  for (int c : channels)
    if (c % block != 0) return tag::nhwc;
  return layout;
}

}  // namespace sira::onednn
