// Helpers that let the reference kernels use the CPU's widest vectors without
// assuming them at build time: on x86-64 with GCC/Clang, SIRA_REF_CLONES
// compiles a function for AVX-512, AVX2+FMA and the baseline and picks one at
// load time; elsewhere it compiles the portable version only.
#pragma once

#include <cstring>

// The vector helpers are inlined into each clone; the baseline ABI note for
// 64-byte vectors does not apply to them.
#pragma GCC diagnostic ignored "-Wpsabi"

// Not under ASan or TSan: the ifunc resolver runs before the sanitizer's runtime
// is set up, and an instrumented one crashes at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define SIRA_REF_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SIRA_REF_CLONES
#endif

namespace sira::ref {

// 16 floats as one GCC/Clang vector: one AVX-512 register, two AVX2 or four
// SSE registers, depending on the clone being compiled.
using Vec16 = float __attribute__((vector_size(64)));

inline Vec16 load16(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

inline void store16(float* p, Vec16 v) { std::memcpy(p, &v, sizeof v); }

}  // namespace sira::ref
