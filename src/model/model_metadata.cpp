// Model metadata <-> safetensors "__metadata__" (a string->string map, as the
// safetensors standard requires; structured values are JSON-encoded strings).
#include "model/model_metadata.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "model/quant_metadata.hpp"
#include "sira/error.hpp"

namespace sira {

using nlohmann::json;

namespace {

// "residual" is optional (absent = false): files from before it stay readable,
// and a sira that predates it refuses a residual model as an unknown key.
const std::set<std::string> kKeys{"format",   "format_version", "arch",          "slices",  "levels",
                                  "widths",   "upsample",       "normalization", "trained", "residual"};
constexpr const char* kInfoPrefix = "info.";

long long parse_integer(const std::string& text, const std::string& key, const std::string& where) {
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    fail(where, ": metadata '", key, "' is '", text, "', expected an integer");
  return v;
}

json parse_json(const std::string& text, const std::string& key, const std::string& where) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) fail(where, ": metadata '", key, "' is not a JSON object");
    return j;
  } catch (const json::exception& e) {
    fail(where, ": metadata '", key, "' is not valid JSON (", e.what(), ")");
  }
}

int json_int(const json& obj, const std::string& field, const std::string& key,
             const std::string& where) {
  if (!obj.contains(field) || !obj[field].is_number_integer())
    fail(where, ": metadata '", key, "' needs an integer '", field, "'");
  const auto v = obj[field].get<long long>();
  if (v < -1000000 || v > 1000000) fail(where, ": metadata '", key, "' field '", field, "' is absurd: ", v);
  return static_cast<int>(v);
}

std::vector<int> json_ints(const json& obj, const std::string& field, const std::string& key,
                           const std::string& where) {
  if (!obj.contains(field) || !obj[field].is_array() || obj[field].size() > 64)
    fail(where, ": metadata '", key, "' needs an integer list '", field, "'");
  std::vector<int> out;
  for (const json& v : obj[field]) {
    if (!v.is_number_integer() || v.get<long long>() < -1000000 || v.get<long long>() > 1000000)
      fail(where, ": metadata '", key, "' field '", field, "' holds ", v.dump(), ", expected integers");
    out.push_back(v.get<int>());
  }
  return out;
}

double json_number(const json& obj, const std::string& field, const std::string& key,
                   const std::string& where) {
  if (!obj.contains(field) || !obj[field].is_number())
    fail(where, ": metadata '", key, "' needs a number '", field, "'");
  return obj[field].get<double>();
}

void check_fields(const json& obj, const std::set<std::string>& allowed, const std::string& key,
                  const std::string& where) {
  for (auto& [k, v] : obj.items())
    if (!allowed.count(k)) fail(where, ": metadata '", key, "' has unknown field '", k, "'");
}

}  // namespace

void validate_normalization(const Normalization& n) {
  if (n.mode != "fixed" && n.mode != "per_image")
    fail("normalisation mode '", n.mode, "' is unknown (expected fixed or per_image)");
  if (!std::isfinite(n.offset)) fail("normalisation offset is not finite");
  if (!std::isfinite(n.scale) || n.scale == 0.0) fail("normalisation scale ", n.scale, " is not a finite non-zero number");
  if (!(n.low_percentile >= 0.0 && n.low_percentile < n.high_percentile && n.high_percentile <= 100.0))
    fail("normalisation percentiles [", n.low_percentile, ", ", n.high_percentile,
         "] are not 0 <= low < high <= 100");
  if (n.block < 1 || n.block > 4096) fail("normalisation block ", n.block, " is not between 1 and 4096");
}

std::map<std::string, std::string> model_metadata(const Model& m) {
  std::map<std::string, std::string> meta;
  meta["format"] = "sira";
  meta["format_version"] = m.quant ? "2" : "1";
  if (m.quant) meta["quantization"] = quant_metadata(*m.quant);
  meta["arch"] = m.arch;
  meta["slices"] = std::to_string(m.config.slices);
  meta["levels"] = std::to_string(m.config.levels());
  meta["widths"] = json{{"stem", m.config.stem},
                        {"encoder", m.config.encoder},
                        {"bottleneck", m.config.bottleneck},
                        {"decoder", m.config.decoder},
                        {"head", m.config.head}}
                       .dump();
  meta["upsample"] = upsample_name(m.config.upsample);
  if (m.config.residual) meta["residual"] = "true";
  json norm{{"mode", m.norm.mode},
            {"offset", m.norm.offset},
            {"scale", m.norm.scale},
            {"percentiles", {m.norm.low_percentile, m.norm.high_percentile}}};
  if (m.norm.block != 1) norm["block"] = m.norm.block;  // absent = 1: older files and readers
  meta["normalization"] = norm.dump();
  meta["trained"] = m.trained ? "true" : "false";
  for (const auto& [k, v] : m.info) meta[kInfoPrefix + k] = v;
  return meta;
}

