// TIFF images through libtiff: single or multi-page (page = slice), 8/16-bit
// unsigned or 32-bit float grayscale, strips or tiles, either byte order, any
// compression libtiff decodes. libtiff's messages are captured per file and
// put into the sira::Error instead of being printed.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/atomic_output.hpp"
#include "io/formats.hpp"
#include "io/samples.hpp"
#include "io/slice_range.hpp"
#include "sira/error.hpp"
#include "sira/stack_stream.hpp"

namespace sira::io {

namespace {

// libtiff may allocate internally for tag arrays and compressed strips; bound it.
constexpr tmsize_t kMaxLibtiffAlloc = tmsize_t(1) << 31;

struct TiffMessages {
  std::string last_error;
};

int capture_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  char text[512];
  std::vsnprintf(text, sizeof text, fmt, ap);
  static_cast<TiffMessages*>(user)->last_error = text;
  return 1;  // handled: do not print
}

int ignore_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// An open TIFF plus the messages libtiff reported for it.
class TiffFile {
 public:
  TiffFile(const std::string& path, const char* mode, const std::string& name) : name_(name) {
    std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> opts(TIFFOpenOptionsAlloc(),
                                                                       TIFFOpenOptionsFree);
    TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), capture_error, messages_.get());
    TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), ignore_warning, nullptr);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts.get(), kMaxLibtiffAlloc);
    tif_ = TIFFOpenExt(path.c_str(), mode, opts.get());
    if (!tif_) fail(name_, ": cannot open as TIFF", detail());
  }
  ~TiffFile() { close(); }
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;

  TIFF* get() const { return tif_; }
  const std::string& name() const { return name_; }
  // ": <libtiff's last message>" or "" when it said nothing.
  std::string detail() const {
    return messages_->last_error.empty() ? std::string() : ": " + messages_->last_error;
  }
  bool has_error() const { return !messages_->last_error.empty(); }
  void close() {
    if (tif_) TIFFClose(tif_);
    tif_ = nullptr;
  }

 private:
  std::string name_;
  // Heap-held so its address stays valid for libtiff's callbacks.
  std::unique_ptr<TiffMessages> messages_ = std::make_unique<TiffMessages>();
  TIFF* tif_ = nullptr;
};

struct PageLayout {
  std::uint32_t width = 0, height = 0;
  DType dtype = DType::f32;
  bool operator==(const PageLayout&) const = default;
};

// Checks that the current page is one sira reads and returns its layout.
PageLayout describe_page(const TiffFile& f, std::size_t page) {
  TIFF* tif = f.get();
  const std::string where = cat(f.name(), ": page ", page);
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 1, format = SAMPLEFORMAT_UINT, samples = 1, photometric = 0, compression = 0,
                planar = PLANARCONFIG_CONTIG;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) ||
      !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height))
    fail(where, ": no image width/height tags", f.detail());
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric)) photometric = PHOTOMETRIC_MINISBLACK;

  if (photometric == PHOTOMETRIC_PALETTE)
    fail(where, ": palette (indexed colour) images are not supported; sira reads grayscale");
  if (samples != 1 || (photometric != PHOTOMETRIC_MINISBLACK && photometric != PHOTOMETRIC_MINISWHITE))
    fail(where, ": colour or multi-sample image (", samples, " samples per pixel, photometric ",
         photometric, ") is not supported; sira reads grayscale with 1 sample per pixel");
  if (planar != PLANARCONFIG_CONTIG && samples != 1)
    fail(where, ": separate sample planes are not supported");
  if (!TIFFIsCODECConfigured(compression))
    fail(where, ": compression scheme ", compression, " is not supported by this libtiff");

  PageLayout layout{width, height, DType::f32};
  if (format == SAMPLEFORMAT_UINT && bits == 8) layout.dtype = DType::u8;
  else if (format == SAMPLEFORMAT_UINT && bits == 16) layout.dtype = DType::u16;
  else if (format == SAMPLEFORMAT_IEEEFP && bits == 32) layout.dtype = DType::f32;
  else if (bits == 1)
    fail(where, ": 1-bit (bilevel) images are not supported; expected 8/16-bit unsigned or 32-bit float");
  else if (format == SAMPLEFORMAT_INT)
    fail(where, ": signed ", bits, "-bit integer samples are not supported; expected 8/16-bit unsigned or 32-bit float");
  else if (format == SAMPLEFORMAT_COMPLEXINT || format == SAMPLEFORMAT_COMPLEXIEEEFP)
    fail(where, ": complex samples are not supported");
  else
    fail(where, ": ", bits, "-bit samples of format ", format,
         " are not supported; expected 8/16-bit unsigned or 32-bit float");
  check_dims(1, width, height, where);
  return layout;
}

