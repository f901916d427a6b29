#include "serve/cbor_guard.hpp"

#include <cbor.h>

#include <string>
#include <vector>

#include "serve/rejection.hpp"

namespace sira::serve {
namespace {

struct Walk {
  std::vector<std::uint64_t> open;  // items still expected by each open container
  std::size_t remaining = 0;        // bytes from the item being decoded to the end
  std::size_t max_depth = 16;
  bool top_done = false;
  const char* error = nullptr;

  void item() {
    while (!open.empty()) {
      if (--open.back() != 0) return;
      open.pop_back();  // the container is complete: one item of its parent
    }
    top_done = true;
  }
  void container(std::uint64_t items) {
    if (items == 0) return item();
    if (items > remaining) {
      error = "a container declares more entries than bytes remain";
      return;
    }
    if (open.size() >= max_depth) {
      error = "nested too deep";
      return;
    }
    open.push_back(items);
  }
};

Walk& of(void* context) { return *static_cast<Walk*>(context); }
void on_int8(void* c, std::uint8_t) { of(c).item(); }
void on_int16(void* c, std::uint16_t) { of(c).item(); }
void on_int32(void* c, std::uint32_t) { of(c).item(); }
void on_int64(void* c, std::uint64_t) { of(c).item(); }
void on_string(void* c, cbor_data, std::size_t) { of(c).item(); }
void on_indefinite(void* c) { of(c).error = "indefinite-length item"; }
void on_array(void* c, std::size_t n) { of(c).container(n); }
void on_map(void* c, std::size_t n) {
  if (n > SIZE_MAX / 2) of(c).error = "map too large";
  else of(c).container(std::uint64_t(n) * 2);
}
void on_tag(void* c, std::uint64_t) { of(c).container(1); }
void on_float(void* c, float) { of(c).item(); }
void on_double(void* c, double) { of(c).item(); }
void on_simple(void* c) { of(c).item(); }
void on_bool(void* c, bool) { of(c).item(); }

cbor_callbacks make_callbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = on_int8;
  cb.uint16 = on_int16;
  cb.uint32 = on_int32;
  cb.uint64 = on_int64;
  cb.negint8 = on_int8;
  cb.negint16 = on_int16;
  cb.negint32 = on_int32;
  cb.negint64 = on_int64;
  cb.byte_string = on_string;
  cb.byte_string_start = on_indefinite;
  cb.string = on_string;
  cb.string_start = on_indefinite;
  cb.array_start = on_array;
  cb.indef_array_start = on_indefinite;
  cb.map_start = on_map;
  cb.indef_map_start = on_indefinite;
  cb.tag = on_tag;
  cb.float2 = on_float;
  cb.float4 = on_float;
  cb.float8 = on_double;
  cb.undefined = on_simple;
  cb.null = on_simple;
  cb.boolean = on_bool;
  cb.indef_break = on_indefinite;
  return cb;
}

}  // namespace

void check_cbor(const std::uint8_t* data, std::size_t size, std::size_t max_depth) {
  static const cbor_callbacks callbacks = make_callbacks();
  Walk walk;
  walk.max_depth = max_depth;
  std::size_t pos = 0;
  if (size == 0) reject(kBadEncoding, "empty message");
  while (!walk.top_done) {
    if (pos >= size) reject(kBadEncoding, "CBOR truncated at byte ", pos, " of ", size);
    walk.remaining = size - pos;  // a bound for a container's entries (its head included)
    const cbor_decoder_result r = cbor_stream_decode(data + pos, size - pos, &callbacks, &walk);
    if (r.status == CBOR_DECODER_NEDATA)
      reject(kBadEncoding, "CBOR truncated at byte ", pos, " of ", size);
    if (r.status != CBOR_DECODER_FINISHED) reject(kBadEncoding, "malformed CBOR at byte ", pos);
    pos += r.read;
    if (walk.error) reject(kBadEncoding, "CBOR at byte ", pos - r.read, ": ", walk.error);
  }
  if (pos != size) reject(kBadEncoding, size - pos, " bytes after the CBOR item");
}

}  // namespace sira::serve
