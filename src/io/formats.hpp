// The per-format readers and writers behind io.hpp. Each reads slices
// [first, first + count) (count 0 = to the end) and writes atomically; the
// StackReader/StackWriter factories are their slice-wise forms (stack_stream.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sira/io.hpp"
#include "sira/provenance.hpp"
#include "sira/stack.hpp"
#include "sira/stack_stream.hpp"

namespace sira::io {

StackInfo probe_tiff(const std::string& file);
Stack read_tiff(const std::string& file, std::size_t first, std::size_t count);
void write_tiff(const std::string& file, const Stack& s, DType as);
std::unique_ptr<StackReader> open_tiff_reader(const std::string& file);
// Software and ImageDescription of the first page, where present.
std::vector<std::pair<std::string, std::string>> read_tiff_text(const std::string& file);
std::unique_ptr<StackWriter> create_tiff_writer(const std::string& file, const StackInfo& shape,
                                                DType as);

StackInfo probe_png(const std::string& file);
Stack read_png(const std::string& file, std::size_t first, std::size_t count);
// `provenance` (when not empty) goes into text chunks "Software" and
// "Description" (JSON), before the image data.
void write_png(const std::string& file, const Stack& s, DType as, const Provenance& provenance = {});
// The text chunks before a PNG's image data, as (keyword, text).
std::vector<std::pair<std::string, std::string>> read_png_text(const std::string& file);

StackInfo probe_npy(const std::string& file);
Stack read_npy(const std::string& file, std::size_t first, std::size_t count);
void write_npy(const std::string& file, const Stack& s, DType as);
std::unique_ptr<StackReader> open_npy_reader(const std::string& file);
std::unique_ptr<StackWriter> create_npy_writer(const std::string& file, const StackInfo& shape,
                                               DType as);

// HDF5 (hdf5_stream.cpp): every HDF5 call of these goes through hdf5_lock().
std::unique_ptr<StackReader> open_hdf5_reader(const std::string& file, const std::string& dataset);
std::unique_ptr<StackWriter> create_hdf5_writer(const std::string& file, const std::string& dataset,
                                                const StackInfo& shape, DType as);

}  // namespace sira::io
