#include "mpi/slab_output.hpp"

#include <mpi.h>

#include <cstdio>
#include <variant>

#include "mpi/hdf5_slab_writer.hpp"
#include "sira/error.hpp"

namespace sira::mpi {

Location hdf5_output(const std::string& output) {
  Location where = parse_location(output);
  if (where.format != Format::hdf5)
    fail(output, ": under mpirun the output must be an HDF5 dataset (file.h5:/path), which all "
         "ranks write at once with parallel HDF5");
  return where;
}

SlabOutput::SlabOutput(const Session& session, const std::string& output, const StackInfo& shape,
                       const Slab& slab)
    : session_(session), where_(hdf5_output(output)) {
  // Rank 0 makes the temporary file holding the empty dataset (serial HDF5, under
  // the file's lock, as a one-process run would) and hands it to every rank.
  if (session.rank() == 0) {
    file_.emplace(H5File::add_to(where_.file));
    file_->create_stack(where_.dataset, shape, shape.dtype);
    temporary_ = file_->close_for_others();
  }
  temporary_ = session.broadcast(temporary_);
  try {
    if (session.rank() != 0) on_signal_.emplace(temporary_);
    writer_ = open_slab_writer(temporary_, where_.dataset, slab.first,
                               StackInfo{slab.count, shape.height, shape.width, shape.dtype, shape.is_2d},
                               shape.dtype, MPI_COMM_WORLD);
  } catch (...) {
    std::remove(temporary_.c_str());  // the destructor does not run for a failed constructor
    throw;
  }
}

SlabOutput::~SlabOutput() {
  if (!committed_ && !temporary_.empty()) std::remove(temporary_.c_str());
}

void SlabOutput::commit(const Provenance& provenance) {
  writer_->commit();  // collective: closes the file on every rank
  // Every rank has written its slab: rank 0 records what made the output and
  // moves it into place; the others wait for that before they report success.
  if (session_.rank() == 0) {
    file_->reopen();
    Provenance p = provenance;
    p.add("mpi_ranks", std::int64_t(session_.size()));
    for (const auto& field : p.fields)
      std::visit([&](const auto& v) { file_->set_attr(where_.dataset, field.first, v); }, field.second);
    file_->commit();
  }
  session_.barrier();
  committed_ = true;
}

}  // namespace sira::mpi
