// Provenance records and reading them back from each format's own place for
// them (HDF5 attributes, TIFF tags, PNG text); the writers store them
// (stack_stream.cpp, tiff.cpp, png.cpp, hdf5_stream.cpp).
#include "sira/provenance.hpp"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/formats.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"

#ifndef SIRA_VERSION_STRING
#define SIRA_VERSION_STRING "unknown"
#endif

namespace sira {

const char* sira_version() { return SIRA_VERSION_STRING; }

Provenance& Provenance::add(const std::string& key, const std::string& value) {
  fields.emplace_back(key, value);
  return *this;
}
Provenance& Provenance::add(const std::string& key, std::int64_t value) {
  fields.emplace_back(key, value);
  return *this;
}
Provenance& Provenance::add(const std::string& key, double value) {
  fields.emplace_back(key, value);
  return *this;
}

std::string provenance_json(const Provenance& p) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& field : p.fields)  // not a structured binding: clang 14 cannot capture one
    std::visit([&](const auto& v) { j[field.first] = v; }, field.second);
  // Paths and command lines may hold bytes that are not UTF-8: replaced, not refused.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string provenance_text(const Provenance::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", std::get<double>(v));
  return text;
}

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open to hash");
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    for (std::streamsize i = 0; i < in.gcount(); ++i) h = (h ^ static_cast<unsigned char>(buffer[i])) * 1099511628211ull;
  }
  char text[40];
  std::snprintf(text, sizeof text, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return text;
}

namespace {

// A JSON description (TIFF ImageDescription, PNG Description) as its fields;
// any other text as itself.
void add_described(std::vector<std::pair<std::string, std::string>>& out, const std::string& key,
                   const std::string& text) {
  const auto j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.emplace_back(key, text);
    return;
  }
  for (const auto& [k, v] : j.items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_provenance(const std::string& spec) {
  const Location loc = parse_location(spec);
  std::vector<std::pair<std::string, std::string>> out;
  switch (loc.format) {
    case Format::hdf5: {
      const H5File f = H5File::open(loc.file);
      if (!f.has(loc.dataset)) fail(loc.file, ": no dataset '", loc.dataset, "'");
      for (const std::string& name : f.attr_names(loc.dataset)) out.emplace_back(name, f.attr_text(loc.dataset, name));
      break;
    }
    case Format::tiff:
      for (const auto& [key, text] : io::read_tiff_text(loc.file))
        if (key == "ImageDescription") add_described(out, key, text); else out.emplace_back(key, text);
      break;
    case Format::png:
      for (const auto& [key, text] : io::read_png_text(loc.file))
        if (key == "Description") add_described(out, key, text); else out.emplace_back(key, text);
      break;
    case Format::npy: break;  // no place for it in the format
  }
  return out;
}

}  // namespace sira
