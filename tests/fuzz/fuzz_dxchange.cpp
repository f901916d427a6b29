// Projection files: Data Exchange (/exchange/data, data_white, data_dark,
// theta) or a /sinogram + /angles_rad file, as `sira recon -i FILE` reads them.
#include <cstdlib>

#include "fuzz_input_file.hpp"
#include "sira/error.hpp"
#include "sira/tomo/dxchange.hpp"

// libhdf5 can spin on a damaged file: the pre-flight child gets 10 s (not 300)
// before the file is refused, well inside libFuzzer's 30 s per input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::setenv("SIRA_HDF5_PREFLIGHT_TIMEOUT", "10", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::InputFile file(data, size, ".h5");
  try {
    sira::tomo::InputReport report;
    (void)sira::tomo::load_projections(file.path(), sira::tomo::ProjectionInput{}, &report);
  } catch (const sira::Error&) {
  }
  return 0;
}
