// Model and ModelTensor accessors.
#include "sira/error.hpp"
#include "sira/model.hpp"

namespace sira {

std::size_t ModelTensor::numel() const {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

const ModelTensor& Model::tensor(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) fail("model has no tensor '", name, "'");
  return it->second;
}

}  // namespace sira
