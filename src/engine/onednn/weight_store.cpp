#include "engine/onednn/weight_store.hpp"

#include "sira/error.hpp"

namespace sira::onednn {

using dnnl::memory;

void WeightStore::add(const std::string& key, std::vector<float> data, const memory::dims& dims,
                      memory::format_tag tag) {
  Entry entry;
  entry.user = memory::desc(dims, memory::data_type::f32, tag);
  if (entry.user.get_size() != data.size() * sizeof(float))
    fail("oneDNN backend: tensor '", key, "' has ", data.size(), " values, its shape needs ",
         entry.user.get_size() / sizeof(float));
  entry.data = std::move(data);
  entries_[key] = std::move(entry);
}

memory WeightStore::packed(const std::string& key, const memory::desc& want) {
  auto found = entries_.find(key);
  if (found == entries_.end()) fail("oneDNN backend: no weights registered as '", key, "'");
  Entry& entry = found->second;
  for (const auto& [desc, mem] : entry.packed)
    if (desc == want) return mem;
  memory user(entry.user, engine_, entry.data.data());
  memory target(want, engine_);
  dnnl::reorder(user, target).execute(stream_, user, target);
  stream_.wait();
  entry.packed.emplace_back(want, target);
  return target;
}

}  // namespace sira::onednn
