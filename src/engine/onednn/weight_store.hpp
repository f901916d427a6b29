// Model weights for the oneDNN backend: kept once in their PyTorch layout and
// packed (reordered) into whatever layout a primitive asks for the first time it
// asks; later primitives with the same weights descriptor share the packed copy,
// so a stream of tiles or a second input shape never repacks. Tensors are f32
// (fp32 and bf16 models: the reorder converts to bf16) or, for int8 layers, s8
// weights and s32 biases (the reorder also computes any zero-point compensation
// the int8 kernels want). One store serves every session of a compiled model:
// packed() locks, so concurrent sessions pack each layout once between them.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace sira::onednn {

class WeightStore {
 public:
  explicit WeightStore(const dnnl::engine& engine) : engine_(engine), stream_(engine) {}

  // Registers `data`, laid out as `tag` over the logical oneDNN `dims`
  // (e.g. oihw for a PyTorch Conv2d weight, iohw for a ConvTranspose2d weight).
  void add(const std::string& key, const std::vector<float>& data, const dnnl::memory::dims& dims,
           dnnl::memory::format_tag tag);
  void add(const std::string& key, const std::vector<std::int8_t>& data,
           const dnnl::memory::dims& dims, dnnl::memory::format_tag tag);
  void add(const std::string& key, const std::vector<std::int32_t>& data,
           const dnnl::memory::dims& dims, dnnl::memory::format_tag tag);

  // The tensor `key` in the layout `want` (reordered on the first request).
  // Thread-safe; the memory returned is only ever read.
  dnnl::memory packed(const std::string& key, const dnnl::memory::desc& want);

 private:
  void add_bytes(const std::string& key, const void* data, std::size_t bytes,
                 const dnnl::memory::desc& user);
  struct Entry {
    std::vector<char> bytes;
    dnnl::memory::desc user;  // the PyTorch layout and stored type
    std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> packed;
  };
  dnnl::engine engine_;
  dnnl::stream stream_;  // for the reorders, under mutex_
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace sira::onednn
