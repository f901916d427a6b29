// What the exported files (ONNX metadata_props, TFLite Metadata) say of the
// normalisation around the network, so that a runtime user can reproduce it.
#pragma once

#include <nlohmann/json.hpp>

#include "sira/model.hpp"

namespace sira {

nlohmann::json normalization_metadata(const Normalization& norm);

}  // namespace sira
