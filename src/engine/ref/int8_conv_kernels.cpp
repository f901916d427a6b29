#include "engine/ref/int8_conv_kernels.hpp"

#include "core/cpu_features.hpp"
#include "engine/ref/vectorize.hpp"

namespace sira::ref {
namespace {

KernelVariant variant(Int8ConvKernel k, const char* name, bool available, std::string why_not) {
  return {int(k), name, available, available ? "" : std::move(why_not)};
}

KernelTable& table() {
  static KernelTable t("int8 conv", "SIRA_INT8_CONV_KERNEL", [] {
    std::vector<KernelVariant> v;
#if defined(SIRA_HAVE_AARCH64_DOTPROD)
    v.push_back(variant(Int8ConvKernel::aarch64_dotprod, "aarch64-dotprod", cpu_has_arm_dot_product(),
                        "this CPU has no dot-product instructions (ARMv8.2 asimddp)"));
#else
    v.push_back(variant(Int8ConvKernel::aarch64_dotprod, "aarch64-dotprod", false, "not built (aarch64 builds only)"));
#endif
#if defined(SIRA_REF_X86_VARIANTS)
    v.push_back(variant(Int8ConvKernel::x86_64_v4, "x86-64-v4", cpu_has_x86_64_v4(), "this CPU lacks AVX-512 (x86-64-v4)"));
    v.push_back(variant(Int8ConvKernel::x86_64_v3, "x86-64-v3", cpu_has_x86_64_v3(), "this CPU lacks AVX2/FMA (x86-64-v3)"));
#else
    v.push_back(variant(Int8ConvKernel::x86_64_v4, "x86-64-v4", false, "not built (x86-64 GCC builds only)"));
    v.push_back(variant(Int8ConvKernel::x86_64_v3, "x86-64-v3", false, "not built (x86-64 GCC builds only)"));
#endif
    v.push_back(variant(Int8ConvKernel::portable, "portable", true, ""));
    return v;
  }());
  return t;
}

}  // namespace

std::span<const KernelVariant> int8_conv_kernels() { return table().variants(); }
Int8ConvKernel int8_conv_kernel() { return Int8ConvKernel(table().chosen()); }
const char* int8_conv_kernel_name(Int8ConvKernel k) { return table().name(int(k)); }
void select_int8_conv_kernel(Int8ConvKernel k) { table().force(int(k)); }

}  // namespace sira::ref
