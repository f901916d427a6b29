// The int8 convolution kernels a build contains, and which one runs (a
// KernelTable: kernel_table.hpp): the portable int32 kernel (int8_conv2d.cpp,
// the specification) compiled for x86-64-v4, x86-64-v3 and the baseline, and
// ISA-specific twins in their own translation units. Every kernel is
// bit-identical to the portable one; each can be forced (SIRA_INT8_CONV_KERNEL=
// NAME in the environment, or select_int8_conv_kernel in tests) so that every
// variant a build holds is tested on a CPU that has it.
#pragma once

#include <span>

#include "engine/ref/kernel_table.hpp"

namespace sira::ref {

enum class Int8ConvKernel {
  portable,         // int32 vectors (GCC vector extensions) for the baseline ISA: any CPU
  aarch64_dotprod,  // ARMv8.2 SDOT (Cortex-A55/A76/A78, Neoverse, Apple): 16 MACs per instruction
  x86_64_v4,        // the portable kernel compiled for AVX-512 (x86-64-v4)
  x86_64_v3,        // the portable kernel compiled for AVX2 (x86-64-v3)
};

// Every kernel this build knows, in order of preference.
std::span<const KernelVariant> int8_conv_kernels();

// The kernel conv2d_int8 runs: SIRA_INT8_CONV_KERNEL if set (an unknown or
// unavailable name is an error naming the choices), else the first available.
Int8ConvKernel int8_conv_kernel();
const char* int8_conv_kernel_name(Int8ConvKernel k);

// Forces a kernel for this process (tests); throws if it is not available.
void select_int8_conv_kernel(Int8ConvKernel k);

}  // namespace sira::ref
