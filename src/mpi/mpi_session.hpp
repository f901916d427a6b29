// MPI for one run of sira under mpirun: initialised only when a launcher started
// the process, so the MPI build run without mpirun is the serial sira (an MPI
// singleton would start a daemon for nothing). A rank that fails ends the whole
// run through abort(): its message first, then MPI_Abort, which makes the
// launcher stop every rank, so no rank waits forever on one that is gone.
#pragma once

#include <string>

namespace sira::mpi {

// True when mpirun/mpiexec (OpenMPI, MPICH/Hydra) or a PMIx launcher (srun)
// started this process.
bool launched_by_mpi();

class Session {
 public:
  Session();  // MPI_Init_thread: the stream's writer thread calls HDF5/MPI-IO (serialised)
  ~Session();  // MPI_Finalize
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Prints "<command>: error (rank R of N): <message>" on stderr and aborts every rank.
  [[noreturn]] void abort(const std::string& command, const std::string& message) const;
  void barrier() const;
  // Rank 0's value on every rank (collective).
  std::string broadcast(const std::string& text) const;
  double broadcast(double value) const;

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace sira::mpi
