// Helpers that let the reference kernels use the CPU's widest vectors without
// assuming them at build time. On x86-64 with GCC (SIRA_REF_X86_VARIANTS) a
// kernel's always-inline body is compiled three times, as functions carrying
// target("arch=x86-64-v4") (AVX-512), target("arch=x86-64-v3") (AVX2 + FMA) and
// none (the baseline), and a dispatch table picks one at run time
// (kernel_table.hpp): unlike target_clones' ifunc, each variant can be forced
// and tested, and it works under the sanitizers. Elsewhere only the portable
// version is compiled (on aarch64 it is NEON, the baseline there).
#pragma once

#include <cstddef>

// The vector helpers are inlined into each variant; the baseline ABI note for
// 64-byte vectors does not apply to them.
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIRA_REF_X86_VARIANTS 1
#endif

namespace sira::ref {

// GCC/Clang vectors of one register each on the ISA that suits them: 16 lanes
// for AVX-512, 8 for AVX2, 4 for SSE2 and NEON (a wider type on a narrower ISA
// is split into several registers by the compiler).
using Vec16 = float __attribute__((vector_size(64)));
using Vec8 = float __attribute__((vector_size(32)));
using Vec4 = float __attribute__((vector_size(16)));
using Vec16i = int __attribute__((vector_size(64)));
using Vec8i = int __attribute__((vector_size(32)));
using Vec4i = int __attribute__((vector_size(16)));

// Output channels the portable variant accumulates at a time (row_conv.hpp):
// its accumulators must fit the register file with room for the operands,
// 8 x 2 four-lane vectors in NEON's 32 registers, 4 x 2 in SSE2's 16.
#if defined(__aarch64__)
inline constexpr std::size_t kPortableRows = 8;
#else
inline constexpr std::size_t kPortableRows = 4;
#endif

}  // namespace sira::ref
