// One rank's part of an output dataset that every rank writes at once: the file
// is opened by all ranks together through MPI-IO (parallel HDF5), and this rank
// writes its slab's slices into their place with independent hyperslab writes,
// so ranks never wait for each other while they stream. Opening and finishing
// (commit) are collective: every rank must do both, in the same order.
#pragma once

#include <mpi.h>

#include <string>

#include "sira/stack_stream.hpp"

namespace sira::mpi {

// `file` holds `dataset` already (created with the whole output's shape);
// `slab` is this rank's part (depth = its slice count), starting at slice `first`.
std::unique_ptr<StackWriter> open_slab_writer(const std::string& file, const std::string& dataset,
                                              std::size_t first, const StackInfo& slab, DType as,
                                              MPI_Comm comm);

}  // namespace sira::mpi
