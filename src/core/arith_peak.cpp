// Peak multiply-accumulate rate per core. Each kernel is an inline-asm loop of
// 12 independent accumulator chains (2 pipes x latency 4-5 needs >= 10 in
// flight), so it runs at the issue rate, not the latency. Inputs are zero (no
// denormal slow paths); the results are discarded, which asm cannot optimise
// away. Only registers 0-15 are used so the clobbers hold on AVX2-only CPUs.
#include "core/arith_peak.hpp"
#include "core/cpu_features.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "sira/error.hpp"

namespace sira {
namespace {

using Kernel = void (*)(std::int64_t iterations);

struct KernelChoice {
  const char* instruction = "";
  double macs_per_iteration = 0;
  Kernel kernel = nullptr;
  const char* missing = "";  // why there is none, when kernel is null
};

#if defined(__x86_64__)
#include <cpuid.h>

#define SIRA_REP12(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11)
#define SIRA_REP6(m) m(0, 6) m(1, 7) m(2, 8) m(3, 9) m(4, 10) m(5, 11)
#define SIRA_CLOBBERS                                                                          \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",      \
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"
#define SIRA_ZERO_Y(i) "vpxor %%xmm" #i ", %%xmm" #i ", %%xmm" #i "\n\t"  // VEX: zeroes the ymm too
#define SIRA_LOOP_END "sub $1, %0\n\tjnz 1b\n\tvzeroupper\n\t"

// fp32: 12 x vfmadd231ps = 12 x (8 | 16) MACs.
#define SIRA_FMA_Y(i) "vfmadd231ps %%ymm15, %%ymm14, %%ymm" #i "\n\t"
#define SIRA_FMA_Z(i) "vfmadd231ps %%zmm15, %%zmm14, %%zmm" #i "\n\t"
__attribute__((target("avx2,fma"))) void fma_ymm(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_Y) SIRA_ZERO_Y(14) SIRA_ZERO_Y(15) "1:\n\t" SIRA_REP12(SIRA_FMA_Y)
                   SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}
__attribute__((target("avx512f"))) void fma_zmm(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_Y) SIRA_ZERO_Y(14) SIRA_ZERO_Y(15) "1:\n\t" SIRA_REP12(SIRA_FMA_Z)
                   SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

// int8: vpdpbusd (u8 x s8, 4 products summed into each s32 lane) = 32 | 64 MACs.
#define SIRA_VNNI_Y(i) "%{vex%} vpdpbusd %%ymm15, %%ymm14, %%ymm" #i "\n\t"
#define SIRA_VNNI_Z(i) "vpdpbusd %%zmm15, %%zmm14, %%zmm" #i "\n\t"
__attribute__((target("avx2"))) void vnni_ymm(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_Y) SIRA_ZERO_Y(14) SIRA_ZERO_Y(15) "1:\n\t" SIRA_REP12(SIRA_VNNI_Y)
                   SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}
__attribute__((target("avx512f"))) void vnni_zmm(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_Y) SIRA_ZERO_Y(14) SIRA_ZERO_Y(15) "1:\n\t" SIRA_REP12(SIRA_VNNI_Z)
                   SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

// int8 without VNNI (what oneDNN's AVX2 int8 convolutions do): u8 x s8 pairs
// summed to s16 (vpmaddubsw), pairs of s16 x 1 summed to s32 (vpmaddwd), then
// accumulated (vpaddd): 32 MACs per group of three, 6 groups per iteration.
#define SIRA_MADDUBS(t, a) "vpmaddubsw %%ymm14, %%ymm13, %%ymm" #t "\n\t"
#define SIRA_MADDWD(t, a) "vpmaddwd %%ymm12, %%ymm" #t ", %%ymm" #t "\n\t"
#define SIRA_PADDD(t, a) "vpaddd %%ymm" #t ", %%ymm" #a ", %%ymm" #a "\n\t"
__attribute__((target("avx2"))) void maddubs_ymm(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_Y) SIRA_ZERO_Y(12) SIRA_ZERO_Y(13) SIRA_ZERO_Y(14) "1:\n\t"
                   SIRA_REP6(SIRA_MADDUBS) SIRA_REP6(SIRA_MADDWD) SIRA_REP6(SIRA_PADDD) SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

// bf16: vdpbf16ps zmm, pairs of bf16 products summed into 16 fp32 lanes = 32 MACs.
#define SIRA_BF16_Z(i) "vdpbf16ps %%zmm15, %%zmm14, %%zmm" #i "\n\t"
__attribute__((target("avx512f"))) void bf16_zmm(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_Y) SIRA_ZERO_Y(14) SIRA_ZERO_Y(15) "1:\n\t" SIRA_REP12(SIRA_BF16_Z)
                   SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

// CPUID leaf 7 sub-leaf 1, EAX: bit 4 AVX-VNNI, bit 5 AVX512_BF16. Read directly:
// clang 14's __builtin_cpu_supports knows neither name (gcc 12 knows both).
bool cpuid_7_1_eax(int bit) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a >> bit) & 1u;
}