void decode_rows(const unsigned char* in, std::size_t n, DType t, float* out) {
  switch (t) {
    case DType::u8: for (std::size_t i = 0; i < n; ++i) out[i] = in[i]; return;
    case DType::u16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, in + 2 * i, 2);  // libtiff already swapped to host order
        out[i] = v;
      }
      return;
    case DType::f32: std::memcpy(out, in, n * 4); return;
  }
}

// How many bytes one stored byte of `compression` may decode to, at most
// (0: no known bound; the sample budget applies).
std::uint64_t max_expansion(std::uint16_t compression) {
  switch (compression) {
    case COMPRESSION_NONE: return 1;
    case COMPRESSION_PACKBITS: return 64;          // 2 bytes -> a run of 128
    case COMPRESSION_LZW: return 4096;             // a code of >= 9 bits -> <= 4096 bytes
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE: return 1032;         // deflate's limit
    default: return 0;
  }
}

// Before a page is allocated or decoded: every strip/tile must lie inside the
// file, and what they hold must be able to decode to the page (a 150-byte file
// declaring 65536 x 65536 is refused here, not after 16 GB were zero-filled),
// and a tile may not be absurdly larger than the image.
void check_page_content(const TiffFile& f, const PageLayout& p, std::size_t page,
                        std::uint64_t file_size) {
  TIFF* tif = f.get();
  const std::string where = cat(f.name(), ": page ", page);
  const std::uint64_t item = dtype_size(p.dtype);
  std::uint64_t decoded = std::uint64_t(p.width) * p.height * item;
  const bool tiled = TIFFIsTiled(tif);
  if (tiled) {
    std::uint32_t tile_w = 0, tile_h = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_h);
    if (tile_w == 0 || tile_h == 0 || tile_w > kMaxDim || tile_h > kMaxDim)
      fail(where, ": invalid tile size ", tile_w, "x", tile_h);
    // Tiles are multiples of 16; one larger than the image rounded up to 256
    // (what writers pick for small images) is a corrupt or hostile header.
    const auto round_up = [](std::uint64_t v) { return (v + 255) / 256 * 256; };
    if (tile_w > round_up(p.width) || tile_h > round_up(p.height))
      fail(where, ": tiles of ", tile_w, "x", tile_h, " are larger than the ", p.width, "x",
           p.height, " image (corrupt file)");
    const std::uint64_t across = (p.width + tile_w - 1) / tile_w, down = (p.height + tile_h - 1) / tile_h;
    decoded = across * down * tile_w * tile_h * item;
  }
  const std::uint32_t n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
  if (n == 0) fail(where, ": no ", tiled ? "tiles" : "strips", " (corrupt file)", f.detail());
  std::uint64_t stored = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    int err = 0;
    const std::uint64_t offset = TIFFGetStrileOffsetWithErr(tif, i, &err);
    const std::uint64_t bytes = err ? 0 : TIFFGetStrileByteCountWithErr(tif, i, &err);
    if (err) fail(where, ": cannot read the ", tiled ? "tile" : "strip", " table (corrupt file)", f.detail());
    if (offset > file_size || bytes > file_size - offset)
      fail(where, ": ", tiled ? "tile " : "strip ", i, " (", bytes, " bytes at offset ", offset,
           ") lies beyond the end of the ", file_size, "-byte file (truncated or corrupt file)");
    stored += bytes;
  }
  std::uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  const std::uint64_t ratio = max_expansion(compression);
  if (ratio && decoded > stored * ratio)
    fail(where, ": declares ", p.width, "x", p.height, " ", dtype_name(p.dtype), " (", decoded,
         " bytes) but its ", tiled ? "tiles" : "strips", " hold only ", stored, " bytes",
         compression == COMPRESSION_NONE ? "" : cat(" (compression ", compression, " expands at most ", ratio, "x)"),
         " (truncated or corrupt file)");
}

