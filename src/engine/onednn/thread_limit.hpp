// Debian's libdnnl2 is built with the OpenMP runtime (DNNL_CPU_RUNTIME ==
// DNNL_RUNTIME_OMP, libgomp): a primitive runs on omp_get_max_threads() of the
// calling thread, read both when the primitive is created (jit kernels split
// their work for that count) and when it executes. This guard sets the
// backend's thread count for one scope and restores the caller's afterwards.
#pragma once

#include <omp.h>

namespace sira::onednn {

class ThreadLimit {
 public:
  explicit ThreadLimit(int threads) : previous_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ThreadLimit() { omp_set_num_threads(previous_); }
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int previous_;
};

}  // namespace sira::onednn
