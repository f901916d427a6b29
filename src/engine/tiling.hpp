// Overlapping tiles over a padded image. Each tile has a core (the pixels it
// contributes to the output) and an input region = core grown by the halo and
// clipped to the image. All edges are multiples of the network's multiple, so
// pooling grids inside a tile line up with the whole image's; a halo of at
// least the receptive radius makes every core pixel equal the untiled result.
#pragma once

#include <cstddef>
#include <vector>

namespace sira {

struct Rect {
  std::size_t y0 = 0, x0 = 0, y1 = 0, x1 = 0;  // [y0, y1) x [x0, x1)
  std::size_t height() const { return y1 - y0; }
  std::size_t width() const { return x1 - x0; }
};

struct Tile {
  Rect core;   // written to the output
  Rect input;  // fed to the network (core + halo, clipped)
};

std::size_t round_up_to(std::size_t n, std::size_t multiple);

// Halo for a receptive radius: the radius rounded up to the multiple.
std::size_t tile_halo(int receptive_radius, std::size_t multiple);

// Tiles with core edge `tile` (rounded up to the multiple) covering a
// height x width image (both multiples of `multiple`), row by row.
std::vector<Tile> plan_tiles(std::size_t height, std::size_t width, std::size_t tile,
                             std::size_t halo, std::size_t multiple);

}  // namespace sira
