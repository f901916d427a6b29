// Stream V2 on libcbor: check_cbor() vets the bytes, cbor_load() builds the
// tree, and every field is type-checked before use.
#include "serve/stream_v2.hpp"

#include <cbor.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "serve/cbor_guard.hpp"
#include "serve/lz4_blocks.hpp"
#include "serve/rejection.hpp"
#include "sira/stack.hpp"

namespace sira::serve {
namespace {

constexpr std::uint64_t kSelfDescribed = 55799;
constexpr std::uint64_t kMultiDim = 40;
constexpr std::uint64_t kCompressed = 56500;

struct Decref {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using Item = std::unique_ptr<cbor_item_t, Decref>;

std::string text(const cbor_item_t* item) {
  return std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item));
}

// The value of `key` in a map, or nullptr.
const cbor_item_t* field(const cbor_item_t* map, const char* key) {
  const std::size_t n = cbor_map_size(map), len = std::strlen(key);
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < n; ++i)
    if (cbor_isa_string(pairs[i].key) && cbor_string_length(pairs[i].key) == len &&
        std::memcmp(cbor_string_handle(pairs[i].key), key, len) == 0)
      return pairs[i].value;
  return nullptr;
}

// A tag's content. cbor_tag_item() adds a reference; the tag keeps its own,
// so dropping ours at once leaves the item alive as long as the tree.
const cbor_item_t* tagged(const cbor_item_t* tag) {
  cbor_item_t* inner = cbor_tag_item(tag);
  if (inner) cbor_intermediate_decref(inner);
  return inner;
}

// Skips tags that only describe (0: date/time, 55799: self-described CBOR).
const cbor_item_t* untag_descriptive(const cbor_item_t* item) {
  while (item && cbor_isa_tag(item) && (cbor_tag_value(item) == 0 || cbor_tag_value(item) == kSelfDescribed))
    item = tagged(item);
  return item;
}

std::uint64_t uint_field(const cbor_item_t* map, const char* key, bool required, std::uint64_t fallback = 0) {
  const cbor_item_t* v = untag_descriptive(field(map, key));
  if (!v) {
    if (required) reject(kBadMessage, "no '", key, "' field");
    return fallback;
  }
  if (!cbor_isa_uint(v)) reject(kBadMessage, "'", key, "' is not an unsigned integer");
  return cbor_get_int(v);
}

std::string text_field(const cbor_item_t* map, const char* key) {
  const cbor_item_t* v = untag_descriptive(field(map, key));
  if (!v) return {};
  if (!cbor_isa_string(v)) reject(kBadMessage, "'", key, "' is not a text string");
  return text(v);
}

// A CBOR number (unsigned, negative or float) as a double.
bool number_of(const cbor_item_t* v, double* out) {
  v = untag_descriptive(v);
  if (!v) return false;
  if (cbor_isa_uint(v)) *out = double(cbor_get_int(v));
  else if (cbor_isa_negint(v)) *out = -1.0 - double(cbor_get_int(v));
  else if (cbor_isa_float_ctrl(v) && cbor_float_get_width(v) != CBOR_FLOAT_0) *out = cbor_float_get_float(v);
  else return false;
  return std::isfinite(*out);
}

// user_data fields sira reads (projections mode): "image_type" and
// "angle_deg" of an image, "image_type" and "angles_deg" of a start.
void read_user_data(const cbor_item_t* map, Message& m) {
  const cbor_item_t* u = untag_descriptive(field(map, "user_data"));
  if (!u || !cbor_isa_map(u)) return;  // user_data is free-form: anything else is not ours
  m.image_type = text_field(u, "image_type");
  if (!m.image_type.empty() && m.image_type != "dark" && m.image_type != "flat" && m.image_type != "projection")
    reject(kBadMessage, "user_data image_type '", m.image_type, "' (dark, flat or projection)");
  if (const cbor_item_t* a = field(u, "angle_deg"))
    if (!number_of(a, &m.angle_deg)) reject(kBadMessage, "user_data angle_deg is not a finite number");
  if (const cbor_item_t* a = untag_descriptive(field(u, "angles_deg"))) {
    if (!cbor_isa_array(a)) reject(kBadMessage, "user_data angles_deg is not an array");
    m.angles_deg.resize(cbor_array_size(a));
    for (std::size_t i = 0; i < m.angles_deg.size(); ++i)
      if (!number_of(cbor_array_handle(a)[i], &m.angles_deg[i]))
        reject(kBadMessage, "user_data angles_deg[", i, "] is not a finite number");
  }
}

