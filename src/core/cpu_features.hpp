// CPU features sira's run-time kernel choices ask about, probed in one place.
#pragma once

namespace sira {

// ARMv8.2 dot-product instructions (SDOT/UDOT: HWCAP_ASIMDDP); false off aarch64 Linux.
bool cpu_has_arm_dot_product();

}  // namespace sira