std::uint64_t file_size_of(const std::string& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) fail(file, ": cannot read the file size (", ec.message(), ")");
  return size;
}

void read_strips(const TiffFile& f, const PageLayout& p, std::size_t page, float* out) {
  TIFF* tif = f.get();
  const std::size_t item = dtype_size(p.dtype);
  std::uint32_t rows_per_strip = 0;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::clamp<std::uint32_t>(rows_per_strip, 1, p.height);
  const std::size_t row_bytes = std::size_t(p.width) * item;
  std::vector<unsigned char> buffer(rows_per_strip * row_bytes);
  for (std::uint32_t y = 0; y < p.height; y += rows_per_strip) {
    const std::uint32_t rows = std::min(rows_per_strip, p.height - y);
    const tmsize_t want = static_cast<tmsize_t>(rows * row_bytes);
    const tmsize_t got =
        TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, y, 0), buffer.data(), want);
    if (got < want)
      fail(f.name(), ": page ", page, ": cannot read rows ", y, "..", y + rows - 1,
           " (truncated or corrupt file)", f.detail());
    decode_rows(buffer.data(), rows * std::size_t(p.width), p.dtype, out + std::size_t(y) * p.width);
  }
}

void read_tiles(const TiffFile& f, const PageLayout& p, std::size_t page, float* out) {
  TIFF* tif = f.get();
  const std::size_t item = dtype_size(p.dtype);
  std::uint32_t tile_w = 0, tile_h = 0;
  TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w);
  TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_h);
  if (tile_w == 0 || tile_h == 0 || tile_w > kMaxDim || tile_h > kMaxDim)
    fail(f.name(), ": page ", page, ": invalid tile size ", tile_w, "x", tile_h);
  std::vector<unsigned char> buffer(std::size_t(tile_w) * tile_h * item);
  std::vector<float> row(tile_w);
  for (std::uint32_t ty = 0; ty < p.height; ty += tile_h) {
    for (std::uint32_t tx = 0; tx < p.width; tx += tile_w) {
      const tmsize_t want = static_cast<tmsize_t>(buffer.size());
      if (TIFFReadEncodedTile(tif, TIFFComputeTile(tif, tx, ty, 0, 0), buffer.data(), want) < want)
        fail(f.name(), ": page ", page, ": cannot read the tile at (", tx, ", ", ty,
             ") (truncated or corrupt file)", f.detail());
      const std::uint32_t rows = std::min(tile_h, p.height - ty);
      const std::uint32_t cols = std::min(tile_w, p.width - tx);
      for (std::uint32_t r = 0; r < rows; ++r) {
        decode_rows(buffer.data() + std::size_t(r) * tile_w * item, cols, p.dtype, row.data());
        std::copy_n(row.data(), cols, out + std::size_t(ty + r) * p.width + tx);
      }
    }
  }
}

std::size_t count_pages(const TiffFile& f) {
  const tdir_t n = TIFFNumberOfDirectories(f.get());
  if (n == 0) fail(f.name(), ": TIFF file has no pages", f.detail());
  // A broken chain of pages (e.g. a truncated multi-page file) must not pass
  // as a shorter stack.
  if (f.has_error()) fail(f.name(), ": corrupt or truncated TIFF (page list)", f.detail());
  return n;
}

void select_page(const TiffFile& f, std::size_t page) {
  if (!TIFFSetDirectory(f.get(), static_cast<tdir_t>(page)))
    fail(f.name(), ": cannot read page ", page, f.detail());
}

void require_file(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) fail(file, ": no such file");
}

}  // namespace

StackInfo probe_tiff(const std::string& file) {
  require_file(file);
  TiffFile f(file, "r", file);
  const std::size_t pages = count_pages(f);
  select_page(f, 0);
  const PageLayout p = describe_page(f, 0);
  check_dims(pages, p.height, p.width, file);
  return StackInfo{pages, p.height, p.width, p.dtype, pages == 1};
}

