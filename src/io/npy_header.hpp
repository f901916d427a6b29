// The header of a NumPy .npy file (format versions 1, 2 and 3): the sample
// type, memory order and shape, parsed from the Python dict literal
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }".
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

#include "io/samples.hpp"

namespace sira::io {

struct NpyHeader {
  SampleType type;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  // bytes from the start of the file
};

// Reads and validates the header; `file_size` bounds the header length and
// `file` names the file in errors.
NpyHeader read_npy_header(std::istream& in, std::size_t file_size, const std::string& file);

// A version 1 header for C-order data, padded to a multiple of 64 bytes.
std::string make_npy_header(const std::string& descr, const std::vector<std::size_t>& shape);

}  // namespace sira::io
