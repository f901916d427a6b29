#include "io/hdf5_preflight.hpp"

#include <hdf5.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define SIRA_PREFLIGHT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIRA_PREFLIGHT_ASAN 1
#endif
#endif
#ifdef SIRA_PREFLIGHT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#include "io/hdf5_lock.hpp"
#include "sira/error.hpp"

namespace sira::io {

namespace {

constexpr std::size_t kReadWholeBytes = std::size_t(64) << 10;  // datasets up to this (as float64) are read whole
constexpr std::size_t kMaxRowBytes = std::size_t(8) << 20;     // else their first row, up to this
// H5Dget_chunk_info walks the index from its start for each chunk: the count
// (which walks the whole index once) and the first chunks only.
constexpr hsize_t kMaxChunksWalked = 16;
constexpr std::size_t kMaxObjects = 100000;
// The child may grow by this much beyond the parent's address space: a damaged
// header can make libhdf5 itself calloc gigabytes (a 5 KB file found by
// fuzz_dxchange took 4.2 GB in H5FL_blk_calloc under H5Dread). Past it the
// library's allocation fails and the child goes on (the parent's read, with its
// own checks, then refuses the file). Real files need one chunk per dataset.
constexpr std::uint64_t kChildGrowthBytes = std::uint64_t(1) << 30;

// The child's address-space limit: the parent's size now plus the growth
// allowed; 0 = none (under AddressSanitizer, whose shadow memory is terabytes of
// reserved address space, or if /proc cannot tell).
rlim_t child_address_limit() {
#ifdef SIRA_PREFLIGHT_ASAN
  return 0;
#else
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long pages = 0;
  const bool read = std::fscanf(f, "%llu", &pages) == 1;
  std::fclose(f);
  if (!read) return 0;
  return rlim_t(pages * std::uint64_t(::sysconf(_SC_PAGESIZE)) + kChildGrowthBytes);
#endif
}

struct Walk {
  std::size_t objects = 0;
};

// Reads what sira may read of one dataset; errors are fine (the parent reports
// them), only a crash matters.
void walk_dataset(hid_t ds) {
  const hid_t type = H5Dget_type(ds), space = H5Dget_space(ds), dcpl = H5Dget_create_plist(ds);
  H5Dget_storage_size(ds);
  if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && space >= 0) {
    hsize_t n = 0;
    if (H5Dget_num_chunks(ds, space, &n) >= 0) {
      std::vector<hsize_t> offset(32);
      for (hsize_t i = 0; i < n && i < kMaxChunksWalked; ++i) {
        unsigned mask = 0;
        haddr_t addr = 0;
        hsize_t size = 0;
        if (H5Dget_chunk_info(ds, space, i, offset.data(), &mask, &addr, &size) < 0) break;
      }
    }
  }
  if (dcpl >= 0) {
    const int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; ++i) {
      unsigned flags = 0;
      std::size_t cd = 0;
      H5Pget_filter2(dcpl, unsigned(i), &flags, &cd, nullptr, 0, nullptr, nullptr);
    }
  }
  const H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  const int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && rank >= 0 && rank <= 32) {
    std::vector<hsize_t> dims(std::size_t(rank) + 1, 1);
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    hsize_t points = 1;
    for (int i = 0; i < rank; ++i) points = dims[i] && points > (hsize_t(1) << 40) / dims[i] ? (hsize_t(1) << 40) : points * dims[i];
    // Through the read path sira uses (type conversion, filters, chunk
    // assembly): a small dataset whole, else its first row (index 0 of every
    // axis but the last), which decodes the first chunk.
    hsize_t want = points;
    if (rank >= 1 && points * 8 > kReadWholeBytes) want = dims[std::size_t(rank) - 1];
    if (points > 0 && want * 8 <= kMaxRowBytes) {
      std::vector<double> buffer(static_cast<std::size_t>(want));
      const hid_t file_space = H5Scopy(space);
      if (want != points) {
        std::vector<hsize_t> start(std::size_t(rank), 0), count(std::size_t(rank), 1);
        count.back() = want;
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
      }
      const hid_t memory = H5Screate_simple(1, &want, nullptr);
      H5Dread(ds, H5T_NATIVE_DOUBLE, memory, file_space, H5P_DEFAULT, buffer.data());
      H5Sclose(memory);
      H5Sclose(file_space);
    }
  }
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
}

herr_t walk_attribute(hid_t object, const char* name, const H5A_info_t*, void*) {
  const hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  if (attr < 0) return 0;
  const hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
  const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  if (type >= 0 && n == 1) {
    const H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
      double v = 0;
      H5Aread(attr, H5T_NATIVE_DOUBLE, &v);
    } else if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {
      char* text = nullptr;
      if (H5Aread(attr, type, &text) >= 0 && text) H5free_memory(text);
    } else if (cls == H5T_STRING) {
      const std::size_t size = H5Tget_size(type);
      if (size < (std::size_t(1) << 24)) {
        std::vector<char> text(size + 1);
        H5Aread(attr, type, text.data());
      }
    }
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  H5Aclose(attr);
  return 0;
}

