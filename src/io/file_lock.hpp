// An exclusive lock on an output file that is edited in place by
// copy-and-rename (HDF5 files that keep their other datasets): held from
// before the copy until after the rename, so two processes (or threads)
// adding datasets to one file take turns and neither's dataset is lost.
//
// The lock is flock(2) on ".NAME.lock" beside the file. The holder removes
// that file when it lets go; a waiter that then gets the lock of a removed
// file tries again, so no lock file outlives its writers, and one left by a
// killed process is simply taken over (the kernel drops a dead process's
// flock). A second lock of the same file by one process is an error, not a
// deadlock.
#pragma once

#include <string>

namespace sira::io {

class FileLock {
 public:
  explicit FileLock(const std::string& target);  // waits until the lock is held
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::string& lock_path() const { return lock_path_; }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace sira::io
