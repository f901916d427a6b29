// Fourier-domain filtering of projections for FBP (private to src/tomo).
#pragma once

#include <cstddef>

#include "sira/tomo/fbp.hpp"

namespace sira::tomo::detail {

// Filters `rows` projections of `width` samples (row r at in + r * width) with
// filter f, zero-padded to padded_length(width), and writes each result times
// `scale` to out + r * out_stride + out_offset. Rows run in parallel (OpenMP);
// FFTW plans are created once per length under a lock and shared.
void filter_projections(const float* in, std::size_t rows, std::size_t width, Filter f, float scale,
                        float* out, std::size_t out_stride, std::size_t out_offset);

}  // namespace sira::tomo::detail
