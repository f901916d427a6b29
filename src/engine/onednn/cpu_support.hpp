// What this CPU lets the oneDNN backend run and still match the ref backend.
// oneDNN 2.6 implements bf16 convolution only from AVX-512 (avx512_core) on, and
// its int8 kernels without VNNI multiply u8 x s8 pairs with vpmaddubsw, whose
// int16 pair sum saturates unless the weights have 7 bits (docs/quantization.md).
// Both follow the ISA oneDNN actually uses, so DNNL_MAX_CPU_ISA lowers them too.
#pragma once

#include <string>

#include "sira/model.hpp"
#include "sira/quant_params.hpp"

namespace sira::onednn {

// oneDNN can create a bf16 convolution here (tried once, cached).
bool bf16_convolution_available();
// The ISA oneDNN dispatches to has VNNI (vpdpbusd: exact int32 u8 x s8 sums).
bool has_vnni();
// Empty if the backend can run `model` at `precision`, else why not.
std::string unsupported_reason(const Model& model, LayerPrecision precision);

}  // namespace sira::onednn
