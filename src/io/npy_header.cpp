#include "io/npy_header.hpp"

#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "sira/error.hpp"

namespace sira::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kMaxAxis = std::size_t(1) << 40;  // beyond any real axis; check_dims decides

// A cursor over the header dict literal; every step checks for the end.
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& file) : text_(text), file_(file) {}

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!at(c)) bad(cat("expected '", c, "'"));
    ++pos_;
  }
  std::string quoted() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      bad("expected a quoted string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string s = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    if (text_.compare(pos_, 4, "True") == 0) { pos_ += 4; return true; }
    if (text_.compare(pos_, 5, "False") == 0) { pos_ += 5; return false; }
    bad("expected True or False");
  }
  std::size_t integer() {
    skip_space();
    std::size_t v = 0, digits = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      v = v * 10 + static_cast<std::size_t>(text_[pos_++] - '0');
      if (++digits > 13 || v > kMaxAxis) bad("shape value too large");
    }
    if (digits == 0) bad("expected a number in the shape");
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long
    return v;
  }
  std::vector<std::size_t> tuple() {
    expect('(');
    std::vector<std::size_t> values;
    while (!at(')')) {
      values.push_back(integer());
      if (values.size() > 32) bad("too many dimensions");
      if (!at(')')) expect(',');
    }
    expect(')');
    return values;
  }
  [[noreturn]] void bad(const std::string& what) const {
    fail(file_, ": corrupt .npy header (", what, " at offset ", pos_, " of \"", text_, "\")");
  }

 private:
  const std::string& text_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

SampleType parse_descr(const std::string& descr, const std::string& file) {
  auto bad = [&](const char* why) -> SampleType {
    fail(file, ": .npy sample type '", descr, "' ", why);
  };
  if (descr.size() < 3) return bad("is not understood");
  SampleType t;
  const char order = descr[0];
  if (order == '>') t.big_endian = true;
  else if (order == '<' || order == '|' || order == '=') t.big_endian = false;
  else return bad("has an unknown byte order");
  if (order == '=') t.big_endian = (std::endian::native == std::endian::big);
  const std::string size_text = descr.substr(2);
  if (size_text != "1" && size_text != "2" && size_text != "4" && size_text != "8")
    return bad("has an unsupported size");
  t.size = static_cast<std::size_t>(size_text[0] - '0');
  switch (descr[1]) {
    case 'u': t.kind = SampleKind::unsigned_int; break;
    case 'i': t.kind = SampleKind::signed_int; break;
    case 'f':
      t.kind = SampleKind::ieee_float;
      if (t.size != 4 && t.size != 8) return bad("is not supported (only float32 and float64)");
      break;
    default: return bad("is not supported (expected integers or floats, e.g. '<u2', '<f4')");
  }
  return t;
}

}  // namespace

NpyHeader read_npy_header(std::istream& in, std::size_t file_size, const std::string& file) {
  unsigned char prefix[kMagicSize + 2];
  if (!in.read(reinterpret_cast<char*>(prefix), sizeof prefix) ||
      std::memcmp(prefix, kMagic, kMagicSize) != 0)
    fail(file, ": not a .npy file (bad magic bytes)");
  const int major = prefix[kMagicSize];
  if (major < 1 || major > 3) fail(file, ": unsupported .npy format version ", major);

  std::size_t header_len = 0;
  std::size_t header_start = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) fail(file, ": truncated .npy header");
    header_len = b[0] | (std::size_t(b[1]) << 8);
    header_start = 10;
  } else {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) fail(file, ": truncated .npy header");
    header_len = b[0] | (std::size_t(b[1]) << 8) | (std::size_t(b[2]) << 16) |
                 (std::size_t(b[3]) << 24);
    header_start = 12;
  }
  if (header_len > file_size || header_start + header_len > file_size)
    fail(file, ": .npy header length ", header_len, " exceeds the file size ", file_size);
  std::string text(header_len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(header_len)))
    fail(file, ": truncated .npy header");

  NpyHeader h;
  h.data_offset = header_start + header_len;
  bool have_descr = false, have_order = false, have_shape = false;
  DictParser p(text, file);
  p.expect('{');
  while (!p.at('}')) {
    const std::string key = p.quoted();
    p.expect(':');
    if (key == "descr") {
      if (p.at('[')) p.bad("structured arrays are not supported");
      h.type = parse_descr(p.quoted(), file);
      have_descr = true;
    } else if (key == "fortran_order") {
      h.fortran_order = p.boolean();
      have_order = true;
    } else if (key == "shape") {
      h.shape = p.tuple();
      have_shape = true;
    } else {
      p.bad(cat("unknown key '", key, "'"));
    }
    if (!p.at('}')) p.expect(',');
  }
  if (!have_descr || !have_order || !have_shape)
    p.bad("missing 'descr', 'fortran_order' or 'shape'");
  return h;
}

std::string make_npy_header(const std::string& descr, const std::vector<std::size_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    dict += (shape.size() == 1 || i + 1 < shape.size()) ? "," : "";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // Magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicSize);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

}  // namespace sira::io
