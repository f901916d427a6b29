#include "engine/ref/fp32_conv_kernels.hpp"

#include "core/cpu_features.hpp"
#include "engine/ref/vectorize.hpp"

namespace sira::ref {
namespace {

KernelTable& table() {
  static KernelTable t("fp32 conv", "SIRA_FP32_CONV_KERNEL", [] {
    std::vector<KernelVariant> v;
#if defined(SIRA_REF_X86_VARIANTS)
    const bool v4 = cpu_has_x86_64_v4(), v3 = cpu_has_x86_64_v3();
    v.push_back({int(Fp32ConvKernel::x86_64_v4), "x86-64-v4", v4, v4 ? "" : "this CPU lacks AVX-512 (x86-64-v4)"});
    v.push_back({int(Fp32ConvKernel::x86_64_v3), "x86-64-v3", v3, v3 ? "" : "this CPU lacks AVX2/FMA (x86-64-v3)"});
#else
    v.push_back({int(Fp32ConvKernel::x86_64_v4), "x86-64-v4", false, "not built (x86-64 GCC builds only)"});
    v.push_back({int(Fp32ConvKernel::x86_64_v3), "x86-64-v3", false, "not built (x86-64 GCC builds only)"});
#endif
    v.push_back({int(Fp32ConvKernel::portable), "portable", true, ""});
    return v;
  }());
  return t;
}

}  // namespace

std::span<const KernelVariant> fp32_conv_kernels() { return table().variants(); }
Fp32ConvKernel fp32_conv_kernel() { return Fp32ConvKernel(table().chosen()); }
const char* fp32_conv_kernel_name(Fp32ConvKernel k) { return table().name(int(k)); }
void select_fp32_conv_kernel(Fp32ConvKernel k) { table().force(int(k)); }

}  // namespace sira::ref
