#include "core/cpu_features.hpp"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace sira {

bool cpu_has_arm_dot_product() {
#if defined(__aarch64__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return false;
#endif
}

// GCC's cpu model checks XGETBV as well as CPUID, so "available" includes the OS.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
bool cpu_has_x86_64_v3() { return __builtin_cpu_supports("x86-64-v3"); }
bool cpu_has_x86_64_v4() { return __builtin_cpu_supports("x86-64-v4"); }
#else
bool cpu_has_x86_64_v3() { return false; }
bool cpu_has_x86_64_v4() { return false; }
#endif

}  // namespace sira
