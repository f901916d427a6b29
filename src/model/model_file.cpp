// load_model / save_model: a sira model is a safetensors file whose metadata
// rebuilds the TomoGAN configuration and whose tensors are exactly the ones
// that configuration needs (expected_tensors), fp32, finite.
#include <bit>
#include <cmath>
#include <cstring>
#include <set>

#include "model/model_metadata.hpp"
#include "model/safetensors.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"

namespace sira {

namespace {

static_assert(std::endian::native == std::endian::little,
              "model files store little-endian floats; add byte swapping for this platform");

void check_finite(const std::string& where, const std::string& name, const std::vector<float>& data) {
  for (std::size_t i = 0; i < data.size(); ++i)
    if (!std::isfinite(data[i]))
      fail(where, ": tensor '", name, "' holds a non-finite value (", data[i], ") at element ", i);
}

// The tensors of `model` must be exactly those of its configuration.
void check_tensors(const Model& model, const std::string& where) {
  const auto specs = expected_tensors(model.config);
  std::set<std::string> expected;
  for (const auto& spec : specs) {
    expected.insert(spec.name);
    auto it = model.tensors.find(spec.name);
    if (it == model.tensors.end()) fail(where, ": tensor '", spec.name, "' is missing");
    if (it->second.shape != spec.shape)
      fail(where, ": tensor '", spec.name, "' has shape ", shape_text(it->second.shape), ", expected ",
           shape_text(spec.shape), " for this configuration");
    if (it->second.data.size() != it->second.numel())
      fail(where, ": tensor '", spec.name, "' holds ", it->second.data.size(), " values for shape ",
           shape_text(spec.shape));
    check_finite(where, spec.name, it->second.data);
  }
  for (const auto& [name, t] : model.tensors)
    if (!expected.count(name))
      fail(where, ": unexpected tensor '", name, "' (not part of this configuration)");
}

}  // namespace

Model load_model(const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  Model model;
  read_model_metadata(file.metadata, model, path);

  for (const auto& e : file.entries) {
    if (e.dtype != "F32")
      fail(path, ": tensor '", e.name, "' has dtype ", e.dtype, "; format version ",
           model.format_version, " stores F32 tensors only");
    ModelTensor t;
    t.shape = e.shape;
    t.data.resize((e.end - e.begin) / sizeof(float));
    if (!t.data.empty()) std::memcpy(t.data.data(), file.data.data() + e.begin, e.end - e.begin);
    model.tensors.emplace(e.name, std::move(t));
  }
  check_tensors(model, path);
  return model;
}

void save_model(const Model& model, const std::string& path) {
  if (model.format_version != kModelFormatVersion)
    fail(path, ": cannot write format version ", model.format_version, " (this sira writes version ",
         kModelFormatVersion, ")");
  if (model.arch != "tomogan") fail(path, ": architecture '", model.arch, "' is unknown");
  try {
    model.config.validate();
    validate_normalization(model.norm);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  for (const auto& [key, value] : model.info)
    if (key.empty()) fail(path, ": info keys must not be empty");
  check_tensors(model, path);

  std::vector<SafetensorsBlob> blobs;
  for (const auto& spec : expected_tensors(model.config)) {
    const ModelTensor& t = model.tensors.at(spec.name);
    blobs.push_back({spec.name, "F32", t.shape, t.data.data(), t.data.size() * sizeof(float)});
  }
  write_safetensors(path, model_metadata(model), blobs);
}

}  // namespace sira
