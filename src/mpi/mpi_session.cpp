#include "mpi/mpi_session.hpp"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>

#include "sira/error.hpp"

namespace sira::mpi {

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

Session::Session() {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
    fail("MPI: cannot initialise");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  // Errors come back as codes (turned into sira::Error) rather than killing the job silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (provided < MPI_THREAD_SERIALIZED)
    abort("sira", "this MPI library cannot be called from more than one thread (MPI_THREAD_SERIALIZED)");
}

Session::~Session() { MPI_Finalize(); }

void Session::abort(const std::string& command, const std::string& message) const {
  std::fprintf(stderr, "%s: error (rank %d of %d): %s\n", command.c_str(), rank_, size_, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);  // MPI_Abort does not return; should it, this rank still stops
}

void Session::barrier() const {
  if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) fail("MPI: barrier failed (a rank is gone)");
}

std::string Session::broadcast(const std::string& text) const {
  unsigned long long size = text.size();
  if (MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    fail("MPI: broadcast failed (a rank is gone)");
  std::string out = rank_ == 0 ? text : std::string(size, '\0');
  if (MPI_Bcast(out.data(), int(size), MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    fail("MPI: broadcast failed (a rank is gone)");
  return out;
}

double Session::broadcast(double value) const {
  if (MPI_Bcast(&value, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) fail("MPI: broadcast failed (a rank is gone)");
  return value;
}

}  // namespace sira::mpi
