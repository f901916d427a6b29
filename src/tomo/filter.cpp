// FBP filters and their application with FFTW (single precision).
#include "filter.hpp"

#include <fftw3.h>
#include <omp.h>

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <utility>

#include "sira/error.hpp"

namespace sira::tomo {

Filter parse_filter(const std::string& name) {
  if (name == "ramp" || name == "ram-lak") return Filter::ramp;
  if (name == "shepp-logan" || name == "shepp_logan") return Filter::shepp_logan;
  if (name == "cosine") return Filter::cosine;
  if (name == "hann" || name == "hanning") return Filter::hann;
  fail("unknown FBP filter '", name, "' (expected ramp, shepp-logan, cosine or hann)");
}

const char* filter_name(Filter f) {
  switch (f) {
    case Filter::ramp: return "ramp";
    case Filter::shepp_logan: return "shepp-logan";
    case Filter::cosine: return "cosine";
    case Filter::hann: return "hann";
  }
  return "?";
}

std::size_t padded_length(std::size_t width) {
  if (width == 0) fail("padded_length: zero detector width");
  const std::size_t target = 2 * width;
  std::size_t best = 0;
  // Even lengths keep the spatial ramp kernel symmetric; FFTW is fastest on 2^a 3^b 5^c 7^d.
  for (std::size_t p2 = 2; p2 < 2 * target; p2 *= 2)
    for (std::size_t p3 = p2; p3 < 2 * target; p3 *= 3)
      for (std::size_t p5 = p3; p5 < 2 * target; p5 *= 5)
        for (std::size_t p7 = p5; p7 < 2 * target; p7 *= 7)
          if (p7 >= target && (best == 0 || p7 < best)) best = p7;
  return best;
}

namespace {

// One FFTW plan pair per transform length, shared by all threads. Planning is not
// thread-safe in FFTW, executing a plan on other (equally aligned) arrays is.
struct PlanPair {
  fftwf_plan forward = nullptr, inverse = nullptr;
};

class PlanCache {
 public:
  ~PlanCache() {
    for (auto& [n, p] : plans_) {
      fftwf_destroy_plan(p.forward);
      fftwf_destroy_plan(p.inverse);
    }
  }
  PlanPair get(std::size_t n) {
    std::lock_guard lock(mutex_);
    auto it = plans_.find(n);
    if (it != plans_.end()) return it->second;
    float* real = fftwf_alloc_real(n);
    fftwf_complex* spectrum = fftwf_alloc_complex(n / 2 + 1);
    if (!real || !spectrum) fail("FBP filter: cannot allocate FFT buffers of length ", n);
    PlanPair p;
    p.forward = fftwf_plan_dft_r2c_1d(static_cast<int>(n), real, spectrum, FFTW_ESTIMATE);
    p.inverse = fftwf_plan_dft_c2r_1d(static_cast<int>(n), spectrum, real, FFTW_ESTIMATE);
    fftwf_free(real);
    fftwf_free(spectrum);
    if (!p.forward || !p.inverse) fail("FBP filter: FFTW could not plan a transform of length ", n);
    plans_.emplace(n, p);
    return p;
  }

 private:
  std::mutex mutex_;
  std::map<std::size_t, PlanPair> plans_;
};

PlanCache& plan_cache() {
  static PlanCache cache;
  return cache;
}

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
using RealBuffer = std::unique_ptr<float[], FftwFree>;
using ComplexBuffer = std::unique_ptr<fftwf_complex[], FftwFree>;

}  // namespace

std::vector<float> filter_response(Filter f, std::size_t n) {
  if (n < 2 || n % 2 != 0) fail("filter_response: FFT length must be even and >= 2, got ", n);
  // Spatial band-limited ramp: h[0] = 1/4, h[d] = -1 / (pi d)^2 for odd d, 0 for even d
  // (d = circular distance), whose transform is real because h is symmetric.
  RealBuffer h(fftwf_alloc_real(n));
  ComplexBuffer spectrum(fftwf_alloc_complex(n / 2 + 1));
  for (std::size_t m = 0; m < n; ++m) {
    const std::size_t d = std::min(m, n - m);
    h[m] = d == 0 ? 0.25f : d % 2 == 1 ? static_cast<float>(-1.0 / std::pow(std::numbers::pi * d, 2)) : 0.0f;
  }
  const PlanPair plans = plan_cache().get(n);
  fftwf_execute_dft_r2c(plans.forward, h.get(), spectrum.get());
  std::vector<float> response(n / 2 + 1);
  for (std::size_t k = 0; k <= n / 2; ++k) {
    // omega in (0, pi]: k / n cycles per sample times 2 pi.
    const double omega = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
    double window = 1.0;
    switch (f) {
      case Filter::ramp: break;
      case Filter::shepp_logan: window = k == 0 ? 1.0 : std::sin(omega / 2) / (omega / 2); break;
      case Filter::cosine: window = std::cos(omega / 2); break;
      case Filter::hann: window = 0.5 * (1.0 + std::cos(omega)); break;
    }
    response[k] = static_cast<float>(spectrum[k][0] * window);
  }
  return response;
}

namespace detail {

void filter_projections(const float* in, std::size_t rows, std::size_t width, Filter f, float scale,
                        float* out, std::size_t out_stride, std::size_t out_offset) {
  const std::size_t n = padded_length(width);
  std::vector<float> response = filter_response(f, n);
  // Fold the inverse FFT's 1/n and the caller's scale into the response once.
  for (float& r : response) r *= scale / static_cast<float>(n);
  const PlanPair plans = plan_cache().get(n);

#pragma omp parallel if (rows * n > (1u << 16))
  {
    RealBuffer real(fftwf_alloc_real(n));
    ComplexBuffer spectrum(fftwf_alloc_complex(n / 2 + 1));
#pragma omp for schedule(static)
    for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(rows); ++r) {
      const float* src = in + r * width;
      std::copy(src, src + width, real.get());
      std::fill(real.get() + width, real.get() + n, 0.0f);
      fftwf_execute_dft_r2c(plans.forward, real.get(), spectrum.get());
      for (std::size_t k = 0; k <= n / 2; ++k) {
        spectrum[k][0] *= response[k];
        spectrum[k][1] *= response[k];
      }
      fftwf_execute_dft_c2r(plans.inverse, spectrum.get(), real.get());
      std::copy(real.get(), real.get() + width, out + r * out_stride + out_offset);
    }
  }
}

}  // namespace detail
}  // namespace sira::tomo
