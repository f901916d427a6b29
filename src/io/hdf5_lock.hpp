// Debian's HDF5 is built without --enable-threadsafe: the library must never be
// entered by two threads at once. Code that uses HDF5 from more than one thread
// (the slice-wise readers and writers of stack_stream.hpp) holds this lock
// around every HDF5 call, including the closing of handles.
#pragma once

#include <mutex>

namespace sira::io {

std::recursive_mutex& hdf5_mutex();

inline std::unique_lock<std::recursive_mutex> hdf5_lock() {
  return std::unique_lock<std::recursive_mutex>(hdf5_mutex());
}

}  // namespace sira::io
