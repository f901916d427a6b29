// The one way sira writes an output file (images, stacks, HDF5, models, logs):
// under a temporary name of its own in the target's folder
// (".name.tmp-<pid>-<n>", unique per process and per writer within it), made
// durable (fsync) and renamed over the target by commit(). Destroyed without
// commit() it removes the temporary, so a failed write never leaves a partial
// file and never touches an existing target, and writers of one target at once
// never share a temporary: the target is always one writer's whole file.
#pragma once

#include <string>

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
  bool committed_ = false;
};

}  // namespace sira
