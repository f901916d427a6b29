// ONNX files for `sira import`: the protobuf decoder (protobuf_reader) and the
// graph matcher on arbitrary bytes, then the configuration the engine would
// build, as `sira import` does before writing. A clear refusal (sira::Error)
// is the expected outcome of nearly every input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const sira::OnnxImportResult r =
        sira::import_onnx(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)sira::build_graph(r.model.config);
  } catch (const sira::Error&) {
  }
  return 0;
}