// RFC 8746 typed-array tag -> sample type and byte order.
bool typed_array(std::uint64_t tag, SampleType* type, bool* big_endian) {
  switch (tag) {
    case 64: *type = SampleType::u8; *big_endian = false; return true;
    case 65: *type = SampleType::u16; *big_endian = true; return true;
    case 66: *type = SampleType::u32; *big_endian = true; return true;
    case 69: *type = SampleType::u16; *big_endian = false; return true;
    case 70: *type = SampleType::u32; *big_endian = false; return true;
    case 85: *type = SampleType::f32; *big_endian = false; return true;
    default: return false;
  }
}

// The samples of a tag-40 multi-dimensional array into `m`.
void decode_image_array(const cbor_item_t* value, const std::string& channel, Message& m) {
  value = untag_descriptive(value);
  if (!value || !cbor_isa_tag(value) || cbor_tag_value(value) != kMultiDim)
    reject(kBadMessage, "channel '", channel, "' is not a tag-40 multi-dimensional array");
  const cbor_item_t* arr = tagged(value);
  if (!arr || !cbor_isa_array(arr) || cbor_array_size(arr) != 2)
    reject(kBadMessage, "channel '", channel, "': tag 40 needs [dimensions, typed array]");
  const cbor_item_t* dims = cbor_array_handle(arr)[0];
  const cbor_item_t* typed = cbor_array_handle(arr)[1];
  if (!cbor_isa_array(dims) || cbor_array_size(dims) != 2)
    reject(kBadSize, "channel '", channel, "': ", cbor_isa_array(dims) ? cbor_array_size(dims) : 0,
           " dimensions, 2 (height, width) expected");
  for (int i = 0; i < 2; ++i)
    if (!cbor_isa_uint(cbor_array_handle(dims)[i]))
      reject(kBadSize, "channel '", channel, "': a dimension is not an unsigned integer");
  const std::uint64_t h = cbor_get_int(cbor_array_handle(dims)[0]), w = cbor_get_int(cbor_array_handle(dims)[1]);
  if (h == 0 || w == 0 || h > kMaxDim || w > kMaxDim || h * w > (std::uint64_t(1) << 28))
    reject(kBadSize, "channel '", channel, "': image ", h, "x", w, " (at most ", kMaxDim, " a side, 2^28 pixels)");
  if (!cbor_isa_tag(typed)) reject(kBadDtype, "channel '", channel, "': samples are not an RFC 8746 typed array");
  bool big_endian = false;
  if (!typed_array(cbor_tag_value(typed), &m.type, &big_endian))
    reject(kBadDtype, "channel '", channel, "': typed-array tag ", cbor_tag_value(typed),
           " (sira takes 64 uint8, 65/69 uint16, 66/70 uint32, 85 float32)");
  const std::size_t elem = sample_size(m.type), expected = std::size_t(h * w) * elem;
  m.height = std::size_t(h);
  m.width = std::size_t(w);
  const cbor_item_t* bytes = tagged(typed);
  if (!bytes) reject(kBadMessage, "channel '", channel, "': empty tag");
  if (cbor_isa_bytestring(bytes)) {
    if (cbor_bytestring_length(bytes) != expected)
      reject(kBadSize, "channel '", channel, "': ", cbor_bytestring_length(bytes), " bytes for ", h, "x", w, " ",
             sample_type_name(m.type), " (", expected, " expected)");
    m.samples.assign(cbor_bytestring_handle(bytes), cbor_bytestring_handle(bytes) + expected);
  } else if (cbor_isa_tag(bytes) && cbor_tag_value(bytes) == kCompressed) {
    const cbor_item_t* c = tagged(bytes);
    if (!c || !cbor_isa_array(c) || cbor_array_size(c) != 3 || !cbor_isa_string(cbor_array_handle(c)[0]) ||
        !cbor_isa_uint(cbor_array_handle(c)[1]) || !cbor_isa_bytestring(cbor_array_handle(c)[2]))
      reject(kBadCompression, "channel '", channel, "': tag 56500 needs [algorithm, element size, bytes]");
    m.compression = text(cbor_array_handle(c)[0]);
    const std::uint64_t elem_size = cbor_get_int(cbor_array_handle(c)[1]);
    const cbor_item_t* data = cbor_array_handle(c)[2];
    const std::uint8_t* p = cbor_bytestring_handle(data);
    const std::size_t n = cbor_bytestring_length(data);
    if (m.compression == "lz4") {
      m.samples = lz4_decode(p, n, expected);
    } else if (m.compression == "bslz4") {
      if (elem_size != elem)
        reject(kBadCompression, "channel '", channel, "': bslz4 element size ", elem_size, " for ",
               sample_type_name(m.type), " samples");
      m.samples = bslz4_decode(p, n, elem, expected);
    } else {
      reject(kBadCompression, "channel '", channel, "': unknown compression '", m.compression,
             "' (sira takes lz4 and bslz4)");
    }
  } else {
    reject(kBadMessage, "channel '", channel, "': the typed array holds neither bytes nor tag 56500");
  }
  if (big_endian)
    for (std::size_t i = 0; i < m.samples.size(); i += elem)
      for (std::size_t a = 0, b = elem - 1; a < b; ++a, --b) std::swap(m.samples[i + a], m.samples[i + b]);
}

}  // namespace

