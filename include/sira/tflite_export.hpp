// TFLite full-integer export of an int8 sira model for the Edge TPU compiler
// (docs/tflite.md): int8 activations, per-axis int8 weights, int32 bias, static
// NHWC shapes (the tile), old operator versions, provenance in the metadata.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sira/model.hpp"

namespace sira {

struct TfliteExportOptions {
  int tile_height = 256;  // the static input shape: 1 x H x W x slices
  int tile_width = 256;
  // Range [lo, hi] (normalised units) of the network's int8 output (before the
  // residual). Unset: every value the final conv can reach (never clips).
  std::optional<std::pair<double, double>> output_range;
  std::string source_name;  // model file name, for the metadata
  std::string source_hash;  // of the model file's bytes (sira::file_hash)
  // More (key, text) pairs for the metadata: the run's provenance (command, time).
  std::vector<std::pair<std::string, std::string>> provenance;
};

// The serialised .tflite FlatBuffer; throws sira::Error on anything it cannot
// express (an fp32 model, a bf16/fp32 layer, a tile that is not a multiple of
// the network's stride, a transposed upsample).
std::string export_tflite(const Model& model, const TfliteExportOptions& options);

}  // namespace sira
