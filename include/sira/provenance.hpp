// What made an output: sira's version, the command line, the model and its
// hash, precision, backend, tiling, rotation centre... (docs/provenance.md).
// Writers store it with the data: HDF5 dataset attributes (integers as
// integers), TIFF Software + ImageDescription (JSON), PNG text chunks. A .npy
// file has no place for it (its header admits only three keys).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sira {

struct Provenance {
  using Value = std::variant<std::string, std::int64_t, double>;
  std::vector<std::pair<std::string, Value>> fields;  // in the order added

  Provenance& add(const std::string& key, const std::string& value);
  Provenance& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  Provenance& add(const std::string& key, std::int64_t value);
  Provenance& add(const std::string& key, int value) { return add(key, std::int64_t(value)); }
  Provenance& add(const std::string& key, std::size_t value) { return add(key, std::int64_t(value)); }
  Provenance& add(const std::string& key, double value);
  bool empty() const { return fields.empty(); }
};

// The version of sira that was built ("0.1.0").
const char* sira_version();

// {"key": value, ...}: strings JSON-escaped, numbers as numbers.
std::string provenance_json(const Provenance& p);

// A value as text (integers without a decimal point, doubles to 17 digits).
std::string provenance_text(const Provenance::Value& v);

// Content hash of a file for provenance: "fnv1a64:<16 hex digits>" (an
// identity check, not a cryptographic one).
std::string file_hash(const std::string& path);

// What a sira output says made it, as (key, text) pairs: the attributes of an
// HDF5 dataset, a TIFF's Software and ImageDescription, a PNG's text chunks.
// Empty when the file carries none (or is .npy).
std::vector<std::pair<std::string, std::string>> read_provenance(const std::string& spec);

}  // namespace sira
