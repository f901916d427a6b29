// Scientific image I/O. A location is a file name, or for HDF5 "file.h5:/dataset/path".
// The format follows the extension: .h5/.hdf5/.hdf/.nxs (HDF5), .tif/.tiff (TIFF,
// single or multi-page), .png (PNG, 8/16-bit), .npy (NumPy).
// 2-D images and 3-D stacks (depth x height x width); samples uint8, uint16, float32.
// Writers go to a temporary name in the same folder and rename when complete, so
// a failed write never leaves a partial output.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "sira/provenance.hpp"
#include "sira/stack.hpp"

namespace sira {

enum class Format { hdf5, tiff, png, npy };

struct Location {
  std::string file;
  std::string dataset;  // HDF5 only; empty otherwise
  Format format = Format::tiff;
};

// Parses "file.h5:/path" or "image.tif"; throws on an unknown extension or an
// HDF5 location without a dataset path.
Location parse_location(const std::string& spec);

// True when writing `output` would replace the data `input` names: the same
// existing file (also by another path or a hard or symbolic link) and, for
// HDF5, the same dataset (another dataset of the same file is not the input).
bool same_data(const std::string& input, const std::string& output);

struct StackInfo {
  std::size_t depth = 0, height = 0, width = 0;
  DType dtype = DType::f32;
  bool is_2d = true;
};

StackInfo probe_stack(const std::string& spec);
Stack read_stack(const std::string& spec);
// Reads slices [first, first + count) of a stack (count 0 = to the end).
Stack read_slices(const std::string& spec, std::size_t first, std::size_t count);
// Writes `s` (as its own dtype unless `as` is given; float values are rounded
// and range-checked when written as integers), with what made it (stored as
// the format allows: sira/provenance.hpp).
void write_stack(const std::string& spec, const Stack& s, std::optional<DType> as = {},
                 const Provenance& provenance = {});

// 8-bit PNG preview of one slice, contrast-stretched between the given
// percentiles of its values.
void write_preview_png(const std::string& file, const Stack& s, std::size_t slice = 0,
                       double low_percentile = 0.5, double high_percentile = 99.5);

}  // namespace sira
