// CPU features sira's run-time kernel choices ask about, probed in one place.
#pragma once

namespace sira {

// ARMv8.2 dot-product instructions (SDOT/UDOT: HWCAP_ASIMDDP); false off aarch64 Linux.
bool cpu_has_arm_dot_product();

// The x86-64 micro-architecture levels GCC compiles for with target("arch=..."):
// v3 = AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE (Haswell, Zen 1-3); v4 = v3 + AVX-512
// F/BW/CD/DQ/VL (Skylake-X, Ice Lake, Zen 4). Both with the OS saving the
// registers. False off x86-64 and in builds whose compiler cannot ask (clang 14).
bool cpu_has_x86_64_v3();
bool cpu_has_x86_64_v4();

}  // namespace sira
