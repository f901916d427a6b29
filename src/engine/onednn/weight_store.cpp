#include "engine/onednn/weight_store.hpp"

#include <cstring>

#include "engine/backend.hpp"
#include "sira/error.hpp"

namespace sira::onednn {

using dnnl::memory;
using dt = memory::data_type;

void WeightStore::add(const std::string& key, const std::vector<float>& data,
                      const memory::dims& dims, memory::format_tag tag) {
  add_bytes(key, data.data(), data.size() * sizeof(float), memory::desc(dims, dt::f32, tag));
}
void WeightStore::add(const std::string& key, const std::vector<std::int8_t>& data,
                      const memory::dims& dims, memory::format_tag tag) {
  add_bytes(key, data.data(), data.size(), memory::desc(dims, dt::s8, tag));
}
void WeightStore::add(const std::string& key, const std::vector<std::int32_t>& data,
                      const memory::dims& dims, memory::format_tag tag) {
  add_bytes(key, data.data(), data.size() * sizeof(std::int32_t), memory::desc(dims, dt::s32, tag));
}

void WeightStore::add_bytes(const std::string& key, const void* data, std::size_t bytes,
                            const memory::desc& user) {
  if (user.get_size() != bytes)
    fail("oneDNN backend: tensor '", key, "' has ", bytes, " bytes, its shape needs ",
         user.get_size());
  Entry entry;
  entry.user = user;
  entry.bytes.resize(bytes);
  if (bytes) std::memcpy(entry.bytes.data(), data, bytes);
  entries_[key] = std::move(entry);
}

memory WeightStore::packed(const std::string& key, const memory::desc& want) {
  const std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) fail("oneDNN backend: no weights registered as '", key, "'");
  Entry& entry = found->second;
  for (const auto& [desc, mem] : entry.packed)
    if (desc == want) return mem;
  memory user(entry.user, engine_, entry.bytes.data());
  memory target(want, engine_);
  dnnl::reorder(user, target).execute(stream_, user, target);
  stream_.wait();
  entry.packed.emplace_back(want, target);
  count_packed_weight_tensor();
  return target;
}

}  // namespace sira::onednn
