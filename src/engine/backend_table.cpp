#include "engine/backend_table.hpp"

#include "sira/error.hpp"

namespace sira {

#ifndef SIRA_HAVE_ONEDNN
std::shared_ptr<const PackedModel> pack_onednn(const Model&, const Graph&, int, LayerPrecision) {
  fail("the oneDNN backend is not available: sira was built without oneDNN "
       "(use --backend ref or auto)");
}
bool onednn_available() { return false; }
std::string onednn_unsupported(const Model&, LayerPrecision) {
  return "sira was built without oneDNN";
}
#endif

#ifndef SIRA_HAVE_XNNPACK
std::shared_ptr<const PackedModel> pack_xnnpack(const Model&, const Graph&, int, LayerPrecision) {
  fail("the XNNPACK backend is not available: sira was built without XNNPACK "
       "(use --backend ref or auto)");
}
bool xnnpack_available() { return false; }
std::string xnnpack_unsupported(const Model&, LayerPrecision) { return "sira was built without XNNPACK"; }
#endif

const std::vector<BackendEntry>& backend_table() {
  static const std::vector<BackendEntry> table{
      {"onednn", false, onednn_unsupported,
       [](const BackendRequest& r) {
         return pack_onednn(r.model, r.graph, r.threads, r.precision);
       }},
      {"xnnpack", false, xnnpack_unsupported,
       [](const BackendRequest& r) {
         return pack_xnnpack(r.model, r.graph, r.threads, r.precision);
       }},
      {"ref", true, [](const Model&, LayerPrecision) { return std::string(); },
       [](const BackendRequest& r) { return pack_ref(r.model, r.graph, r.threads, r.precision, r.observer); }},
  };
  return table;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names{"auto"};
  for (const BackendEntry& e : backend_table()) names.push_back(e.name);
  return names;
}

}  // namespace sira
