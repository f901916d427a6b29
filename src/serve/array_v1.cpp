#include "serve/array_v1.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "serve/rejection.hpp"
#include "sira/stack.hpp"

namespace sira::serve {

using nlohmann::json;

namespace {

std::uint64_t uint_of(const json& header, const char* key) {
  const json& v = header.at(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    reject(kBadMessage, "array-1.0: '", key, "' is not an unsigned integer");
  return v.get<std::uint64_t>();
}

}  // namespace

Message decode_array_v1(const std::vector<std::string>& parts) {
  if (parts.empty()) reject(kBadEncoding, "array-1.0: empty message");
  json header;
  try {
    header = json::parse(parts[0]);
  } catch (const json::exception& e) {
    reject(kBadEncoding, "array-1.0: header is not JSON (", e.what(), ")");
  }
  if (!header.is_object()) reject(kBadMessage, "array-1.0: header is not a JSON object");
  if (!header.contains("htype") || header["htype"] != "array-1.0")
    reject(kBadMessage, "array-1.0: header has no \"htype\": \"array-1.0\"");
  Message m;
  if (header.contains("series_id")) {
    m.has_series = true;
    m.series_id = uint_of(header, "series_id");
  }
  if (header.contains("end") && header["end"] == true) {
    if (parts.size() != 1) reject(kBadMessage, "array-1.0: an end message has ", parts.size() - 1, " data parts");
    m.kind = MessageKind::end;
    return m;
  }
  m.kind = MessageKind::image;
  if (!header.contains("frame")) reject(kBadMessage, "array-1.0: no \"frame\"");
  m.image_id = uint_of(header, "frame");
  if (!header.contains("type") || !header["type"].is_string()) reject(kBadMessage, "array-1.0: no \"type\"");
  const std::string type = header["type"].get<std::string>();
  if (!parse_sample_type(type, &m.type))
    reject(kBadDtype, "array-1.0: type '", type, "' (sira takes uint8, uint16, uint32, float32)");
  const json& shape = header.contains("shape") ? header["shape"] : json();
  if (!shape.is_array() || shape.size() != 2 || !shape[0].is_number_unsigned() || !shape[1].is_number_unsigned())
    reject(kBadSize, "array-1.0: \"shape\" must be [height, width]");
  const std::uint64_t h = shape[0].get<std::uint64_t>(), w = shape[1].get<std::uint64_t>();
  if (h == 0 || w == 0 || h > kMaxDim || w > kMaxDim || h * w > (std::uint64_t(1) << 28))
    reject(kBadSize, "array-1.0: shape ", h, "x", w, " (at most ", kMaxDim, " a side, 2^28 pixels)");
  m.height = std::size_t(h);
  m.width = std::size_t(w);
  if (parts.size() != 2) reject(kBadSize, "array-1.0: ", parts.size(), " parts (header + data expected)");
  const std::size_t expected = m.height * m.width * sample_size(m.type);
  if (parts[1].size() != expected)
    reject(kBadSize, "array-1.0: ", parts[1].size(), " data bytes for ", h, "x", w, " ", type, " (", expected,
           " expected)");
  m.samples.assign(parts[1].begin(), parts[1].end());
  if (header.contains("image_type")) {
    const json& t = header["image_type"];
    if (!t.is_string() || (t != "dark" && t != "flat" && t != "projection"))
      reject(kBadMessage, "array-1.0: \"image_type\" must be \"dark\", \"flat\" or \"projection\"");
    m.image_type = t.get<std::string>();
  }
  if (header.contains("angle_deg")) {
    const json& a = header["angle_deg"];
    if (!a.is_number() || !std::isfinite(a.get<double>())) reject(kBadMessage, "array-1.0: \"angle_deg\" is not a finite number");
    m.angle_deg = a.get<double>();
  }
  return m;
}

std::string array_v1_header(std::uint64_t frame, std::size_t height, std::size_t width, SampleType type,
                            bool has_series, std::uint64_t series_id, const std::string& extra) {
  json h = json::parse(extra);
  h["htype"] = "array-1.0";
  h["shape"] = {height, width};
  h["type"] = sample_type_name(type);
  h["frame"] = frame;
  if (has_series) h["series_id"] = series_id;
  return h.dump();
}

std::string array_v1_end_header(bool has_series, std::uint64_t series_id) {
  json h = {{"htype", "array-1.0"}, {"end", true}};
  if (has_series) h["series_id"] = series_id;
  return h.dump();
}

}  // namespace sira::serve
