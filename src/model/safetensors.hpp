// The safetensors container, independent of what the tensors mean:
//   u64 little-endian header length N | N bytes JSON header | raw data.
// read_safetensors validates the layout completely (lengths, JSON structure,
// dtypes, shapes, offsets that tile the data section exactly); callers only
// check meaning (names, shapes for a configuration, metadata).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace sira {

inline constexpr std::uint64_t kMaxSafetensorsHeader = 100u << 20;  // 100 MB

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "I8", ... (safetensors spelling)
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets inside the data section
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::vector<SafetensorsEntry> entries;        // sorted by begin
  std::vector<unsigned char> data;              // the data section
};

// "[64,32,3,3]", for messages.
std::string shape_text(const std::vector<std::int64_t>& shape);

// Size in bytes of one element of a safetensors dtype; 0 if unknown.
std::size_t safetensors_dtype_size(const std::string& dtype);

// Reads `path`; every problem is an Error "<path>: <problem>".
SafetensorsFile read_safetensors(const std::string& path);
// The same for a file's bytes held in memory; `name` stands for the path in errors.
SafetensorsFile parse_safetensors(std::span<const unsigned char> bytes, const std::string& name);

// A tensor to write: name, dtype, shape and its little-endian bytes.
struct SafetensorsBlob {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  const void* bytes = nullptr;
  std::size_t size = 0;
};

// Writes atomically (core/atomic_output.hpp: a temporary of this writer's own,
// fsync, rename; removed on failure). The header is padded with
// spaces so the data section starts 8-byte aligned.
void write_safetensors(const std::string& path, const std::map<std::string, std::string>& metadata,
                       const std::vector<SafetensorsBlob>& tensors);

}  // namespace sira
