// The OpenMP thread count of the calling thread, set for one scope and restored
// on exit. Debian's libdnnl2 runs on the OpenMP runtime (libgomp): a primitive
// uses omp_get_max_threads() of the calling thread when it is created (jit
// kernels split their work for that count) and when it executes. The Python
// binding restores a caller's own setting (numpy, other libraries on its
// thread), which the engine and `threads=` would otherwise change for good.
#pragma once

#include <omp.h>

namespace sira {

class ThreadLimit {
 public:
  // threads <= 0 keeps the current count (and still restores it on exit).
  explicit ThreadLimit(int threads) : previous_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ThreadLimit() { omp_set_num_threads(previous_); }
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int previous_;
};

}  // namespace sira