Stack read_tiff(const std::string& file, std::size_t first, std::size_t count) {
  require_file(file);
  TiffFile f(file, "rm", file);
  const std::size_t pages = count_pages(f);
  count = resolve_slice_count(pages, first, count, file);
  select_page(f, first);
  const PageLayout layout = describe_page(f, first);
  check_dims(count, layout.height, layout.width, file);
  // Every page of the range is checked against the file before the stack is allocated.
  const std::uint64_t file_size = file_size_of(file);
  const auto check_page = [&](std::size_t page) {
    const PageLayout p = describe_page(f, page);
    if (!(p == layout))
      fail(file, ": page ", page, " is ", p.width, "x", p.height, " ", dtype_name(p.dtype),
           " but page ", first, " is ", layout.width, "x", layout.height, " ",
           dtype_name(layout.dtype), "; all pages of a stack must match");
    check_page_content(f, layout, page, file_size);
  };
  for (std::size_t d = 0; d < count; ++d) {
    if (d > 0 && !TIFFReadDirectory(f.get())) fail(file, ": cannot read page ", first + d, f.detail());
    check_page(first + d);
  }
  check_sample_budget(count * layout.height * layout.width, file);
  if (count > 1) select_page(f, first);
  Stack s(count, layout.height, layout.width, layout.dtype);
  s.is_2d = pages == 1;
  for (std::size_t d = 0; d < count; ++d) {
    const std::size_t page = first + d;
    if (d > 0) {
      select_page(f, page);
      check_page(page);
    }
    if (TIFFIsTiled(f.get())) read_tiles(f, layout, page, s.slice(d));
    else read_strips(f, layout, page, s.slice(d));
  }
  return s;
}

namespace {

// Reads pages in any order, stepping to the next page without walking the
// page chain from the start.
class TiffStackReader final : public StackReader {
 public:
  // "m": read with read(2), not mmap: libtiff maps the whole file otherwise,
  // and every page read stays resident (64 MB for one 4096² float32 image).
  explicit TiffStackReader(const std::string& file) : tiff_(checked(file), "rm", file) {
    const std::size_t pages = count_pages(tiff_);
    select_page(tiff_, 0);
    layout_ = describe_page(tiff_, 0);
    check_dims(pages, layout_.height, layout_.width, file);
    spec_ = file;
    info_ = StackInfo{pages, layout_.height, layout_.width, layout_.dtype, pages == 1};
    file_size_ = file_size_of(file);
  }

 protected:
  Stack read_range(std::size_t first, std::size_t count) override {
    // Every page of the range is checked against the file before the block is allocated.
    for (std::size_t d = 0; d < count; ++d) check_page(first + d);
    Stack s(count, layout_.height, layout_.width, layout_.dtype);
    s.is_2d = info_.is_2d;
    for (std::size_t d = 0; d < count; ++d) {
      const std::size_t page = first + d;
      if (count > 1) check_page(page);
      if (TIFFIsTiled(tiff_.get())) read_tiles(tiff_, layout_, page, s.slice(d));
      else read_strips(tiff_, layout_, page, s.slice(d));
    }
    return s;
  }

 private:
  void check_page(std::size_t page) {
    go_to(page);
    const PageLayout p = describe_page(tiff_, page);
    if (!(p == layout_))
      fail(tiff_.name(), ": page ", page, " is ", p.width, "x", p.height, " ",
           dtype_name(p.dtype), " but page 0 is ", layout_.width, "x", layout_.height, " ",
           dtype_name(layout_.dtype), "; all pages of a stack must match");
    check_page_content(tiff_, layout_, page, file_size_);
  }
  static const std::string& checked(const std::string& file) {
    require_file(file);
    return file;
  }
  void go_to(std::size_t page) {
    if (page == current_) return;
    if (page == current_ + 1 ? !TIFFReadDirectory(tiff_.get())
                             : !TIFFSetDirectory(tiff_.get(), static_cast<tdir_t>(page)))
      fail(tiff_.name(), ": cannot read page ", page, tiff_.detail());
    current_ = page;
  }
  TiffFile tiff_;
  PageLayout layout_;
  std::uint64_t file_size_ = 0;
  std::size_t current_ = 0;
};

// One page per slice, uncompressed strips, the output's dtype.
class TiffStackWriter final : public StackWriter {
 public:
  TiffStackWriter(const std::string& file, const StackInfo& shape, DType as)
      : StackWriter(file, shape, as),
        item_(dtype_size(as)),
        row_bytes_(shape.width * item_),
        // Classic TIFF offsets are 32-bit; switch to BigTIFF well before 4 GiB.
        output_(file),
        tiff_(output_.temp_path(),
              shape.depth * shape.height * shape.width * item_ > (std::size_t(1) << 31) ? "w8" : "w",
              file) {}

