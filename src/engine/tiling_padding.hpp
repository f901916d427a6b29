// Reflect padding to the network's multiple. The padding goes on the bottom and
// right only, so the image keeps its origin and cropping back is taking the
// top-left h x w; it mirrors without repeating the edge sample, exactly like
// PyTorch F.pad(x, (0, pad_w, 0, pad_h), mode='reflect').
#pragma once

#include <cstddef>

namespace sira {

// Pads each of `channels` planes from h x w to padded_h x padded_w (each pad
// must be smaller than the image edge it mirrors).
void reflect_pad(const float* in, std::size_t channels, std::size_t h, std::size_t w,
                 std::size_t padded_h, std::size_t padded_w, float* out);

// Copies the top-left h x w window of a padded_h x padded_w plane.
void crop_top_left(const float* in, std::size_t padded_w, std::size_t h, std::size_t w,
                   float* out);

}  // namespace sira