void read_model_metadata(const std::map<std::string, std::string>& meta, Model& m,
                         const std::string& where) {
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = meta.find(key);
    if (it == meta.end()) fail(where, ": metadata '", key, "' is missing");
    return it->second;
  };
  if (meta.empty()) fail(where, ": no sira metadata (a plain safetensors file, not a sira model?)");
  if (get("format") != "sira") fail(where, ": metadata 'format' is '", get("format"), "', expected 'sira'");
  const long long version = parse_integer(get("format_version"), "format_version", where);
  if (version > kModelFormatVersion)
    fail(where, ": model format version ", version, " is newer than this sira supports (",
         kModelFormatVersion, "); upgrade sira to read it");
  if (version < 1) fail(where, ": model format version ", version, " is invalid");
  m.format_version = static_cast<int>(version);

  for (const auto& [key, value] : meta) {
    if (kKeys.count(key) || key == "quantization") continue;
    if (key.rfind(kInfoPrefix, 0) == 0 && key.size() > std::string(kInfoPrefix).size()) {
      m.info[key.substr(std::string(kInfoPrefix).size())] = value;
      continue;
    }
    fail(where, ": unknown metadata key '", key, "'");
  }

  m.arch = get("arch");
  if (m.arch != "tomogan") fail(where, ": architecture '", m.arch, "' is unknown (expected tomogan)");

  TomoganConfig cfg;
  cfg.slices = static_cast<int>(std::clamp(parse_integer(get("slices"), "slices", where), -1LL, 1000000LL));
  const long long levels = parse_integer(get("levels"), "levels", where);
  const json widths = parse_json(get("widths"), "widths", where);
  check_fields(widths, {"stem", "encoder", "bottleneck", "decoder", "head"}, "widths", where);
  cfg.stem = json_int(widths, "stem", "widths", where);
  cfg.encoder = json_ints(widths, "encoder", "widths", where);
  cfg.bottleneck = json_int(widths, "bottleneck", "widths", where);
  cfg.decoder = json_ints(widths, "decoder", "widths", where);
  cfg.head = json_int(widths, "head", "widths", where);
  try {
    cfg.upsample = parse_upsample(get("upsample"));
    cfg.validate();
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  if (const auto r = meta.find("residual"); r != meta.end()) {
    if (r->second != "true" && r->second != "false")
      fail(where, ": metadata 'residual' is '", r->second, "', expected true or false");
    cfg.residual = r->second == "true";
  }
  if (levels != cfg.levels())
    fail(where, ": metadata 'levels' is ", levels, " but 'widths' describes ", cfg.levels(), " levels");
  m.config = cfg;

  const json norm = parse_json(get("normalization"), "normalization", where);
  check_fields(norm, {"mode", "offset", "scale", "percentiles", "block"}, "normalization", where);
  if (!norm.contains("mode") || !norm["mode"].is_string())
    fail(where, ": metadata 'normalization' needs a string 'mode'");
  m.norm.mode = norm["mode"].get<std::string>();
  m.norm.offset = json_number(norm, "offset", "normalization", where);
  m.norm.scale = json_number(norm, "scale", "normalization", where);
  if (!norm.contains("percentiles") || !norm["percentiles"].is_array() || norm["percentiles"].size() != 2 ||
      !norm["percentiles"][0].is_number() || !norm["percentiles"][1].is_number())
    fail(where, ": metadata 'normalization' needs 'percentiles': [low, high]");
  m.norm.low_percentile = norm["percentiles"][0].get<double>();
  m.norm.high_percentile = norm["percentiles"][1].get<double>();
  if (norm.contains("block")) m.norm.block = json_int(norm, "block", "normalization", where);
  try {
    validate_normalization(m.norm);
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }

  const std::string& trained = get("trained");
  if (trained != "true" && trained != "false")
    fail(where, ": metadata 'trained' is '", trained, "', expected true or false");
  m.trained = trained == "true";

  const auto quant = meta.find("quantization");
  if (m.format_version >= 2 && quant == meta.end())
    fail(where, ": metadata 'quantization' is missing (format version 2 is a quantised model)");
  if (m.format_version < 2 && quant != meta.end())
    fail(where, ": metadata 'quantization' needs format version 2, the file says ", m.format_version);
  if (quant != meta.end()) m.quant = parse_quant_metadata(quant->second, where);
}

}  // namespace sira