 protected:
  void write_range(std::size_t first, const Stack& block) override {
    for (std::size_t d = 0; d < block.depth; ++d) write_rows_of(first + d, block, d, 0, shape_.height);
  }
  void provenance_set() override {
    software_ = cat("sira ", sira_version());
    description_ = provenance_json(provenance_);
  }
  void write_band(std::size_t first_row, const Stack& band) override {
    write_rows_of(written_, band, 0, first_row, band.height);
  }
  void finish() override {
    if (!TIFFFlush(tiff_.get())) fail(spec_, ": write failed", tiff_.detail());
    tiff_.close();
    output_.commit();
  }

 private:
  // Rows [first_row, first_row + rows) of page `page`, taken from slice d of
  // `block` (which holds exactly those rows). Rows arrive in order; they are
  // encoded into one strip buffer and each strip is written when it is full, so
  // no page-sized buffer exists (67 MB at 4096² float32).
  void write_rows_of(std::size_t page, const Stack& block, std::size_t d, std::size_t first_row,
                     std::size_t rows) {
    const std::size_t height = shape_.height, width = shape_.width;
    if (first_row == 0) begin_page(page);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t y = first_row + r;
      const std::size_t in_strip = y % rows_per_strip_;
      encode_samples(block, d * block.slice_size() + r * width, width, shape_.dtype, spec_,
                     bytes_.data() + in_strip * row_bytes_, page - d, first_row);
      if (in_strip + 1 == rows_per_strip_ || y + 1 == height) {
        if (TIFFWriteEncodedStrip(tiff_.get(), static_cast<std::uint32_t>(y / rows_per_strip_),
                                  bytes_.data(), static_cast<tmsize_t>((in_strip + 1) * row_bytes_)) < 0)
          fail(spec_, ": write failed at page ", page, tiff_.detail());
      }
    }
    if (first_row + rows == height && !TIFFWriteDirectory(tiff_.get()))
      fail(spec_, ": write failed at page ", page, tiff_.detail());
  }

  void begin_page(std::size_t page) {
    const StackInfo& s = shape_;
    const DType as = s.dtype;
    rows_per_strip_ = std::clamp<std::size_t>((1u << 16) / row_bytes_, 1, s.height);
    bytes_.resize(rows_per_strip_ * row_bytes_);
    TIFF* tif = tiff_.get();
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(s.width));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(s.height));
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(item_ * 8));
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT,
                 as == DType::f32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, static_cast<std::uint32_t>(rows_per_strip_));
    if (!provenance_.empty()) {
      TIFFSetField(tif, TIFFTAG_SOFTWARE, software_.c_str());
      TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description_.c_str());
    }
    if (s.depth > 1 && s.depth <= 0xffff) {  // PAGENUMBER is 16-bit
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(page),
                   static_cast<std::uint16_t>(s.depth));
    }
  }

  std::size_t rows_per_strip_ = 1;
  std::size_t item_, row_bytes_;
  std::string software_, description_;  // every page's Software and ImageDescription
  AtomicOutput output_;  // declared before tiff_: the file closes before the temporary goes
  TiffFile tiff_;
  std::vector<unsigned char> bytes_;
};

}  // namespace

std::unique_ptr<StackReader> open_tiff_reader(const std::string& file) {
  return std::make_unique<TiffStackReader>(file);
}

std::unique_ptr<StackWriter> create_tiff_writer(const std::string& file, const StackInfo& shape,
                                                DType as) {
  return std::make_unique<TiffStackWriter>(file, shape, as);
}

std::vector<std::pair<std::string, std::string>> read_tiff_text(const std::string& file) {
  TiffFile f(file, "r", file);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [tag, name] : {std::pair{TIFFTAG_SOFTWARE, "Software"}, std::pair{TIFFTAG_IMAGEDESCRIPTION, "ImageDescription"}}) {
    char* text = nullptr;
    if (TIFFGetField(f.get(), tag, &text) && text) out.emplace_back(name, text);
  }
  return out;
}

void write_tiff(const std::string& file, const Stack& s, DType as) {
  check_dims(s.depth, s.height, s.width, file);
  TiffStackWriter writer(file, StackInfo{s.depth, s.height, s.width, as, s.is_2d}, as);
  writer.write_slices(0, s);
  writer.commit();
}

}  // namespace sira::io