herr_t walk_object(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto* walk = static_cast<Walk*>(data);
  if (++walk->objects > kMaxObjects) return 1;
  H5Lexists(root, name, H5P_DEFAULT);
  const hid_t object = H5Oopen(root, name, H5P_DEFAULT);
  if (object < 0) return 0;
  hsize_t index = 0;
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_NATIVE, &index, walk_attribute, nullptr);
  if (info->type == H5O_TYPE_DATASET) walk_dataset(object);
  H5Oclose(object);
  return 0;
}

[[noreturn]] void child_walk(const char* path, rlim_t address_limit) {
  struct rlimit none {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);  // a crash here must not leave a core file behind
  // The parent's handlers are not the child's: a crash must kill the child (the
  // parent reports it), and SIGINT/SIGTERM must not run the parent's clean-up
  // of its temporary outputs from here. Under a sanitizer, its death callback
  // (libFuzzer's writes a crash file) is the parent's too.
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGINT, SIGTERM}) ::signal(sig, SIG_DFL);
#ifdef SIRA_PREFLIGHT_ASAN
  __sanitizer_set_death_callback(nullptr);
#endif
  struct rlimit current {};
  if (address_limit && ::getrlimit(RLIMIT_AS, &current) == 0 && address_limit < current.rlim_cur) {
    struct rlimit bound {address_limit, current.rlim_max};
    ::setrlimit(RLIMIT_AS, &bound);
  }
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (H5Fis_hdf5(path) > 0) {
    const hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
      Walk walk;
      H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, walk_object, &walk, H5O_INFO_BASIC);
      H5Fclose(file);
    }
  }
  ::_exit(0);  // no atexit handlers: the parent's open HDF5 files are not flushed from here
}

bool enabled() {
  const char* v = std::getenv("SIRA_HDF5_PREFLIGHT");
  return !(v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0 || std::strcmp(v, "no") == 0));
}

double timeout_seconds() {
  const char* v = std::getenv("SIRA_HDF5_PREFLIGHT_TIMEOUT");
  if (!v || !*v) return 300;
  char* end = nullptr;
  const double t = std::strtod(v, &end);
  return end && *end == '\0' && t > 0 ? t : 300;
}

}  // namespace

void preflight_hdf5_input(const std::string& path) {
  if (!enabled()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // the caller reports a missing file
  using Key = std::tuple<dev_t, ino_t, off_t, long, long>;
  static std::mutex mutex;
  static std::set<Key> checked;
  const Key key{st.st_dev, st.st_ino, st.st_size, long(st.st_mtim.tv_sec), st.st_mtim.tv_nsec};
  // `mutex` guards `checked` only and is never held while taking hdf5_lock():
  // callers may already hold that lock (adding to an existing file), so holding
  // `mutex` across the fork inverted the order (ThreadSanitizer found it: a
  // reader thread pre-flighting its input while the writer thread, under
  // hdf5_lock, pre-flights the output file could deadlock). Two threads may
  // check one file at once; the work is repeated, never wrong.
  {
    std::lock_guard<std::mutex> guard(mutex);
    if (checked.count(key)) return;
  }

  // The child holds the write end of a pipe: its exit, however it comes,
  // closes it, which wakes the parent at once (no polling delay).
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return;  // cannot check: go without (a safety net)
  pid_t child = -1;
  const rlim_t address_limit = child_address_limit();
  {
    // No other thread of sira is inside HDF5 while the child is made (its
    // copy of the library's state must not be mid-call).
    auto lock = hdf5_lock();
    child = ::fork();
    if (child == 0) {
      ::close(ends[0]);
      child_walk(path.c_str(), address_limit);
    }
  }
  ::close(ends[1]);
  if (child < 0) {
    ::close(ends[0]);
    return;
  }
  const double limit = timeout_seconds();
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > limit) {
      ::close(ends[0]);
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      fail(path, ": the HDF5 library did not finish reading the file's structure in ", limit,
           " s (corrupt file?); SIRA_HDF5_PREFLIGHT_TIMEOUT sets the limit, SIRA_HDF5_PREFLIGHT=0 skips this check");
    }
    pollfd p{ends[0], POLLIN, 0};
    const int r = ::poll(&p, 1, int(std::min(1000.0, (limit - waited) * 1000 + 1)));
    if (r > 0) break;  // closed: the child is gone
    if (r < 0 && errno != EINTR) break;
  }
  ::close(ends[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return;
  if (WIFSIGNALED(status))
    fail(path, ": HDF5 library crashed while reading (", strsignal(WTERMSIG(status)),
         "; corrupt file?). Checked in a separate process; SIRA_HDF5_PREFLIGHT=0 skips this check");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(path, ": HDF5 library failed while reading (exit code ", WEXITSTATUS(status),
         "; corrupt file?). Checked in a separate process; SIRA_HDF5_PREFLIGHT=0 skips this check");
  std::lock_guard<std::mutex> guard(mutex);
  checked.insert(key);
}

}  // namespace sira::io
