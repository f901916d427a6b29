// The OpenMP thread count of the calling thread, restored on scope exit: the
// engine and `threads=` set it for their run, and a Python caller's own
// setting (numpy, other libraries on this thread) must not change for good.
#pragma once

#include <omp.h>

namespace sira::python {

class ScopedThreadCount {
 public:
  ScopedThreadCount() : saved_(omp_get_max_threads()) {}
  ~ScopedThreadCount() { omp_set_num_threads(saved_); }
  ScopedThreadCount(const ScopedThreadCount&) = delete;
  ScopedThreadCount& operator=(const ScopedThreadCount&) = delete;

 private:
  int saved_;
};

}  // namespace sira::python
