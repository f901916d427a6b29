// Validates a request for slices [first, first + count) of a stack of `depth`
// slices (count 0 = to the end) and returns the number of slices to read.
#pragma once

#include <cstddef>
#include <string>

#include "sira/error.hpp"

namespace sira::io {

inline std::size_t resolve_slice_count(std::size_t depth, std::size_t first, std::size_t count,
                                       const std::string& what) {
  if (first >= depth)
    fail(what, ": first slice ", first, " is beyond the last slice (", depth, " slices)");
  if (count == 0) return depth - first;
  if (count > depth - first)
    fail(what, ": slices ", first, "..", first + count - 1, " requested but there are only ",
         depth, " slices");
  return count;
}

}  // namespace sira::io
