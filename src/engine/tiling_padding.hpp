// Reflect padding to the network's multiple. The padding goes on the bottom and
// right only, so the image keeps its origin and cropping back is taking the
// top-left h x w; it mirrors without repeating the edge sample, exactly like
// PyTorch F.pad(x, (0, pad_w, 0, pad_h), mode='reflect').
#pragma once

#include <cstddef>
#include <vector>

#include "engine/tiling.hpp"

namespace sira {

// Copies `region` (in padded coordinates) of the reflect-padded planes to out
// (planes.size() x region.height() x region.width()), mapping each sample v to
// (v - offset) * scale on the way. Each plane is h x w; the padded image is
// padded_h x padded_w, and each pad must be smaller than the edge it mirrors.
// Reading tiles straight from the caller's slices this way means the padded,
// normalised whole image is never held in memory.
void gather_padded(const std::vector<const float*>& planes, std::size_t h, std::size_t w,
                   std::size_t padded_h, std::size_t padded_w, const Rect& region,
                   float offset, float scale, float* out);

// Copies the top-left h x w window of a padded_h x padded_w plane (out may be in).
void crop_top_left(const float* in, std::size_t padded_w, std::size_t h, std::size_t w,
                   float* out);

}  // namespace sira
