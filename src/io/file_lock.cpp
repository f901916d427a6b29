#include "io/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>

#include "sira/error.hpp"

namespace sira::io {

namespace fs = std::filesystem;

namespace {

std::mutex& held_mutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& held_by_this_process() {
  static std::set<std::string> held;
  return held;
}

std::string lock_name(const std::string& target) {
  const fs::path path = fs::absolute(fs::path(target)).lexically_normal();
  return (path.parent_path() / cat(".", path.filename().string(), ".lock")).string();
}

// The pid the holder wrote into the lock file, or "" if none.
std::string holder_of(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  return n > 0 ? std::string(text, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

FileLock::FileLock(const std::string& target) : lock_path_(lock_name(target)) {
  {
    std::lock_guard guard(held_mutex());
    if (!held_by_this_process().insert(lock_path_).second)
      fail(target, ": is already being written by this process");
  }
  try {
    bool told = false;
    while (true) {
      fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0)
        fail(target, ": cannot create the lock file '", lock_path_, "' (", std::strerror(errno), ")");
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
          fail(target, ": cannot lock '", lock_path_, "' (", std::strerror(errno), ")");
        if (!told) {
          const std::string pid = holder_of(fd_);
          std::cerr << "sira: " << target << " is being written by another process"
                    << (pid.empty() ? "" : " (pid " + pid + ")") << "; waiting for it to finish\n";
          told = true;
        }
        int rc;
        while ((rc = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
        }
        if (rc != 0) fail(target, ": cannot lock '", lock_path_, "' (", std::strerror(errno), ")");
      }
      // The previous holder may have removed the file after we opened it: then
      // this lock guards nothing, and the next try opens the current one.
      struct stat held {}, current {};
      if (::fstat(fd_, &held) == 0 && ::stat(lock_path_.c_str(), &current) == 0 &&
          held.st_dev == current.st_dev && held.st_ino == current.st_ino)
        break;
      ::close(fd_);
      fd_ = -1;
    }
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    std::lock_guard guard(held_mutex());
    held_by_this_process().erase(lock_path_);
    throw;
  }
}

FileLock::~FileLock() {
  // Removed while still held: a waiter that then gets this lock sees the file
  // gone and retries on a new one.
  ::unlink(lock_path_.c_str());
  ::close(fd_);
  std::lock_guard guard(held_mutex());
  held_by_this_process().erase(lock_path_);
}

}  // namespace sira::io
