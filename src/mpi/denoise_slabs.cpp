#include "mpi/denoise_slabs.hpp"

#include <mpi.h>

#include <chrono>

#include "mpi/slab.hpp"
#include "mpi/slab_output.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/stack_stream.hpp"

namespace sira::mpi {

SlabsReport denoise_slabs(const Session& session, Engine& engine, const std::string& input,
                          const std::string& output, const StreamOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const int rank = session.rank();
  const int ranks = session.size();
  if (!options.preview.empty())
    fail(options.preview, ": --preview is not written under mpirun yet; run without it");
  hdf5_output(output);  // before any work

  // Every rank opens the input itself (read-only) and reads only its slab and its neighbours.
  std::unique_ptr<StackReader> reader = open_stack_reader(input);
  const StackInfo info = reader->info();
  if (info.depth < std::size_t(ranks))
    fail(input, ": ", info.depth, " slice(s) cannot be shared by ", ranks, " ranks; run with at most ",
         info.depth, " (mpirun -np ", info.depth, ")");
  const StackInfo shape{info.depth, info.height, info.width, options.dtype, info.is_2d};

  const Slab slab = slab_of(info.depth, rank, ranks);
  SlabOutput out(session, output, shape, slab);
  SlabsReport report;
  report.rank0 = denoise_slab(engine, *reader, out.writer(), slab.first, slab.count, options);
  reader.reset();

  double mine[2] = {report.rank0.seconds, double(slab.count)};
  double most[2] = {0, 0};
  MPI_Reduce(mine, most, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  report.slowest_seconds = most[0];
  report.largest_slab = std::size_t(most[1]);

  out.commit(options.provenance);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace sira::mpi
