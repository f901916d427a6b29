// sira denoise over MPI ranks (mpirun -np N sira denoise ...): each rank restores
// one contiguous slab of the stack with the streaming pipeline (denoise_slab),
// reading its slab and the neighbours a 3-slice model needs, and writes it into
// ONE output dataset that all ranks fill at once through parallel HDF5
// (mpi/slab_output.hpp: sira's atomic-output rule across ranks). A rank that
// fails removes the temporary and aborts the run (Session::abort): no rank hangs
// and no output appears.
#pragma once

#include <string>

#include "mpi/mpi_session.hpp"
#include "sira/denoise_stream.hpp"

namespace sira::mpi {

struct SlabsReport {
  StreamReport rank0;            // rank 0's own slab
  double slowest_seconds = 0;    // the slowest rank's slab, from opening its input
  std::size_t largest_slab = 0;  // slices
  double seconds = 0;            // rank 0: from the start to the committed output
};

// `output` must be an HDF5 dataset (file.h5:/path). options.preview is refused.
SlabsReport denoise_slabs(const Session& session, Engine& engine, const std::string& input,
                          const std::string& output, const StreamOptions& options);

}  // namespace sira::mpi
