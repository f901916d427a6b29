// The one way sira writes an output file (images, stacks, HDF5, models, logs):
// under a temporary name of its own in the target's folder
// (".name.tmp-<pid>-<n>@<host>", unique per process and per writer within it),
// made durable (fsync) and renamed over the target by commit(). Destroyed
// without commit() it removes the temporary, so a failed write never leaves a
// partial file and never touches an existing target, and writers of one target
// at once never share a temporary: the target is always one writer's whole file.
//
// Killed by SIGINT, SIGTERM, SIGHUP or SIGQUIT, the process removes its
// temporaries first (an async-signal-safe handler that unlinks the registered
// names, then dies of the signal as it would have). A temporary left by a
// process that could not clean up (SIGKILL, a crash, a power cut) is removed by
// the next writer of the same target on this host once its pid is no longer
// running, which says so on stderr.
#pragma once

#include <string>
#include <vector>

namespace sira {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string target);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }
  // fsync the finished temporary, rename it over the target, fsync the folder.
  // The temporary must be closed by its writer first. On failure the
  // temporary is removed and the target kept.
  void commit();

 private:
  std::string target_;
  std::string temp_;
  int slot_ = -1;  // in the signal handler's list of temporaries (-1: not listed)
  bool committed_ = false;
};

// Lists a temporary that another process created (rank 0's output, which every
// MPI rank writes) so that this process's signal handler removes it too: when the
// launcher stops the ranks because rank 0 died, a surviving rank removes it.
class RemoveOnSignal {
 public:
  explicit RemoveOnSignal(const std::string& path);
  ~RemoveOnSignal();
  RemoveOnSignal(const RemoveOnSignal&) = delete;
  RemoveOnSignal& operator=(const RemoveOnSignal&) = delete;

 private:
  int slot_ = -1;
};

// Removes the temporaries of `target` left by processes of this host that are
// no longer running (what AtomicOutput does before writing); returns their names.
std::vector<std::string> reclaim_stale_temporaries(const std::string& target);

}  // namespace sira
