// NumPy .npy images: read any 2-D/3-D integer or float array (C or Fortran
// order, either byte order), write little-endian C-order version 1 files.
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "io/atomic_output.hpp"
#include "io/formats.hpp"
#include "io/npy_header.hpp"
#include "io/samples.hpp"
#include "io/slice_range.hpp"
#include "sira/error.hpp"

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

}  // namespace

StackInfo probe_npy(const std::string& file) { return open_npy(file).info; }

Stack read_npy(const std::string& file, std::size_t first, std::size_t count) {
  OpenNpy f = open_npy(file);
  const StackInfo& info = f.info;
  count = resolve_slice_count(info.depth, first, count, file);
  Stack s(count, info.height, info.width, info.dtype);
  s.is_2d = info.is_2d;
  const std::size_t item = f.header.type.size;
  const std::size_t plane = info.height * info.width;

  if (!f.header.fortran_order) {
    std::vector<unsigned char> bytes(plane * item);
    for (std::size_t d = 0; d < count; ++d) {
      read_bytes(f.in, f.header.data_offset + (first + d) * plane * item, bytes.size(),
                 bytes.data(), file);
      decode_samples(bytes.data(), plane, f.header.type, s.slice(d));
    }
    return s;
  }
  // Fortran order: the first axis varies fastest; read all and transpose.
  const std::size_t total = info.depth * plane;
  std::vector<unsigned char> bytes(total * item);
  read_bytes(f.in, f.header.data_offset, bytes.size(), bytes.data(), file);
  std::vector<float> column_major(total);
  decode_samples(bytes.data(), total, f.header.type, column_major.data());
  for (std::size_t d = 0; d < count; ++d)
    for (std::size_t y = 0; y < info.height; ++y)
      for (std::size_t x = 0; x < info.width; ++x)
        s.at(d, y, x) = column_major[(first + d) + info.depth * (y + info.height * x)];
  return s;
}

void write_npy(const std::string& file, const Stack& s, DType as) {
  check_dims(s.depth, s.height, s.width, file);
  static_assert(std::endian::native == std::endian::little, "npy writer assumes a little-endian host");
  const char* descr = as == DType::u8 ? "|u1" : as == DType::u16 ? "<u2" : "<f4";
  std::vector<std::size_t> shape{s.height, s.width};
  if (!(s.is_2d && s.depth == 1)) shape.insert(shape.begin(), s.depth);

  AtomicOutput output(file);
  {
    std::ofstream out(output.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) fail(file, ": cannot create (", std::strerror(errno), ")");
    const std::string header = make_npy_header(descr, shape);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::vector<unsigned char> bytes(s.slice_size() * dtype_size(as));
    for (std::size_t d = 0; d < s.depth && out; ++d) {
      encode_samples(s, d * s.slice_size(), s.slice_size(), as, file, bytes.data());
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    }
    out.close();
    if (!out) fail(file, ": write failed (", std::strerror(errno), ")");
  }
  output.commit();
}

}  // namespace sira::io
