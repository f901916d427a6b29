// The fp32 convolution kernels a build contains, and which one runs (a
// KernelTable: kernel_table.hpp): the register-blocked kernel of conv2d.cpp
// compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline
// (SSE2 on x86-64, NEON on aarch64). The FMA variants round alike; the baseline
// has no FMA and differs from them by rounding only. SIRA_FP32_CONV_KERNEL=NAME
// forces one, select_fp32_conv_kernel does in tests.
#pragma once

#include <span>

#include "engine/ref/kernel_table.hpp"

namespace sira::ref {

enum class Fp32ConvKernel { portable, x86_64_v4, x86_64_v3 };

// Every kernel this build knows, in order of preference.
std::span<const KernelVariant> fp32_conv_kernels();
// The kernel conv2d runs: SIRA_FP32_CONV_KERNEL if set, else the first available.
Fp32ConvKernel fp32_conv_kernel();
const char* fp32_conv_kernel_name(Fp32ConvKernel k);
// Forces a kernel for this process (tests); throws if it is not available.
void select_fp32_conv_kernel(Fp32ConvKernel k);

}  // namespace sira::ref