KernelChoice choose(const std::string& precision, int max_vector_bits) {
  __builtin_cpu_init();
  const bool zmm = max_vector_bits >= 512;
  if (precision == "fp32") {
    if (zmm && __builtin_cpu_supports("avx512f")) return {"vfmadd231ps zmm", 12 * 16, fma_zmm, ""};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return {"vfmadd231ps ymm", 12 * 8, fma_ymm, ""};
    return {"", 0, nullptr, "not available (no FMA: this CPU lacks AVX2+FMA)"};
  }
  if (precision == "int8") {
    if (zmm && __builtin_cpu_supports("avx512vnni")) return {"vpdpbusd zmm (AVX512_VNNI)", 12 * 64, vnni_zmm, ""};
    // AVX2 present means the OS saves the ymm state the AVX-VNNI kernel uses.
    if (__builtin_cpu_supports("avx2") && cpuid_7_1_eax(4)) return {"vpdpbusd ymm (AVX_VNNI)", 12 * 32, vnni_ymm, ""};
    if (__builtin_cpu_supports("avx2"))
      return {"vpmaddubsw+vpmaddwd+vpaddd ymm (AVX2, no VNNI)", 6 * 32, maddubs_ymm, ""};
    return {"", 0, nullptr, "not available (no AVX2 or VNNI)"};
  }
  if (precision == "bf16") {
    if (zmm && __builtin_cpu_supports("avx512f") && cpuid_7_1_eax(5))
      return {"vdpbf16ps zmm (AVX512_BF16)", 12 * 32, bf16_zmm, ""};
    return {"", 0, nullptr, "not available (no AVX512_BF16: no VDPBF16PS on this CPU)"};
  }
  fail("arithmetic peak: unknown precision '", precision, "' (expected fp32, bf16 or int8)");
}

#elif defined(__aarch64__) && defined(__linux__)

// Registers v0-v11 accumulate, v14/v15 are the (zero) operands.
#define SIRA_REP12(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11)
#define SIRA_ZERO_V(i) "movi v" #i ".16b, #0\n\t"
#define SIRA_LOOP_END "subs %0, %0, #1\n\tb.ne 1b\n\t"
#define SIRA_CLOBBERS "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v14", "v15", "cc"

// fp32: 12 x fmla .4s = 12 x 4 MACs (NEON is in every ARMv8-A CPU).
#define SIRA_FMLA(i) "fmla v" #i ".4s, v14.4s, v15.4s\n\t"
void fmla_q(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_V) SIRA_ZERO_V(14) SIRA_ZERO_V(15) "1:\n\t" SIRA_REP12(SIRA_FMLA) SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

// int8: sdot .4s (4 int8 products summed into each int32 lane) = 12 x 16 MACs.
#define SIRA_SDOT(i) "sdot v" #i ".4s, v14.16b, v15.16b\n\t"
__attribute__((target("arch=armv8.2-a+dotprod"))) void sdot_q(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_V) SIRA_ZERO_V(14) SIRA_ZERO_V(15) "1:\n\t" SIRA_REP12(SIRA_SDOT) SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

// int8 without the dot product (what the portable int8 kernel runs): int32 mla .4s.
#define SIRA_MLA(i) "mla v" #i ".4s, v14.4s, v15.4s\n\t"
void mla_q(std::int64_t n) {
  asm volatile(SIRA_REP12(SIRA_ZERO_V) SIRA_ZERO_V(14) SIRA_ZERO_V(15) "1:\n\t" SIRA_REP12(SIRA_MLA) SIRA_LOOP_END
               : "+r"(n)::SIRA_CLOBBERS);
}

KernelChoice choose(const std::string& precision, int /*max_vector_bits: NEON is 128*/) {
  if (precision == "fp32") return {"fmla .4s (NEON)", 12 * 4, fmla_q, ""};
  if (precision == "int8") {
    if (cpu_has_arm_dot_product()) return {"sdot .4s (ARMv8.2 dot product)", 12 * 16, sdot_q, ""};
    return {"mla .4s int32 (NEON, no dot product)", 12 * 4, mla_q, ""};
  }
  if (precision == "bf16") return {"", 0, nullptr, "not available (no bf16 peak kernel for ARM: bf16 is emulated there)"};
  fail("arithmetic peak: unknown precision '", precision, "' (expected fp32, bf16 or int8)");
}

#else  // neither x86-64 nor aarch64 Linux: no kernels yet

KernelChoice choose(const std::string& precision, int /*max_vector_bits*/) {
  if (precision != "fp32" && precision != "bf16" && precision != "int8")
    fail("arithmetic peak: unknown precision '", precision, "' (expected fp32, bf16 or int8)");
  return {"", 0, nullptr, "not available (peak kernels exist for x86-64 and aarch64 only)"};
}

#endif

double seconds_for(Kernel kernel, std::int64_t iterations) {
  const auto start = std::chrono::steady_clock::now();
  kernel(iterations);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const std::vector<std::string>& arith_peak_precisions() {
  static const std::vector<std::string> names{"fp32", "bf16", "int8"};
  return names;
}

ArithPeak measure_arith_peak(const std::string& precision, double seconds, int max_vector_bits) {
  const KernelChoice k = choose(precision, max_vector_bits);
  ArithPeak peak;
  peak.precision = precision;
  if (!k.kernel) {
    peak.instruction = k.missing;
    return peak;
  }
  peak.available = true;
  peak.instruction = k.instruction;
  // Short repetitions (~2 ms) for the whole budget, keeping the fastest: on a
  // shared core a short repetition often runs undisturbed within a time slice.
  std::int64_t n = 1 << 10;
  double t = seconds_for(k.kernel, n);
  while (t < 2e-4) {
    n *= 4;
    t = seconds_for(k.kernel, n);
  }
  n = std::max<std::int64_t>(1, std::int64_t(double(n) * 2e-3 / t));
  double best = 0, spent = 0;
  for (int rep = 0; rep < 10 || spent < seconds; ++rep) {
    const double s = seconds_for(k.kernel, n);
    spent += s;
    best = std::max(best, double(n) * k.macs_per_iteration / s);
  }
  peak.macs_per_second = best;
  return peak;
}

}  // namespace sira
