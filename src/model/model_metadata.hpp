// The "__metadata__" string map of a sira model file: everything that rebuilds
// the graph and undoes the normalisation (docs/model-format.md lists the keys).
#pragma once

#include <map>
#include <string>

#include "sira/model.hpp"

namespace sira {

std::map<std::string, std::string> model_metadata(const Model& model);

// Fills format_version, arch, config, norm, trained and info of `model` from
// `meta`; every problem is an Error "<where>: <problem>". Versions newer than
// kModelFormatVersion are refused before anything else is interpreted.
void read_model_metadata(const std::map<std::string, std::string>& meta, Model& model,
                         const std::string& where);

// Throws naming the problem if the normalisation is unusable.
void validate_normalization(const Normalization& norm);

}  // namespace sira
