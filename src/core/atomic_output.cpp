#include "core/atomic_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sira/error.hpp"

namespace sira {

namespace fs = std::filesystem;

namespace {

// Unique within the process; the pid makes it unique across processes.
std::string next_temp_name(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const std::string name =
      cat(".", target.filename().string(), ".tmp-", ::getpid(), "-", counter.fetch_add(1));
  return (target.parent_path() / name).string();
}

// fsync of a file or folder by name; errno on failure, 0 on success.
int sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  if (::fsync(fd) != 0) err = errno;
  ::close(fd);
  return err;
}

}  // namespace

AtomicOutput::AtomicOutput(std::string target) : target_(std::move(target)) {
  const fs::path path(target_);
  if (path.filename().empty()) fail(target_, ": output needs a file name");
  std::error_code ec;
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(folder, ec)) fail(target_, ": folder '", folder.string(), "' does not exist");
  if (fs::is_directory(path, ec)) fail(target_, ": is a folder, not a file");
  temp_ = next_temp_name(path);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicOutput::commit() {
  if (committed_) return;
  committed_ = true;  // from here on, every path removes the temporary itself
  // A write the kernel accepted may still fail on its way to the disk (NFS,
  // quotas, thin volumes): fsync reports it before the target is replaced.
  if (const int err = sync_path(temp_, O_RDONLY)) {
    std::remove(temp_.c_str());
    fail(target_, ": cannot write the file to disk (", std::strerror(err), ")");
  }
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    std::remove(temp_.c_str());
    fail(target_, ": cannot move the finished file into place (", std::strerror(err), ")");
  }
  // The rename itself is durable once the folder is synced; a folder that
  // cannot be synced (some network file systems) is not an error.
  const fs::path folder = fs::path(target_).parent_path();
  sync_path(folder.empty() ? "." : folder.string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace sira
