#include "projector_kernels.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12 warns about the deliberately undefined lanes inside its own AVX-512 headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#define SIRA_TOMO_AVX512 1
#endif

namespace sira::tomo::detail {

namespace {

void lerp_accumulate_portable(float* acc, const float* row, float start, float step, float lo, float hi,
                              std::ptrdiff_t n) {
  for (std::ptrdiff_t j = 0; j < n; ++j) {
    const float p = std::clamp(start + static_cast<float>(j) * step, lo, hi);
    const int i = static_cast<int>(p);
    const float f = p - static_cast<float>(i);
    const float a = row[i], b = row[i + 1];
    acc[j] += a + f * (b - a);
  }
}

void lerp_gather_portable(float* out, const float* ray, float alpha, float beta, float inv_beta, float width,
                          std::ptrdiff_t n) {
  for (std::ptrdiff_t m = 0; m < n; ++m) {
    const float fm = static_cast<float>(m);
    const float um = std::clamp((fm - alpha) * inv_beta, -1.0f, width);
    const int i = static_cast<int>(um + 1.0f);
    const float u0 = static_cast<float>(i - 1);
    const float w0 = std::max(0.0f, 1.0f - std::abs(alpha + beta * u0 - fm));
    const float w1 = std::max(0.0f, 1.0f - std::abs(alpha + beta * (u0 + 1.0f) - fm));
    out[m] += w0 * ray[i] + w1 * ray[i + 1];
  }
}

#ifdef SIRA_TOMO_AVX512

__attribute__((target("avx512f"))) inline __m512 lane_index() {
  return _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

// row[i] and row[i + 1] for 16 indices within [base, base + 30], via one 32-float window.
__attribute__((target("avx512f"))) inline void window_pair(const float* row, __m512i i, __m512& a, __m512& b) {
  const int base = _mm512_reduce_min_epi32(i);
  const __m512 w0 = _mm512_loadu_ps(row + base), w1 = _mm512_loadu_ps(row + base + 16);
  const __m512i k = _mm512_sub_epi32(i, _mm512_set1_epi32(base));
  a = _mm512_permutex2var_ps(w0, k, w1);
  b = _mm512_permutex2var_ps(w0, _mm512_add_epi32(k, _mm512_set1_epi32(1)), w1);
}

__attribute__((target("avx512f"))) void lerp_accumulate_avx512(float* acc, const float* row, float start,
                                                                 float step, float lo, float hi,
                                                                 std::ptrdiff_t n) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi), vstep = _mm512_set1_ps(step);
  std::ptrdiff_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 jj = _mm512_add_ps(_mm512_set1_ps(static_cast<float>(j)), lane_index());
    const __m512 p = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(_mm512_set1_ps(start), _mm512_mul_ps(jj, vstep)), vlo), vhi);
    const __m512i i = _mm512_cvttps_epi32(p);
    const __m512 f = _mm512_sub_ps(p, _mm512_cvtepi32_ps(i));
    __m512 a, b;
    window_pair(row, i, a, b);
    const __m512 v = _mm512_fmadd_ps(f, _mm512_sub_ps(b, a), a);
    _mm512_storeu_ps(acc + j, _mm512_add_ps(_mm512_loadu_ps(acc + j), v));
  }
  if (j < n) {
    // The tail: same arithmetic on the remaining lanes (the window stays in the slack).
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - j)) - 1u);
    const __m512 jj = _mm512_add_ps(_mm512_set1_ps(static_cast<float>(j)), lane_index());
    __m512 p = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(_mm512_set1_ps(start), _mm512_mul_ps(jj, vstep)), vlo), vhi);
    // Inactive lanes repeat the first position so they do not widen the window.
    p = _mm512_mask_blend_ps(mask, _mm512_set1_ps(std::clamp(start + static_cast<float>(j) * step, lo, hi)), p);
    const __m512i i = _mm512_cvttps_epi32(p);
    const __m512 f = _mm512_sub_ps(p, _mm512_cvtepi32_ps(i));
    __m512 a, b;
    window_pair(row, i, a, b);
    const __m512 v = _mm512_fmadd_ps(f, _mm512_sub_ps(b, a), a);
    _mm512_mask_storeu_ps(acc + j, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, acc + j), v));
  }
}

__attribute__((target("avx512f"))) void lerp_gather_avx512(float* out, const float* ray, float alpha, float beta,
                                                             float inv_beta, float width, std::ptrdiff_t n) {
  const __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta), vinv = _mm512_set1_ps(inv_beta);
  const __m512 lo = _mm512_set1_ps(-1.0f), hi = _mm512_set1_ps(width), one = _mm512_set1_ps(1.0f);
  const __m512 zero = _mm512_setzero_ps();
  std::ptrdiff_t m = 0;
  for (; m < n; m += 16) {
    const __mmask16 mask = n - m >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - m)) - 1u);
    const __m512 fm = _mm512_add_ps(_mm512_set1_ps(static_cast<float>(m)), lane_index());
    __m512 um = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_sub_ps(fm, valpha), vinv), lo), hi);
    const __m512 first = _mm512_permutexvar_ps(_mm512_setzero_si512(), um);
    um = _mm512_mask_blend_ps(mask, first, um);
    const __m512i i = _mm512_cvttps_epi32(_mm512_add_ps(um, one));
    const __m512 u0 = _mm512_sub_ps(_mm512_cvtepi32_ps(i), one);
    const __m512 d0 = _mm512_sub_ps(_mm512_add_ps(valpha, _mm512_mul_ps(vbeta, u0)), fm);
    const __m512 d1 = _mm512_sub_ps(_mm512_add_ps(valpha, _mm512_mul_ps(vbeta, _mm512_add_ps(u0, one))), fm);
    const __m512 w0 = _mm512_max_ps(zero, _mm512_sub_ps(one, _mm512_abs_ps(d0)));
    const __m512 w1 = _mm512_max_ps(zero, _mm512_sub_ps(one, _mm512_abs_ps(d1)));
    __m512 a, b;
    window_pair(ray, i, a, b);
    const __m512 v = _mm512_fmadd_ps(w0, a, _mm512_mul_ps(w1, b));
    _mm512_mask_storeu_ps(out + m, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out + m), v));
  }
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

#endif

}  // namespace

void lerp_accumulate(float* acc, const float* row, float start, float step, float lo, float hi, std::ptrdiff_t n) {
#ifdef SIRA_TOMO_AVX512
  if (has_avx512() && std::abs(step) <= 1.45f) return lerp_accumulate_avx512(acc, row, start, step, lo, hi, n);
#endif
  lerp_accumulate_portable(acc, row, start, step, lo, hi, n);
}

void lerp_gather(float* out, const float* ray, float alpha, float beta, float inv_beta, float width,
                 std::ptrdiff_t n) {
#ifdef SIRA_TOMO_AVX512
  if (has_avx512() && std::abs(inv_beta) <= 1.0f) return lerp_gather_avx512(out, ray, alpha, beta, inv_beta, width, n);
#endif
  lerp_gather_portable(out, ray, alpha, beta, inv_beta, width, n);
}

}  // namespace sira::tomo::detail
