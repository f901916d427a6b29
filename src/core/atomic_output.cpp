#include "core/atomic_output.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <utility>

#include "sira/error.hpp"

namespace sira {

namespace fs = std::filesystem;

namespace {

// ---- Temporaries removed on SIGINT/SIGTERM/SIGHUP/SIGQUIT -------------------
// A fixed table the handler can walk without locks or allocation: a slot is
// free (0), being filled (1) or holds the name of a live temporary (2).
constexpr std::size_t kSlots = 256;
constexpr std::size_t kPathBytes = 4096;
struct TempSlot {
  std::atomic<int> state{0};
  char path[kPathBytes];
};
std::array<TempSlot, kSlots> g_temps;
static_assert(std::atomic<int>::is_always_lock_free);

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void remove_temporaries_and_die(int sig) {
  const int saved = errno;
  for (TempSlot& s : g_temps)
    if (s.state.load(std::memory_order_acquire) == 2) ::unlink(s.path);  // async-signal-safe
  errno = saved;
  // Die of the signal as the default action would (exit status, core for SIGQUIT).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);  // delivered when the handler returns (the signal is blocked until then)
}

// Installed once, for the signals whose action is still the default (an
// ignored SIGHUP under nohup stays ignored; a handler of the host program is kept).
void install_signal_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int sig : kSignals) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
        continue;
      struct sigaction act {};
      act.sa_handler = remove_temporaries_and_die;
      sigemptyset(&act.sa_mask);
      for (const int other : kSignals) sigaddset(&act.sa_mask, other);
      act.sa_flags = SA_RESTART;
      ::sigaction(sig, &act, nullptr);
    }
  });
}

int list_temporary(const std::string& path) {
  if (path.size() >= kPathBytes) return -1;  // not listed: removed on exceptions only
  install_signal_handlers();
  for (std::size_t i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_temps[i].state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      std::memcpy(g_temps[i].path, path.c_str(), path.size() + 1);
      g_temps[i].state.store(2, std::memory_order_release);
      return int(i);
    }
  }
  return -1;
}

void unlist_temporary(int slot) {
  if (slot >= 0) g_temps[std::size_t(slot)].state.store(0, std::memory_order_release);
}

// ---- Names ------------------------------------------------------------------

// This host's name as it may appear in a file name.
const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return std::string("host");
    std::string s(buf);
    for (char& c : s)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
    return s;
  }();
  return name;
}

std::string temp_prefix(const fs::path& target) { return cat(".", target.filename().string(), ".tmp-"); }

// Unique within the process; the pid makes it unique across processes of a
// host, the host name across hosts sharing a folder.
std::string next_temp_name(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const std::string name =
      cat(temp_prefix(target), ::getpid(), "-", counter.fetch_add(1), "@", host_name());
  return (target.parent_path() / name).string();
}

// The pid in "<pid>-<n>[@<host>]" if the name is a temporary of this host
// (names without a host come from older versions, which wrote only local ones).
bool temp_owner(const std::string& rest, long* pid) {
  std::size_t i = 0;
  long p = 0;
  while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i])) && i < 10) p = p * 10 + (rest[i++] - '0');
  if (i == 0 || i >= rest.size() || rest[i] != '-') return false;
  std::size_t j = ++i;
  while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j;
  if (j == i) return false;
  if (j == rest.size()) {
    *pid = p;
    return true;
  }
  if (rest[j] != '@' || rest.substr(j + 1) != host_name()) return false;
  *pid = p;
  return true;
}

bool process_is_gone(long pid) { return pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH; }

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

std::vector<std::string> reclaim_stale_temporaries(const std::string& target) {
  std::vector<std::string> removed;
  const fs::path path(target);
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string prefix = temp_prefix(path);
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    long pid = 0;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (!temp_owner(name.substr(prefix.size()), &pid) || pid == ::getpid() || !process_is_gone(pid))
      continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) {
      std::cerr << "sira: " << target << ": removed " << it->path().string()
                << ", a temporary left by process " << pid << " (no longer running)\n";
      removed.push_back(it->path().string());
    }
  }
  return removed;
}

RemoveOnSignal::RemoveOnSignal(const std::string& path) : slot_(list_temporary(path)) {}
RemoveOnSignal::~RemoveOnSignal() { unlist_temporary(slot_); }

AtomicOutput::AtomicOutput(std::string target) : target_(std::move(target)) {
  const fs::path path(target_);
  if (path.filename().empty()) fail(target_, ": output needs a file name");
  std::error_code ec;
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(folder, ec)) fail(target_, ": folder '", folder.string(), "' does not exist");
  if (fs::is_directory(path, ec)) fail(target_, ": is a folder, not a file");
  reclaim_stale_temporaries(target_);
  temp_ = next_temp_name(path);
  // Listed before the file exists, so a signal at any point finds it.
  slot_ = list_temporary(temp_);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
  unlist_temporary(slot_);
}

void AtomicOutput::commit() {
  if (committed_) return;
  committed_ = true;  // from here on, every path removes the temporary itself
  // A write the kernel accepted may still fail on its way to the disk (NFS,
  // quotas, thin volumes): fsync reports it before the target is replaced.
  if (const int err = sync_path(temp_, O_RDONLY)) {
    std::remove(temp_.c_str());
    unlist_temporary(std::exchange(slot_, -1));
    fail(target_, ": cannot write the file to disk (", std::strerror(err), ")");
  }
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    std::remove(temp_.c_str());
    unlist_temporary(std::exchange(slot_, -1));
    fail(target_, ": cannot move the finished file into place (", std::strerror(err), ")");
  }
  unlist_temporary(std::exchange(slot_, -1));  // the name is the target's now
  // The rename itself is durable once the folder is synced; a folder that
  // cannot be synced (some network file systems) is not an error.
  const fs::path folder = fs::path(target_).parent_path();
  sync_path(folder.empty() ? "." : folder.string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace sira
