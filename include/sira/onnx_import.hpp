// ONNX import (docs/onnx.md, "Import"): a TomoGAN-family fp32 graph, as sira's
// own exporter or PyTorch's torch.onnx.export writes it, becomes a sira Model
// (configuration + OIHW weights). Anything sira cannot compute exactly (an
// unsupported operator, a resize mode sira does not have, another topology, a
// weight that is not fp32) is refused with an error naming the ONNX node or tensor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sira/model.hpp"

namespace sira {

struct OnnxImportResult {
  Model model;
  // What the import assumed because the file did not say (e.g. no sira
  // normalisation in metadata_props): the caller states them to the user.
  std::vector<std::string> notes;
};

// Parses a serialised ModelProto; throws sira::Error (without the file name).
OnnxImportResult import_onnx(std::string_view bytes);

}  // namespace sira
