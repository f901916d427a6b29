// Image quality metrics with an explicit data range.
#pragma once

#include <cstddef>

namespace sira {

// Peak signal-to-noise ratio in dB: 10 log10(range^2 / MSE); +inf if equal.
double psnr(const float* image, const float* reference, std::size_t n, double data_range);

// Mean structural similarity, defined as scikit-image's
// structural_similarity(image, reference, data_range=R, gaussian_weights=True,
// sigma=1.5, use_sample_covariance=False): Gaussian window truncated at 3.5
// sigma, reflect boundary, K1=0.01, K2=0.03, mean over the interior that
// excludes (win-1)/2 pixels at each border.
double ssim(const float* image, const float* reference, std::size_t height, std::size_t width,
            double data_range);

}  // namespace sira
