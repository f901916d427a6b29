// Projection files: Data Exchange (/exchange/data, data_white, data_dark,
// theta) or a /sinogram + /angles_rad file, as `sira recon -i FILE` reads them.
#include "fuzz_hdf5_timeout.hpp"
#include "fuzz_input_file.hpp"
#include "sira/error.hpp"
#include "sira/tomo/dxchange.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::InputFile file(data, size, ".h5");
  try {
    sira::tomo::InputReport report;
    (void)sira::tomo::load_projections(file.path(), sira::tomo::ProjectionInput{}, &report);
  } catch (const sira::Error&) {
  }
  return 0;
}
