// Reading and writing the safetensors container (see safetensors.hpp).
#include "model/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/atomic_output.hpp"
#include "sira/error.hpp"

namespace sira {

using nlohmann::json;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

std::size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes{
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2},
      {"U16", 2},  {"F16", 2}, {"BF16", 2}, {"I32", 4},     {"U32", 4},     {"F32", 4},
      {"I64", 8},  {"U64", 8}, {"F64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

namespace {

std::vector<unsigned char> read_all(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, ": is a directory, not a model file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open model file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, ": cannot determine the file size");
  in.seekg(0);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    fail(path, ": read error");
  return bytes;
}

std::uint64_t read_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const json& j) {
  if (!j.is_object()) fail(path, ": header entry '", name, "' is not an object");
  for (auto& [key, value] : j.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail(path, ": tensor '", name, "' has unknown field '", key, "'");
  SafetensorsEntry e;
  e.name = name;
  if (!j.contains("dtype") || !j["dtype"].is_string())
    fail(path, ": tensor '", name, "' has no dtype string");
  e.dtype = j["dtype"].get<std::string>();
  const std::size_t elem = safetensors_dtype_size(e.dtype);
  if (elem == 0) fail(path, ": tensor '", name, "' has unknown dtype '", e.dtype, "'");

  if (!j.contains("shape") || !j["shape"].is_array())
    fail(path, ": tensor '", name, "' has no shape array");
  if (j["shape"].size() > 8) fail(path, ": tensor '", name, "' has ", j["shape"].size(), " dimensions");
  std::uint64_t bytes = elem;
  for (const json& d : j["shape"]) {
    if (!d.is_number_unsigned())
      fail(path, ": tensor '", name, "' has a shape entry that is not a non-negative integer");
    const std::uint64_t v = d.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        __builtin_mul_overflow(bytes, v, &bytes))
      fail(path, ": tensor '", name, "' shape overflows (", d.dump(), " in ", j["shape"].dump(), ")");
    e.shape.push_back(static_cast<std::int64_t>(v));
  }

  const json& off = j.contains("data_offsets") ? j["data_offsets"] : json();
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned())
    fail(path, ": tensor '", name, "' needs data_offsets [begin, end] of non-negative integers");
  e.begin = off[0].get<std::uint64_t>();
  e.end = off[1].get<std::uint64_t>();
  if (e.end < e.begin)
    fail(path, ": tensor '", name, "' has data_offsets [", e.begin, ", ", e.end, "] with end < begin");
  if (e.end - e.begin != bytes)
    fail(path, ": tensor '", name, "' spans ", e.end - e.begin, " bytes but dtype ", e.dtype,
         " and shape ", shape_text(e.shape), " need ", bytes);
  return e;
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) { return parse_safetensors(read_all(path), path); }

SafetensorsFile parse_safetensors(std::span<const unsigned char> bytes, const std::string& path) {
  if (bytes.size() < 8)
    fail(path, ": file is ", bytes.size(), " bytes, too short for a model file (8-byte header length)");
  const std::uint64_t n = read_u64_le(bytes.data());
  if (n > kMaxSafetensorsHeader)
    fail(path, ": header length ", n, " bytes is absurd (limit ", kMaxSafetensorsHeader,
         "); not a model file?");
  if (n > bytes.size() - 8)
    fail(path, ": header length ", n, " exceeds the file size ", bytes.size(), " (truncated file?)");

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::exception& e) {
    fail(path, ": header is not valid JSON (", e.what(), ")");
  }
  if (!header.is_object()) fail(path, ": header is not a JSON object");

  SafetensorsFile file;
  for (auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(path, ": __metadata__ is not an object");
      for (auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail(path, ": metadata '", mk, "' is not a string");
        file.metadata[mk] = mv.get<std::string>();
      }
    } else {
      file.entries.push_back(parse_entry(path, key, value));
    }
  }

  // The tensors must tile the data section exactly: no gaps, no overlap, no tail.
  std::sort(file.entries.begin(), file.entries.end(),
            [](const auto& a, const auto& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
  const std::uint64_t data_size = bytes.size() - 8 - n;
  std::uint64_t expected = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const auto& e : file.entries) {
    if (e.begin < expected)
      fail(path, ": tensor '", e.name, "' data [", e.begin, ", ", e.end, ") overlaps tensor '",
           previous->name, "'");
    if (e.begin > expected)
      fail(path, ": data bytes [", expected, ", ", e.begin, ") before tensor '", e.name,
           "' belong to no tensor");
    if (e.end > data_size)
      fail(path, ": tensor '", e.name, "' data [", e.begin, ", ", e.end,
           ") lies beyond the end of the data section (", data_size, " bytes; truncated file?)");
    expected = e.end;
    previous = &e;
  }
  if (expected != data_size)
    fail(path, ": ", data_size - expected, " bytes at the end of the file belong to no tensor");
  file.data.assign(bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), bytes.end());
  return file;
}

void write_safetensors(const std::string& path, const std::map<std::string, std::string>& metadata,
                       const std::vector<SafetensorsBlob>& tensors) {
  json header = json::object();
  header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.size}}};
    offset += t.size;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(std::uint64_t(text.size()) >> (8 * i));

  AtomicOutput output(path);
  {
    std::ofstream out(output.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) fail(path, ": cannot create ", output.temp_path());
    out.write(reinterpret_cast<const char*>(length), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : tensors)
      out.write(static_cast<const char*>(t.bytes), static_cast<std::streamsize>(t.size));
    out.close();
    if (!out) fail(path, ": write error (disk full?)");
  }
  output.commit();
}

}  // namespace sira
