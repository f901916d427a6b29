#include "mpi/denoise_slabs.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <variant>

#include "core/atomic_output.hpp"
#include "mpi/hdf5_slab_writer.hpp"
#include "mpi/slab.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/stack_stream.hpp"

namespace sira::mpi {

namespace {

// Rank 0's string on every rank.
std::string broadcast(const std::string& text, int rank) {
  unsigned long long size = text.size();
  MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = rank == 0 ? text : std::string(size, '\0');
  MPI_Bcast(out.data(), int(size), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

// Removes the shared temporary output if this rank fails before the run is
// committed: the rank then aborts, and rank 0 (which owns the name) may be
// killed before it could remove it itself.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(std::string path) : path_(std::move(path)) {}
  ~RemoveOnFailure() {
    if (!done_ && !path_.empty()) std::remove(path_.c_str());
  }
  void done() { done_ = true; }

 private:
  std::string path_;
  bool done_ = false;
};

}  // namespace

SlabsReport denoise_slabs(const Session& session, Engine& engine, const std::string& input,
                          const std::string& output, const StreamOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const int rank = session.rank();
  const int ranks = session.size();
  if (!options.preview.empty())
    fail(options.preview, ": --preview is not written under mpirun yet; run without it");
  const Location where = parse_location(output);
  if (where.format != Format::hdf5)
    fail(output, ": under mpirun the output must be an HDF5 dataset (file.h5:/path), which all "
         "ranks write at once with parallel HDF5");

  // Every rank opens the input itself (read-only) and reads only its slab and its neighbours.
  std::unique_ptr<StackReader> reader = open_stack_reader(input);
  const StackInfo info = reader->info();
  if (info.depth < std::size_t(ranks))
    fail(input, ": ", info.depth, " slice(s) cannot be shared by ", ranks, " ranks; run with at most ",
         info.depth, " (mpirun -np ", info.depth, ")");
  const StackInfo shape{info.depth, info.height, info.width, options.dtype, info.is_2d};

  // Rank 0 makes the temporary file holding the empty dataset (serial HDF5, under
  // the file's lock, as a one-process run would) and hands it to every rank.
  std::optional<H5File> file;
  std::string temporary;
  if (rank == 0) {
    file.emplace(H5File::add_to(where.file));
    file->create_stack(where.dataset, shape, options.dtype);
    temporary = file->close_for_others();
  }
  temporary = broadcast(temporary, rank);
  RemoveOnFailure cleanup(temporary);
  std::optional<RemoveOnSignal> on_signal;  // rank 0's AtomicOutput already removes it on a signal
  if (rank != 0) on_signal.emplace(temporary);

  const Slab slab = slab_of(info.depth, rank, ranks);
  std::unique_ptr<StackWriter> writer = open_slab_writer(
      temporary, where.dataset, slab.first,
      StackInfo{slab.count, info.height, info.width, options.dtype, info.is_2d}, options.dtype,
      MPI_COMM_WORLD);
  SlabsReport report;
  report.rank0 = denoise_slab(engine, *reader, *writer, slab.first, slab.count, options);
  reader.reset();
  writer->commit();  // collective: closes the file on every rank

  double mine[2] = {report.rank0.seconds, double(slab.count)};
  double most[2] = {0, 0};
  MPI_Reduce(mine, most, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  report.slowest_seconds = most[0];
  report.largest_slab = std::size_t(most[1]);

  // Every rank has written its slab: rank 0 records what made the output and
  // moves it into place; the others wait for that before they report success.
  if (rank == 0) {
    file->reopen();
    Provenance provenance = options.provenance;
    provenance.add("mpi_ranks", std::int64_t(ranks));
    for (const auto& field : provenance.fields)
      std::visit([&](const auto& v) { file->set_attr(where.dataset, field.first, v); }, field.second);
    file->commit();
  }
  session.barrier();
  cleanup.done();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace sira::mpi
