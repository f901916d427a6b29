// Which slices of a stack one rank restores: contiguous slabs, in rank order,
// whose sizes differ by at most one (the first ranks get the smaller ones).
#pragma once

#include <cstddef>

namespace sira::mpi {

struct Slab {
  std::size_t first = 0;
  std::size_t count = 0;
};

inline Slab slab_of(std::size_t depth, int rank, int ranks) {
  const std::size_t begin = depth * std::size_t(rank) / std::size_t(ranks);
  const std::size_t end = depth * std::size_t(rank + 1) / std::size_t(ranks);
  return {begin, end - begin};
}

}  // namespace sira::mpi
