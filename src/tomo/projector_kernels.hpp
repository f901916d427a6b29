// Inner loops shared by the projector, its adjoint and FBP back-projection: linear
// interpolation at positions advancing by a constant step. Each has a portable
// version and an AVX-512 one picked at run time. The AVX-512 loops load a 32-sample
// window and permute within it instead of gathering (gathers are slow on many
// CPUs), which needs |step| <= 1.45 and 32 readable samples past the last position
// used: callers keep kKernelSlack floats of slack at the end of their buffers.
#pragma once

#include <cstddef>

namespace sira::tomo::detail {

inline constexpr std::size_t kKernelSlack = 40;

// acc[j] += row[i] + (p - i) (row[i + 1] - row[i]), p = clamp(start + j step, lo, hi),
// i = floor(p), for j in [0, n). Requires 0 <= lo, hi + 1 inside the row.
void lerp_accumulate(float* acc, const float* row, float start, float step, float lo, float hi,
                     std::ptrdiff_t n);

// The transpose of lerp_accumulate along one Joseph line: for m in [0, n),
// um = clamp((m - alpha) * inv_beta, -1, width), i = floor(um) + 1, and
// out[m] += sum over u in {i - 1, i} of max(0, 1 - |alpha + beta u - m|) * ray[u + 1].
void lerp_gather(float* out, const float* ray, float alpha, float beta, float inv_beta, float width,
                 std::ptrdiff_t n);

}  // namespace sira::tomo::detail
