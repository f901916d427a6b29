#include "core/reuse_freed_memory.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sira {

void reuse_freed_memory(int keep_mib) {
#if defined(__GLIBC__)
  // 32 MiB is glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit; mallopt refuses more.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, keep_mib * 1024 * 1024);
#else
  (void)keep_mib;  // other C libraries keep their own policy
#endif
}

}  // namespace sira
