// The memory layout of the activations, asked of oneDNN rather than fixed.
// On AVX2 (jit:avx2) oneDNN's fastest fp32 direct convolution works on
// channel blocks of 8 (nChw8c), ~1.7x the speed of the same kernel on NHWC
// (docs/backend-onednn.md); on AVX-512 it picks NHWC brgconv. u8 stays NHWC:
// oneDNN 2.6 has only ref_int8 kernels for blocked u8 on AVX2.
#pragma once

#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace sira::onednn {

// nChw8c / nChw16c when a probe convolution created with format_tag::any
// chooses that block for `type` on this CPU, a jit kernel runs it, and every
// channel count in `channels` is a multiple of the block (a block-aligned
// channel offset keeps concat pieces dense and avoids padded reference
// kernels); else nhwc. u8 is always nhwc. SIRA_ONEDNN_LAYOUT=nhwc|blocked
// overrides the choice (for A/B measurements; blocked still needs the block
// to divide every channel count).
dnnl::memory::format_tag activation_layout(const dnnl::engine& engine,
                                           dnnl::memory::data_type type,
                                           const std::vector<int>& channels);

// Channels per block of a blocked tag (8 or 16), 1 for nhwc.
int channel_block(dnnl::memory::format_tag layout);

}  // namespace sira::onednn
