// NumPy .npy images: read any 2-D/3-D integer or float array (C or Fortran
// order, either byte order), write little-endian C-order version 1 files.
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/atomic_output.hpp"
#include "io/formats.hpp"
#include "io/npy_header.hpp"
#include "io/samples.hpp"
#include "io/slice_range.hpp"
#include "sira/error.hpp"
#include "sira/stack_stream.hpp"

namespace sira::io {

namespace {

struct OpenNpy {
  std::ifstream in;
  NpyHeader header;
  StackInfo info;
};

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

// Opens the file, parses the header and checks that the data is all there.
OpenNpy open_npy(const std::string& file) {
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(file, ec);
  if (ec) fail(file, ": cannot open (", ec.message(), ")");
  OpenNpy f;
  f.in.open(file, std::ios::binary);
  if (!f.in) fail(file, ": cannot open (", std::strerror(errno), ")");
  f.header = read_npy_header(f.in, file_size, file);
  const auto& shape = f.header.shape;
  if (shape.size() != 2 && shape.size() != 3)
    fail(file, ": array of shape ", shape_text(shape), " has ", shape.size(),
         " dimensions; expected a 2-D image or a 3-D stack");
  f.info.is_2d = shape.size() == 2;
  f.info.depth = f.info.is_2d ? 1 : shape[0];
  f.info.height = shape[shape.size() - 2];
  f.info.width = shape[shape.size() - 1];
  f.info.dtype = dtype_tag(f.header.type);
  check_dims(f.info.depth, f.info.height, f.info.width, file);
  const std::size_t needed =
      f.info.depth * f.info.height * f.info.width * f.header.type.size;
  const std::size_t available = file_size - f.header.data_offset;
  if (available < needed)
    fail(file, ": truncated .npy data (shape ", shape_text(shape), " needs ", needed,
         " bytes, the file holds ", available, ")");
  return f;
}

void read_bytes(std::ifstream& in, std::size_t offset, std::size_t n, unsigned char* out,
                const std::string& file) {
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n)))
    fail(file, ": read error at byte ", offset);
}

// C order: each slice is read at its offset. Fortran order (the first axis
// varies fastest): the whole array is read and kept on the first request.
class NpyStackReader final : public StackReader {
 public:
  explicit NpyStackReader(const std::string& file) : file_(file), f_(open_npy(file)) {
    spec_ = file;
    info_ = f_.info;
  }

 protected:
  Stack read_range(std::size_t first, std::size_t count) override {
    Stack s(count, info_.height, info_.width, info_.dtype);
    s.is_2d = info_.is_2d;
    const std::size_t item = f_.header.type.size;
    const std::size_t plane = info_.height * info_.width;
    if (!f_.header.fortran_order) {
      bytes_.resize(plane * item);
      for (std::size_t d = 0; d < count; ++d) {
        read_bytes(f_.in, f_.header.data_offset + (first + d) * plane * item, bytes_.size(),
                   bytes_.data(), file_);
        decode_samples(bytes_.data(), plane, f_.header.type, s.slice(d));
      }
      return s;
    }
    if (column_major_.empty()) {
      const std::size_t total = info_.depth * plane;
      bytes_.resize(total * item);
      read_bytes(f_.in, f_.header.data_offset, bytes_.size(), bytes_.data(), file_);
      column_major_.resize(total);
      decode_samples(bytes_.data(), total, f_.header.type, column_major_.data());
      bytes_ = {};
    }
    for (std::size_t d = 0; d < count; ++d)
      for (std::size_t y = 0; y < info_.height; ++y)
        for (std::size_t x = 0; x < info_.width; ++x)
          s.at(d, y, x) = column_major_[(first + d) + info_.depth * (y + info_.height * x)];
    return s;
  }

 private:
  std::string file_;
  OpenNpy f_;
  std::vector<unsigned char> bytes_;
  std::vector<float> column_major_;
};

// Version 1 header (the shape is known up front), then the slices in order.
class NpyStackWriter final : public StackWriter {
 public:
  NpyStackWriter(const std::string& file, const StackInfo& shape, DType as)
      : StackWriter(file, shape, as), output_(file) {
    static_assert(std::endian::native == std::endian::little,
                  "npy writer assumes a little-endian host");
    const char* descr = as == DType::u8 ? "|u1" : as == DType::u16 ? "<u2" : "<f4";
    std::vector<std::size_t> dims{shape.height, shape.width};
    if (!(shape.is_2d && shape.depth == 1)) dims.insert(dims.begin(), shape.depth);
    out_.open(output_.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out_) fail(file, ": cannot create (", std::strerror(errno), ")");
    const std::string header = make_npy_header(descr, dims);
    out_.write(header.data(), static_cast<std::streamsize>(header.size()));
    check();
  }

 protected:
  void write_range(std::size_t first, const Stack& block) override {
    bytes_.resize(block.slice_size() * dtype_size(shape_.dtype));
    for (std::size_t d = 0; d < block.depth; ++d) {
      encode_samples(block, d * block.slice_size(), block.slice_size(), shape_.dtype, spec_,
                     bytes_.data(), first);
      out_.write(reinterpret_cast<const char*>(bytes_.data()),
                 static_cast<std::streamsize>(bytes_.size()));
      check();
    }
  }
  // Rows go to the file in order, so a band is written as it comes.
  void write_band(std::size_t first_row, const Stack& band) override {
    bytes_.resize(band.slice_size() * dtype_size(shape_.dtype));
    encode_samples(band, 0, band.slice_size(), shape_.dtype, spec_, bytes_.data(), written_,
                   first_row);
    out_.write(reinterpret_cast<const char*>(bytes_.data()),
               static_cast<std::streamsize>(bytes_.size()));
    check();
  }
  void finish() override {
    out_.close();
    check();
    output_.commit();
  }

 private:
  void check() {
    if (!out_) fail(spec_, ": write failed (", std::strerror(errno), ")");
  }
  AtomicOutput output_;  // declared before out_: the stream closes before the temporary goes
  std::ofstream out_;
  std::vector<unsigned char> bytes_;
};

}  // namespace

StackInfo probe_npy(const std::string& file) { return open_npy(file).info; }

Stack read_npy(const std::string& file, std::size_t first, std::size_t count) {
  return NpyStackReader(file).read_slices(first, count);
}

void write_npy(const std::string& file, const Stack& s, DType as) {
  check_dims(s.depth, s.height, s.width, file);
  NpyStackWriter writer(file, StackInfo{s.depth, s.height, s.width, as, s.is_2d}, as);
  writer.write_slices(0, s);
  writer.commit();
}

std::unique_ptr<StackReader> open_npy_reader(const std::string& file) {
  return std::make_unique<NpyStackReader>(file);
}

std::unique_ptr<StackWriter> create_npy_writer(const std::string& file, const StackInfo& shape,
                                               DType as) {
  return std::make_unique<NpyStackWriter>(file, shape, as);
}

}  // namespace sira::io