Message decode_stream_v2(const std::uint8_t* data, std::size_t size, const std::string& channel) {
  check_cbor(data, size);
  cbor_load_result result;
  Item root(cbor_load(data, size, &result));
  if (!root || result.error.code != CBOR_ERR_NONE)
    reject(kBadEncoding, "libcbor could not load the message (error ", int(result.error.code), " at byte ",
           result.error.position, ")");
  const cbor_item_t* map = untag_descriptive(root.get());
  if (!cbor_isa_map(map)) reject(kBadMessage, "the message is not a CBOR map");
  const std::string type = text_field(map, "type");
  Message m;
  m.series_unique_id = text_field(map, "series_unique_id");
  if (type == "start") {
    m.kind = MessageKind::start;
    m.series_id = uint_field(map, "series_id", true);
    m.has_series = true;
    m.width = std::size_t(uint_field(map, "image_size_x", false));
    m.height = std::size_t(uint_field(map, "image_size_y", false));
    if (m.width > kMaxDim || m.height > kMaxDim)
      reject(kBadSize, "start: image ", m.height, "x", m.width, " (at most ", kMaxDim, " a side)");
    m.number_of_images = uint_field(map, "number_of_images", false);
    if (const cbor_item_t* ch = field(map, "channels")) {
      if (!cbor_isa_array(ch)) reject(kBadMessage, "'channels' is not an array");
      for (std::size_t i = 0; i < cbor_array_size(ch); ++i) {
        if (!cbor_isa_string(cbor_array_handle(ch)[i])) reject(kBadMessage, "a channel name is not text");
        m.channels.push_back(text(cbor_array_handle(ch)[i]));
      }
    }
    read_user_data(map, m);
  } else if (type == "image") {
    m.kind = MessageKind::image;
    m.series_id = uint_field(map, "series_id", true);
    m.has_series = true;
    m.image_id = uint_field(map, "image_id", true);
    const cbor_item_t* d = field(map, "data");
    if (!d || !cbor_isa_map(d) || cbor_map_size(d) == 0) reject(kBadMessage, "no 'data' map of channels");
    const cbor_pair* pairs = cbor_map_handle(d);
    std::size_t pick = 0;
    if (!channel.empty()) {
      pick = cbor_map_size(d);
      for (std::size_t i = 0; i < cbor_map_size(d); ++i)
        if (cbor_isa_string(pairs[i].key) && text(pairs[i].key) == channel) pick = i;
      if (pick == cbor_map_size(d)) reject(kBadMessage, "no channel '", channel, "' in 'data'");
    }
    if (!cbor_isa_string(pairs[pick].key)) reject(kBadMessage, "a channel name is not text");
    m.channel = text(pairs[pick].key);
    decode_image_array(pairs[pick].value, m.channel, m);
    read_user_data(map, m);
  } else if (type == "end") {
    m.kind = MessageKind::end;
    m.has_series = field(map, "series_id") != nullptr;
    m.series_id = uint_field(map, "series_id", false);
  } else {
    reject(kBadMessage, type.empty() ? std::string("no 'type' field") : cat("unknown message type '", type, "'"));
  }
  return m;
}

// ---- encoding -------------------------------------------------------------

