// Model weights for the oneDNN backend: kept once in their PyTorch layout and
// packed (reordered) into whatever layout a primitive asks for the first time it
// asks; later primitives with the same weights descriptor share the packed copy,
// so a stream of tiles or a second input shape never repacks.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace sira::onednn {

class WeightStore {
 public:
  WeightStore(const dnnl::engine& engine, const dnnl::stream& stream)
      : engine_(engine), stream_(stream) {}

  // Registers `data`, laid out as `tag` over the logical oneDNN `dims`
  // (e.g. oihw for a PyTorch Conv2d weight, iohw for a ConvTranspose2d weight).
  void add(const std::string& key, std::vector<float> data, const dnnl::memory::dims& dims,
           dnnl::memory::format_tag tag);

  // The tensor `key` in the layout `want` (reordered on the first request).
  dnnl::memory packed(const std::string& key, const dnnl::memory::desc& want);

 private:
  struct Entry {
    std::vector<float> data;
    dnnl::memory::desc user;  // the PyTorch layout
    std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> packed;
  };
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::map<std::string, Entry> entries_;
};

}  // namespace sira::onednn
