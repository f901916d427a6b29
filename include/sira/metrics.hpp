// Image quality metrics with an explicit data range (docs/metrics.md gives the
// exact definitions and their scikit-image equivalents).
#pragma once

#include <cstddef>
#include <vector>

#include "sira/stack.hpp"

namespace sira {

// Peak signal-to-noise ratio in dB: 10 log10(range^2 / MSE); +inf if equal.
// Same as skimage.metrics.peak_signal_noise_ratio(reference, image, data_range=R).
double psnr(const float* image, const float* reference, std::size_t n, double data_range);

// Side of the SSIM window: a Gaussian (sigma 1.5) truncated at 3.5 sigma has
// radius int(3.5 * 1.5 + 0.5) = 5, so 11 taps. SSIM needs images at least this
// large in both directions (scikit-image raises for smaller ones, sira throws).
inline constexpr double kSsimSigma = 1.5;
inline constexpr std::size_t kSsimRadius = 5;
inline constexpr std::size_t kSsimWindow = 2 * kSsimRadius + 1;

// Mean structural similarity, defined as scikit-image's
// structural_similarity(image, reference, data_range=R, gaussian_weights=True,
// sigma=1.5, use_sample_covariance=False): Gaussian window truncated at 3.5
// sigma, reflect boundary, K1=0.01, K2=0.03, mean over the interior that
// excludes (win-1)/2 pixels at each border. Computed in double precision.
double ssim(const float* image, const float* reference, std::size_t height, std::size_t width,
            double data_range);

// The full height x width SSIM map (skimage's `S` with full=True), row-major;
// the border strip of kSsimRadius pixels is included (ssim() leaves it out).
std::vector<double> ssim_map(const float* image, const float* reference, std::size_t height,
                             std::size_t width, double data_range);

// Quality of one image against its reference.
struct QualityScores {
  double ssim = 0.0;
  double psnr = 0.0;  // +inf for identical images
};

// Scores of every slice of `image` against the same slice of `reference`.
// Throws if the shapes differ, a sample is NaN/Inf or data_range is not > 0.
std::vector<QualityScores> score_slices(const Stack& image, const Stack& reference,
                                        double data_range);

// max - min over all samples of the stack (the default SSIM/PSNR data range
// when computed on the reference).
double value_range(const Stack& s);

}  // namespace sira
