// The per-format readers and writers behind io.hpp. Each reads slices
// [first, first + count) (count 0 = to the end) and writes atomically.
#pragma once

#include <cstddef>
#include <string>

#include "sira/io.hpp"
#include "sira/stack.hpp"

namespace sira::io {

StackInfo probe_tiff(const std::string& file);
Stack read_tiff(const std::string& file, std::size_t first, std::size_t count);
void write_tiff(const std::string& file, const Stack& s, DType as);

StackInfo probe_png(const std::string& file);
Stack read_png(const std::string& file, std::size_t first, std::size_t count);
void write_png(const std::string& file, const Stack& s, DType as);

StackInfo probe_npy(const std::string& file);
Stack read_npy(const std::string& file, std::size_t first, std::size_t count);
void write_npy(const std::string& file, const Stack& s, DType as);

}  // namespace sira::io
