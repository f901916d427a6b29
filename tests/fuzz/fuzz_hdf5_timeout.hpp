// Included by the HDF5 targets (hdf5, dxchange), once per target: libhdf5 can
// spin on a damaged file, so the pre-flight child gets 10 s (not 300) before
// the file is refused, well inside libFuzzer's 30 s per input.
#pragma once

#include <cstdlib>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::setenv("SIRA_HDF5_PREFLIGHT_TIMEOUT", "10", 0);
  return 0;
}
