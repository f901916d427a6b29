// ONE HDF5 output dataset that every rank fills with its slab of slices, under
// sira's atomic-output rule across ranks: rank 0 creates the temporary file with
// the empty dataset of the whole output's shape (as a one-process run would: a
// copy of an existing file keeps its other datasets) and hands its name to every
// rank; each rank writes its slices through parallel HDF5 (hdf5_slab_writer);
// only when every rank has finished does rank 0 add the provenance and rename it
// into place. Shared by sira denoise and sira recon under mpirun.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/atomic_output.hpp"
#include "mpi/mpi_session.hpp"
#include "mpi/slab.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/provenance.hpp"
#include "sira/stack_stream.hpp"

namespace sira::mpi {

// `output` as an HDF5 location; anything else is refused, naming why (only
// HDF5 has a writer that many processes share here).
Location hdf5_output(const std::string& output);

class SlabOutput {
 public:
  // Collective. `shape`: the whole output (depth = every slice); `slab`: this
  // rank's slices of it.
  SlabOutput(const Session& session, const std::string& output, const StackInfo& shape, const Slab& slab);
  // Without commit() (a failure on this rank): removes the shared temporary, so
  // nothing is left even if rank 0 is killed before it could remove it itself.
  ~SlabOutput();
  SlabOutput(const SlabOutput&) = delete;
  SlabOutput& operator=(const SlabOutput&) = delete;

  // This rank's slices: slice 0 of the writer is slice slab.first of the output.
  StackWriter& writer() { return *writer_; }
  // Collective: closes the file on every rank (each must have written its slab);
  // rank 0 stores `provenance` plus mpi_ranks and moves the file into place; the
  // others wait for that, so a rank returning from here means the output exists.
  void commit(const Provenance& provenance);

 private:
  const Session& session_;
  Location where_;
  std::optional<H5File> file_;  // rank 0: the temporary, locked until committed
  std::string temporary_;
  std::optional<RemoveOnSignal> on_signal_;  // ranks > 0 (rank 0's H5File removes it on a signal)
  std::unique_ptr<StackWriter> writer_;
  bool committed_ = false;
};

}  // namespace sira::mpi
