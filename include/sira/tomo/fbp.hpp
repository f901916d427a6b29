// Filtered back-projection for parallel-beam sinograms.
// Each projection is zero-padded to at least twice the detector width (the next
// FFTW-fast size), filtered in Fourier space (FFTW plans made once per size), and
// back-projected with linear interpolation (BackprojectionAccumulator,
// sira/tomo/backprojection.hpp, which sira serve also feeds projection by
// projection). Scaled so that fbp(project(phantom)) reproduces the phantom's
// values: the back-projected sums times the weight pi / n_angles for a 180- or
// 360-degree scan (min(arc, pi) / n_angles in general). Slices run in parallel.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

enum class Filter { ramp, shepp_logan, cosine, hann };

Filter parse_filter(const std::string& name);  // "ramp" | "shepp-logan" | "cosine" | "hann"
const char* filter_name(Filter f);

// Zero-padded projection length used for a detector of `width` columns:
// the smallest 2^a 3^b 5^c 7^d >= 2 * width.
std::size_t padded_length(std::size_t width);

// Real frequency response of the filter for FFT length n (n / 2 + 1 values,
// bins 0..n/2), ~ |frequency| in cycles per sample (0.5 at Nyquist) times the window.
// The ramp is the transform of the band-limited spatial ramp (Kak & Slaney eq. 61), so
// it is not zero at DC and avoids the offset a sampled |f| gives. Shepp-Logan
// multiplies by sinc, cosine by cos(pi f), hann by (1 + cos(2 pi f)) / 2.
std::vector<float> filter_response(Filter f, std::size_t n);

struct FbpOptions {
  Filter filter = Filter::ramp;
  std::size_t size = 0;      // output slices are size x size; 0 = detector width
  bool circle_mask = false;  // zero pixels outside the reconstruction circle
};

// depth x size x size slices from depth sinograms. Throws on bad input
// (check_sinograms, check_center).
Stack fbp(const Sinograms& sinograms, const FbpOptions& options = {});

// Back-projection of already filtered sinograms with linear interpolation and the
// FBP angular weight; fbp() = filter + this. Exposed for tests and benchmarks.
Stack backproject_linear(const Sinograms& filtered, std::size_t size, bool circle_mask);

// True if pixel (i, j) of a size x size slice lies inside the reconstruction circle.
bool inside_circle(std::size_t i, std::size_t j, std::size_t size);

}  // namespace sira::tomo
