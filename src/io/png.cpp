// PNG images through libpng: 8- and 16-bit grayscale only (PNG is for
// previews and small images; colour is refused rather than silently mixed
// into one channel). libpng reports errors by longjmp, so every libpng call
// runs inside `guarded()`, whose frame holds no C++ objects.
#include <png.h>

#include <bit>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/atomic_output.hpp"
#include "io/formats.hpp"
#include "io/samples.hpp"
#include "io/slice_range.hpp"
#include "sira/error.hpp"

namespace sira::io {

namespace {

struct PngError {
  char message[256] = {};
};

[[noreturn]] void on_png_error(png_structp png, png_const_charp message) {
  auto* error = static_cast<PngError*>(png_get_error_ptr(png));
  std::snprintf(error->message, sizeof error->message, "%s", message);
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

using PngStep = void (*)(png_structp, png_infop, void*);

// Runs `step`; returns false if libpng raised an error (message in PngError).
bool guarded(png_structp png, png_infop info, PngStep step, void* context) {
  if (setjmp(png_jmpbuf(png))) return false;
  step(png, info, context);
  return true;
}

class CFile {
 public:
  CFile(const std::string& path, const char* mode) : fp_(std::fopen(path.c_str(), mode)) {}
  ~CFile() { close(); }
  CFile(const CFile&) = delete;
  CFile& operator=(const CFile&) = delete;
  FILE* get() const { return fp_; }
  bool close() {
    if (!fp_) return true;
    const bool ok = std::fclose(fp_) == 0;
    fp_ = nullptr;
    return ok;
  }

 private:
  FILE* fp_;
};

class PngReader {
 public:
  explicit PngReader(PngError* error) {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, on_png_error, on_png_warning);
    if (png_) info_ = png_create_info_struct(png_);
  }
  ~PngReader() { png_destroy_read_struct(&png_, &info_, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

struct PngHeader {
  FILE* fp = nullptr;
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
};

void read_header_step(png_structp png, png_infop info, void* context) {
  auto* h = static_cast<PngHeader*>(context);
  png_init_io(png, h->fp);
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  png_get_IHDR(png, info, &h->width, &h->height, &h->bit_depth, &h->color_type, nullptr, nullptr,
               nullptr);
}

struct PngRows {
  png_bytepp rows = nullptr;
  int bit_depth = 8;
};

void read_rows_step(png_structp png, png_infop info, void* context) {
  auto* r = static_cast<PngRows*>(context);
  if (r->bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  png_read_image(png, r->rows);
  png_read_end(png, nullptr);
}

const char* color_name(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grayscale with alpha";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    default: return "unknown colour type";
  }
}

struct Opened {
  CFile file;
  PngError error;
  PngReader reader{&error};
  PngHeader header;
  DType dtype = DType::u8;
  explicit Opened(const std::string& path) : file(path, "rb") {}
};

// Bytes of compressed image data (the IDAT chunks) in the file: a PNG cannot
// decode to more than deflate's 1032x of them, so a tiny file declaring a huge
// image is refused before the image is allocated. False if the chunk list is
// broken (libpng then reports the details).
bool idat_bytes(FILE* fp, std::uint64_t file_size, std::uint64_t* total) {
  const long start = std::ftell(fp);
  std::uint64_t pos = 8, sum = 0;
  bool ok = false;
  unsigned char head[8];
  while (pos + 12 <= file_size && std::fseek(fp, long(pos), SEEK_SET) == 0 &&
         std::fread(head, 1, 8, fp) == 8) {
    const std::uint64_t length = (std::uint64_t(head[0]) << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
    if (std::memcmp(head + 4, "IDAT", 4) == 0) sum += length;
    if (std::memcmp(head + 4, "IEND", 4) == 0) {
      ok = true;
      break;
    }
    pos += 12 + length;
  }
  std::fseek(fp, start, SEEK_SET);
  *total = std::min(sum, file_size);
  return ok || sum > 0;
}

// Opens the file and validates its header; pixels are not read yet.
std::unique_ptr<Opened> open_png(const std::string& path) {
  auto f = std::make_unique<Opened>(path);
  if (!f->file.get()) fail(path, ": cannot open (", std::strerror(errno), ")");
  unsigned char signature[8];
  if (std::fread(signature, 1, 8, f->file.get()) != 8 || png_sig_cmp(signature, 0, 8) != 0)
    fail(path, ": not a PNG file");
  if (!f->reader.png() || !f->reader.info()) fail(path, ": out of memory for libpng");
  f->header.fp = f->file.get();
  if (!guarded(f->reader.png(), f->reader.info(), read_header_step, &f->header))
    fail(path, ": corrupt PNG (", f->error.message, ")");
  const PngHeader& h = f->header;
  if (h.color_type != PNG_COLOR_TYPE_GRAY)
    fail(path, ": ", color_name(h.color_type),
         " PNG refused: sira reads only 8- or 16-bit grayscale PNGs (convert it to grayscale first)");
  if (h.bit_depth != 8 && h.bit_depth != 16)
    fail(path, ": ", h.bit_depth, "-bit grayscale PNG refused: only 8- or 16-bit are read");
  check_dims(1, h.height, h.width, path);
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  std::uint64_t stored = 0;
  const std::uint64_t decoded = std::uint64_t(h.height) * h.width * (h.bit_depth / 8);
  if (ec || !idat_bytes(f->file.get(), file_size, &stored) || decoded > stored * 1032 + 1032)
    fail(path, ": declares ", h.width, "x", h.height, " (", decoded, " bytes) but holds only ",
         stored, " bytes of compressed image data (at most ", stored * 1032,
         " bytes decoded; truncated or corrupt PNG)");
  f->dtype = h.bit_depth == 16 ? DType::u16 : DType::u8;
  return f;
}

struct PngImage {
  FILE* fp = nullptr;
  png_uint_32 width = 0, height = 0;
  int bit_depth = 8;
  png_bytepp rows = nullptr;
  std::vector<png_text> text;
};

void write_step(png_structp png, png_infop info, void* context) {
  auto* img = static_cast<PngImage*>(context);
  png_init_io(png, img->fp);
  png_set_IHDR(png, info, img->width, img->height, img->bit_depth, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!img->text.empty()) png_set_text(png, info, img->text.data(), int(img->text.size()));
  png_write_info(png, info);
  if (img->bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  png_write_image(png, img->rows);
  png_write_end(png, nullptr);
}

}  // namespace

StackInfo probe_png(const std::string& file) {
  const auto f = open_png(file);
  return StackInfo{1, f->header.height, f->header.width, f->dtype, true};
}

Stack read_png(const std::string& file, std::size_t first, std::size_t count) {
  const auto f = open_png(file);
  resolve_slice_count(1, first, count, file);
  check_sample_budget(std::size_t(f->header.height) * f->header.width, file);
  Stack s(1, f->header.height, f->header.width, f->dtype);
  const std::size_t item = dtype_size(f->dtype);
  const std::size_t row_bytes = std::size_t(f->header.width) * item;
  std::vector<unsigned char> pixels(row_bytes * f->header.height);
  std::vector<png_bytep> rows(f->header.height);
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = pixels.data() + y * row_bytes;
  PngRows context{rows.data(), f->header.bit_depth};
  if (!guarded(f->reader.png(), f->reader.info(), read_rows_step, &context))
    fail(file, ": corrupt or truncated PNG (", f->error.message, ")");
  decode_samples(pixels.data(), s.size(),
                 SampleType{SampleKind::unsigned_int, item, std::endian::native == std::endian::big},
                 s.data.data());
  return s;
}

std::vector<std::pair<std::string, std::string>> read_png_text(const std::string& file) {
  const auto f = open_png(file);
  png_textp text = nullptr;
  int count = 0;
  png_get_text(f->reader.png(), f->reader.info(), &text, &count);
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < count; ++i)
    out.emplace_back(text[i].key ? text[i].key : "", text[i].text ? std::string(text[i].text) : "");
  return out;
}

void write_png(const std::string& file, const Stack& s, DType as, const Provenance& provenance) {
  check_dims(s.depth, s.height, s.width, file);
  if (s.depth != 1)
    fail(file, ": PNG holds one 2-D image but the stack has ", s.depth,
         " slices (write .tif, .npy or .h5, or pick one slice)");
  if (as == DType::f32)
    fail(file, ": PNG cannot hold float32 samples; write uint8 or uint16 (--dtype), or a preview");
  const std::size_t item = dtype_size(as);
  std::vector<unsigned char> pixels(s.size() * item);
  encode_samples(s, 0, s.size(), as, file, pixels.data());
  std::vector<png_bytep> rows(s.height);
  for (std::size_t y = 0; y < s.height; ++y) rows[y] = pixels.data() + y * s.width * item;

  AtomicOutput output(file);
  CFile out(output.temp_path(), "wb");
  if (!out.get()) fail(file, ": cannot create (", std::strerror(errno), ")");
  PngError error;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, on_png_error, on_png_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  PngImage image{out.get(), static_cast<png_uint_32>(s.width), static_cast<png_uint_32>(s.height),
                 static_cast<int>(item * 8), rows.data(), {}};
  // libpng keeps pointers: the strings live until the write ends.
  const std::string software = cat("sira ", sira_version()), description = provenance_json(provenance);
  if (!provenance.empty()) {
    for (const auto& [key, value] : {std::pair{"Software", &software}, std::pair{"Description", &description}}) {
      png_text t{};
      t.compression = PNG_ITXT_COMPRESSION_NONE;  // iTXt: UTF-8 (paths, command lines)
      t.key = const_cast<char*>(key);
      t.text = const_cast<char*>(value->c_str());
      t.itxt_length = value->size();
      image.text.push_back(t);
    }
  }
  const bool ok = info && guarded(png, info, write_step, &image);
  png_destroy_write_struct(&png, &info);
  if (!ok) fail(file, ": PNG write failed (", error.message, ")");
  if (std::fflush(out.get()) != 0 || !out.close())
    fail(file, ": write failed (", std::strerror(errno), ")");
  output.commit();
}

}  // namespace sira::io
