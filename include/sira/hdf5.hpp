// An HDF5 file handle for the layouts sira reads and writes: image datasets,
// 1-D numeric vectors (angles) and attributes (simulation parameters, seeds).
// A file created for writing lives under a temporary name until commit(); if
// the handle is destroyed without commit() the temporary file is removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sira/io.hpp"
#include "sira/stack.hpp"

namespace sira {

class H5File {
 public:
  // A file opened for writing is locked (io/file_lock.hpp) from here until
  // commit() or destruction: writers of one file at once take turns, each
  // starting from the previous one's result, so no writer's dataset is lost.
  static H5File open(const std::string& path);    // read-only
  static H5File create(const std::string& path);  // new file (replaces on commit)
  // Adds to an existing file: works on a copy that replaces the file on commit.
  static H5File edit(const std::string& path);
  // edit() if the file exists (when the lock is held), else create().
  static H5File add_to(const std::string& path);
  H5File(H5File&&) noexcept;
  H5File& operator=(H5File&&) noexcept;
  ~H5File();

  const std::string& path() const;
  bool has(const std::string& dataset) const;
  std::vector<std::size_t> shape(const std::string& dataset) const;
  DType dtype(const std::string& dataset) const;  // the tag read() gives
  // Refuses (naming the file and dataset) a dataset whose declared size the
  // file cannot hold: storage never written (an unwritten chunked dataset of
  // 65536^2 is a few hundred bytes), or lying past the end of a truncated file,
  // beyond what its filters can expand. read_slices checks the slices it
  // reads; this checks the whole dataset (before sizing buffers by its shape).
  void require_stored(const std::string& dataset) const;

  // 2-D or 3-D numeric dataset; uint8/uint16/float32 keep their dtype tag,
  // other numeric types are converted to float32.
  Stack read(const std::string& dataset) const;
  Stack read_slices(const std::string& dataset, std::size_t first, std::size_t count) const;
  // Rows [first_row, first_row + rows) of slices [first, first + count): one
  // hyperslab, so a reader of a few detector rows never holds whole projections.
  Stack read_block(const std::string& dataset, std::size_t first, std::size_t count, std::size_t first_row,
                   std::size_t rows) const;
  std::vector<double> read_vector(const std::string& dataset) const;  // 1-D numeric

  void write(const std::string& dataset, const Stack& s, DType as);  // creates groups
  // Slice-wise writing: create_stack makes a depth x height x width dataset (2-D
  // when shape.is_2d and depth 1) stored as `as`; write_slices fills slices
  // [first, first + block.depth) of it.
  void create_stack(const std::string& dataset, const StackInfo& shape, DType as);
  void write_slices(const std::string& dataset, std::size_t first, const Stack& block, DType as);
  void write_vector(const std::string& dataset, const std::vector<double>& v);
  // Attributes on a dataset or group ("/" for the file).
  void set_attr(const std::string& object, const std::string& name, double value);
  void set_attr(const std::string& object, const std::string& name, const std::string& value);
  void set_attr(const std::string& object, const std::string& name, std::int64_t value);
  bool has_attr(const std::string& object, const std::string& name) const;
  double attr_number(const std::string& object, const std::string& name) const;
  std::string attr_string(const std::string& object, const std::string& name) const;
  // Names of the attributes of `object` (creation order where tracked, else by
  // name), and one attribute's value as text (integers without a decimal point).
  std::vector<std::string> attr_names(const std::string& object) const;
  std::string attr_text(const std::string& object, const std::string& name) const;

  void commit();  // flush, close and move the temporary file into place

  // For writers in other processes (MPI ranks writing slabs with parallel HDF5):
  // flushes and closes the file but keeps its temporary and its lock; returns the
  // temporary's path, which the others open. reopen() opens it again here (to add
  // attributes, then commit()); until then only has-nothing calls are allowed.
  const std::string& close_for_others();
  void reopen();

 private:
  struct Impl;
  explicit H5File(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sira
