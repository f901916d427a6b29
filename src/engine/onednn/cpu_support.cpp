#include "engine/onednn/cpu_support.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include "sira/error.hpp"

namespace sira::onednn {

using dnnl::memory;

bool bf16_convolution_available() {
  static const bool available = [] {
    try {
      const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
      const memory::desc act({1, 16, 8, 8}, memory::data_type::bf16, memory::format_tag::nhwc);
      const dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, act,
          memory::desc({16, 16, 3, 3}, memory::data_type::bf16, memory::format_tag::any),
          memory::desc({16}, memory::data_type::f32, memory::format_tag::x), act, {1, 1}, {1, 1},
          {1, 1});
      dnnl::convolution_forward::primitive_desc pd(desc, engine);
      return true;
    } catch (const dnnl::error&) {
      return false;  // "could not create a primitive descriptor iterator": unimplemented
    }
  }();
  return available;
}

bool has_vnni() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  // The ISA values are feature masks; both VNNI flavours carry their own bit.
  return (isa & static_cast<unsigned>(dnnl::cpu_isa::avx512_core_vnni) & ~static_cast<unsigned>(dnnl::cpu_isa::avx512_core)) ||
         (isa & static_cast<unsigned>(dnnl::cpu_isa::avx2_vnni) & ~static_cast<unsigned>(dnnl::cpu_isa::avx2));
}

std::string unsupported_reason(const Model& model, LayerPrecision precision) {
  switch (precision) {
    case LayerPrecision::fp32: return {};
    case LayerPrecision::bf16:
      if (bf16_convolution_available()) return {};
      return "oneDNN 2.6 has no bf16 convolution for this CPU (it needs AVX-512, avx512_core; "
             "native bf16 from avx512_core_bf16); the ref backend emulates bf16 exactly";
    case LayerPrecision::int8: {
      if (!model.quant) return "int8 needs a quantised model (sira quantize)";
      for (const auto& [name, layer] : model.quant->layers)
        if (layer.precision != LayerPrecision::int8)
          return cat("layer '", name, "' is ", precision_name(layer.precision),
                     " (mixed precision); the oneDNN backend runs all-int8 models only");
      if (model.quant->weight_bits == 8 && !has_vnni())
        return "this CPU has no VNNI, where oneDNN's int8 kernels saturate int16 pair sums of "
               "8-bit weights (docs/quantization.md); quantise with --weight-bits 7 for oneDNN";
      return {};
    }
  }
  return "unknown precision";
}

}  // namespace sira::onednn
