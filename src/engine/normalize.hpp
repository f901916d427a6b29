// Intensity normalisation around the network (model.hpp, Normalization):
//   x_net = (x - offset) * scale,   y = y_net / scale + offset.
#pragma once

#include <cstddef>
#include <vector>

#include "sira/model.hpp"

namespace sira {

struct IntensityMap {
  double offset = 0.0;
  double scale = 1.0;
};

// The q-th percentile (0..100) of n values, linearly interpolated between the
// closest ranks like numpy.percentile's default.
double percentile(const float* values, std::size_t n, double q);
// Several percentiles at once, in two passes over the values.
std::vector<double> percentiles(const float* values, std::size_t n, const std::vector<double>& qs);

// The map for one h x w image: the model's stored offset/scale ("fixed"), or
// the image's [low, high] percentile range mapped to [0, 1] ("per_image"; a
// constant image keeps scale 1 so it is shifted, not blown up). With
// norm.block > 1 the percentiles are those of the means of the image's whole
// block x block tiles (the block shrinks to fit an image smaller than it).
IntensityMap intensity_map(const Normalization& norm, const float* image, std::size_t h, std::size_t w);

// Means of the whole b x b tiles of an h x w image, row-major ((h / b) x (w / b) values).
std::vector<float> block_means(const float* image, std::size_t h, std::size_t w, std::size_t b);

void normalize(const float* in, std::size_t n, IntensityMap map, float* out);
void denormalize(float* values, std::size_t n, IntensityMap map);

}  // namespace sira