namespace {

class Writer {
 public:
  std::vector<std::uint8_t> bytes;
  void head(std::size_t (*encode)(std::size_t, unsigned char*, std::size_t), std::size_t n) {
    unsigned char buf[16];
    const std::size_t k = encode(n, buf, sizeof buf);
    bytes.insert(bytes.end(), buf, buf + k);
  }
  void map(std::size_t n) { head(cbor_encode_map_start, n); }
  void array(std::size_t n) { head(cbor_encode_array_start, n); }
  void uint(std::uint64_t v) {
    unsigned char buf[16];
    const std::size_t k = cbor_encode_uint(v, buf, sizeof buf);
    bytes.insert(bytes.end(), buf, buf + k);
  }
  void tag(std::uint64_t v) {
    unsigned char buf[16];
    const std::size_t k = cbor_encode_tag(v, buf, sizeof buf);
    bytes.insert(bytes.end(), buf, buf + k);
  }
  void real(double v) {
    unsigned char buf[16];
    const std::size_t k = cbor_encode_double(v, buf, sizeof buf);
    bytes.insert(bytes.end(), buf, buf + k);
  }
  void str(const std::string& s) {
    head(cbor_encode_string_start, s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void bstr(const std::uint8_t* p, std::size_t n) {
    head(cbor_encode_bytestring_start, n);
    bytes.insert(bytes.end(), p, p + n);
  }
};

std::uint64_t typed_tag(SampleType t) {
  switch (t) {
    case SampleType::u8: return 64;
    case SampleType::u16: return 69;
    case SampleType::u32: return 70;
    case SampleType::f32: return 85;
  }
  return 64;
}

}  // namespace

std::vector<std::uint8_t> encode_stream_v2_start(std::uint64_t series_id, const std::string& unique_id,
                                                 std::size_t height, std::size_t width,
                                                 std::uint64_t number_of_images, const std::string& channel,
                                                 const UserData& user) {
  Writer w;
  w.tag(kSelfDescribed);
  const bool has_user = !user.image_type.empty() || !user.angles_deg.empty();
  w.map(has_user ? 8 : 7);
  w.str("type"), w.str("start");
  w.str("series_id"), w.uint(series_id);
  w.str("series_unique_id"), w.str(unique_id);
  w.str("image_size_x"), w.uint(width);
  w.str("image_size_y"), w.uint(height);
  w.str("number_of_images"), w.uint(number_of_images);
  w.str("channels"), w.array(1), w.str(channel);
  if (has_user) {
    w.str("user_data"), w.map(std::size_t(!user.image_type.empty()) + std::size_t(!user.angles_deg.empty()));
    if (!user.image_type.empty()) w.str("image_type"), w.str(user.image_type);
    if (!user.angles_deg.empty()) {
      w.str("angles_deg"), w.array(user.angles_deg.size());
      for (double a : user.angles_deg) w.real(a);
    }
  }
  return std::move(w.bytes);
}

std::vector<std::uint8_t> encode_stream_v2_image(std::uint64_t series_id, const std::string& unique_id,
                                                 std::uint64_t image_id, const std::string& channel,
                                                 std::size_t height, std::size_t width, SampleType type,
                                                 const std::uint8_t* samples, const std::string& compression,
                                                 const UserData& user) {
  const std::size_t elem = sample_size(type), n = height * width * elem;
  Writer w;
  w.tag(kSelfDescribed);
  const bool has_angle = !std::isnan(user.angle_deg), has_user = !user.image_type.empty() || has_angle;
  w.map(has_user ? 6 : 5);
  if (has_user) {
    w.str("user_data"), w.map(std::size_t(!user.image_type.empty()) + std::size_t(has_angle));
    if (!user.image_type.empty()) w.str("image_type"), w.str(user.image_type);
    if (has_angle) w.str("angle_deg"), w.real(user.angle_deg);
  }
  w.str("type"), w.str("image");
  w.str("series_id"), w.uint(series_id);
  w.str("series_unique_id"), w.str(unique_id);
  w.str("image_id"), w.uint(image_id);
  w.str("data"), w.map(1), w.str(channel);
  w.tag(kMultiDim), w.array(2), w.array(2), w.uint(height), w.uint(width);
  w.tag(typed_tag(type));
  if (compression.empty()) {
    w.bstr(samples, n);
  } else {
    std::vector<std::uint8_t> c;
    if (compression == "lz4") c = lz4_encode(samples, n);
    else if (compression == "bslz4") c = bslz4_encode(samples, n, elem);
    else fail("unknown compression '", compression, "' (none, lz4 or bslz4)");
    w.tag(kCompressed), w.array(3), w.str(compression), w.uint(compression == "bslz4" ? elem : 0);
    w.bstr(c.data(), c.size());
  }
  return std::move(w.bytes);
}

std::vector<std::uint8_t> encode_stream_v2_end(std::uint64_t series_id, const std::string& unique_id) {
  Writer w;
  w.tag(kSelfDescribed);
  w.map(3);
  w.str("type"), w.str("end");
  w.str("series_id"), w.uint(series_id);
  w.str("series_unique_id"), w.str(unique_id);
  return std::move(w.bytes);
}

}  // namespace sira::serve
