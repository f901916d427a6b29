// The "quantization" metadata of a version-2 model file (docs/model-format.md)
// and the checks that make a set of quantisation parameters usable: every
// node has activation parameters, every weighted layer a precision, and
// tensors joined by a pool/upsample/concat share one scale.
#pragma once

#include <string>

#include "sira/graph.hpp"
#include "sira/quant_params.hpp"

namespace sira {

std::string quant_metadata(const QuantParams& q);

// Parses the JSON (structure and value ranges only); errors "<where>: ...".
QuantParams parse_quant_metadata(const std::string& text, const std::string& where);

// Names, precisions and shared scales against the graph; errors "<where>: ...".
// Does not look at the int8 tensors (model_file.cpp does).
void validate_quant_params(const QuantParams& q, const Graph& graph, const std::string& where);

// The node whose output tensor a weighted node reads.
const Node& quant_input_node(const Graph& graph, const Node& layer);

// Whether a weighted node is the transposed upsample, whose weight layout
// [in, out, 2, 2] holds the output channel in dimension 1 (a conv's in 0).
bool is_transposed_layer(const Node& layer);

}  // namespace sira
