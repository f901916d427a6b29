// HDF5 stacks through sira's HDF5 layer (the pre-flight child included): probe
// and read the dataset /data, and one slice of it, as denoise streams a stack.
#include "fuzz_hdf5_timeout.hpp"
#include "fuzz_input_file.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::InputFile file(data, size, ".h5");
  const std::string location = file.path() + ":/data";
  try {
    (void)sira::probe_stack(location);
    (void)sira::read_slices(location, 0, 1);
    (void)sira::read_stack(location);
  } catch (const sira::Error&) {
  }
  return 0;
}
