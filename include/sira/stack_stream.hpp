// Slice-wise stack I/O, so a stack can be processed without holding it whole:
// a StackReader reads any range of slices (HDF5 hyperslabs, TIFF pages, .npy by
// offset), a StackWriter appends slices in order to an output that stays under a
// temporary name until commit() (destroyed without commit(), it removes the
// temporary: no output appears). read_stack/write_stack (io.hpp) remain the
// whole-stack forms. One reader or writer must be used by one thread at a time;
// HDF5 ones serialise their library calls through one process-wide lock, so an
// HDF5 reader and writer may run on different threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "sira/io.hpp"
#include "sira/provenance.hpp"
#include "sira/stack.hpp"

namespace sira {

class StackReader {
 public:
  virtual ~StackReader() = default;
  // Shape and sample type of the whole stack (depth 1 and is_2d for a 2-D image).
  const StackInfo& info() const { return info_; }
  const std::string& spec() const { return spec_; }  // the input as named in errors
  // Slices [first, first + count) (count 0 = to the end) as a Stack tagged with
  // the file's dtype and is_2d.
  Stack read_slices(std::size_t first, std::size_t count);

 protected:
  virtual Stack read_range(std::size_t first, std::size_t count) = 0;
  std::string spec_;  // names the input in errors
  StackInfo info_;
};

// Opens `spec` ("stack.tif", "stack.npy", "file.h5:/dataset", "image.png").
std::unique_ptr<StackReader> open_stack_reader(const std::string& spec);

class StackWriter {
 public:
  virtual ~StackWriter() = default;
  // Writes the slices of `block` as output slices [first, first + block.depth).
  // Slices come in order: `first` must be the number written so far, and the
  // block's height and width must be the output's.
  void write_slices(std::size_t first, const Stack& block);
  // Writes rows [first_row, first_row + band.height) of output slice `slice`
  // (band: depth 1, the output's width). Rows come in order too: `slice` is the
  // one being written and `first_row` the number of its rows written so far.
  // TIFF and .npy write them at once, so a slice need never be held whole; the
  // other formats gather the slice and write it when its last row arrives.
  void write_rows(std::size_t slice, std::size_t first_row, const Stack& band);
  std::size_t written() const { return written_; }
  // What made the output (sira/provenance.hpp), stored with it: HDF5 dataset
  // attributes, TIFF tags on every page, PNG text. Before the first slice.
  void set_provenance(const Provenance& p);
  // Once every slice is written: finishes the file and moves it into place.
  void commit();

 protected:
  StackWriter(std::string spec, const StackInfo& shape, DType as);
  virtual void write_range(std::size_t first, const Stack& block) = 0;
  // Rows of slice `written_` (checked); by default gathered into a whole slice.
  virtual void write_band(std::size_t first_row, const Stack& band);
  virtual void finish() = 0;
  virtual void provenance_set() {}  // a format that stores it while writing prepares it here
  std::string spec_;
  Provenance provenance_;
  StackInfo shape_;  // dtype = the type written
  std::size_t written_ = 0;

 private:
  std::size_t rows_written_ = 0;  // of slice written_, by write_rows
  Stack gathered_;  // write_band's default: the slice being assembled
};

// An output of `shape` (depth, height, width, is_2d) written as `as`. An existing
// HDF5 file keeps its other datasets (copy-on-write, as write_stack). PNG holds one
// 2-D image and is written at commit().
std::unique_ptr<StackWriter> create_stack_writer(const std::string& spec, const StackInfo& shape,
                                                 DType as);

}  // namespace sira
