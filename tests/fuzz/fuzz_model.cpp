// Model files (safetensors header + tensors + sira metadata): load, then build
// the graph the engine would run, as `sira denoise -m FILE` does first.
#include "fuzz_input_file.hpp"
#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::InputFile file(data, size, ".sira");
  try {
    const sira::Model model = sira::load_model(file.path());
    (void)sira::build_graph(model.config);
  } catch (const sira::Error&) {  // a clear refusal is the expected outcome
  }
  return 0;
}
