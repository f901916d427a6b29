#include "io/atomic_output.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sira/error.hpp"

namespace sira::io {

namespace fs = std::filesystem;

namespace {

// Unique within the process; the pid makes it unique across processes.
std::string next_temp_name(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const std::string name =
      cat(".", target.filename().string(), ".tmp-", ::getpid(), "-", counter.fetch_add(1));
  return (target.parent_path() / name).string();
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
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    std::remove(temp_.c_str());
    committed_ = true;  // nothing left to clean up
    fail(target_, ": cannot move the finished file into place (", std::strerror(err), ")");
  }
  committed_ = true;
}

}  // namespace sira::io
