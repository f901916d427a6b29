// ONNX export of a sira model (docs/onnx.md): the network on normalised input
// (the normalisation is stated in metadata_props), fp32 or int8 QDQ.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sira/model.hpp"

namespace sira {

// ort: uint8 activations as sira (scale, zero point), int32 bias through
//      DequantizeLinear (scale s_in * s_w). trt: TensorRT's explicit
//      quantisation: int8 activations with zero point 0, float bias.
enum class Int8Profile { ort, trt };

struct OnnxExportOptions {
  int opset = 13;                      // 13 or 17
  Int8Profile profile = Int8Profile::ort;
  std::string source_name;             // model file name, for metadata_props
  std::string source_hash;             // of the model file's bytes (sira::file_hash), for metadata_props
  // More (key, text) pairs for metadata_props: the run's provenance (command, time).
  std::vector<std::pair<std::string, std::string>> provenance;
};

// The serialised ModelProto; throws sira::Error on anything it cannot express.
std::string export_onnx(const Model& model, const OnnxExportOptions& options);

}  // namespace sira
