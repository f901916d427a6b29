#include "engine/tiling.hpp"

#include <algorithm>

#include "sira/error.hpp"

namespace sira {

std::size_t round_up_to(std::size_t n, std::size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

std::size_t tile_halo(int receptive_radius, std::size_t multiple) {
  return round_up_to(std::size_t(std::max(receptive_radius, 0)), multiple);
}

std::vector<Tile> plan_tiles(std::size_t height, std::size_t width, std::size_t tile,
                             std::size_t halo, std::size_t multiple) {
  if (multiple == 0 || height % multiple || width % multiple || halo % multiple)
    fail("tiling: image ", height, "x", width, " and halo ", halo,
         " must be multiples of ", multiple);
  const std::size_t edge = std::max(round_up_to(tile, multiple), multiple);
  std::vector<Tile> tiles;
  for (std::size_t y = 0; y < height; y += edge)
    for (std::size_t x = 0; x < width; x += edge) {
      Tile t;
      t.core = {y, x, std::min(y + edge, height), std::min(x + edge, width)};
      t.input = {y >= halo ? y - halo : 0, x >= halo ? x - halo : 0,
                 std::min(t.core.y1 + halo, height), std::min(t.core.x1 + halo, width)};
      tiles.push_back(t);
    }
  return tiles;
}

}  // namespace sira
