// The StackReader/StackWriter contract (ranges, order, shapes) and the dispatch
// of a location to its format's slice-wise reader or writer. PNG holds a single
// 2-D image, so it is read whole and written at commit.
#include "sira/stack_stream.hpp"

#include <algorithm>

#include "io/formats.hpp"
#include "io/slice_range.hpp"
#include "sira/error.hpp"

namespace sira {

Stack StackReader::read_slices(std::size_t first, std::size_t count) {
  count = io::resolve_slice_count(info_.depth, first, count, spec_);
  check_sample_budget(count * info_.height * info_.width, spec_);
  return read_range(first, count);
}

StackWriter::StackWriter(std::string spec, const StackInfo& shape, DType as)
    : spec_(std::move(spec)), shape_(shape) {
  check_dims(shape.depth, shape.height, shape.width, spec_);
  shape_.dtype = as;
}

void StackWriter::set_provenance(const Provenance& p) {
  if (written_ != 0 || rows_written_ != 0) fail(spec_, ": provenance set after slices were written");
  provenance_ = p;
  provenance_set();
}

void StackWriter::write_slices(std::size_t first, const Stack& block) {
  if (first != written_ || rows_written_ != 0)
    fail(spec_, ": slice ", first, " written out of order (", written_, " slices written so far)");
  if (block.height != shape_.height || block.width != shape_.width)
    fail(spec_, ": slices of ", block.height, "x", block.width, " written to an output of ",
         shape_.height, "x", shape_.width);
  if (block.depth > shape_.depth - written_)
    fail(spec_, ": ", block.depth, " more slice(s) than the output's ", shape_.depth);
  if (block.data.size() != block.depth * block.slice_size()) fail(spec_, ": stack data size mismatch");
  write_range(first, block);
  written_ += block.depth;
}

void StackWriter::write_rows(std::size_t slice, std::size_t first_row, const Stack& band) {
  if (slice != written_ || first_row != rows_written_)
    fail(spec_, ": rows from ", first_row, " of slice ", slice, " written out of order (",
         written_, " slices and ", rows_written_, " rows of the next written so far)");
  if (written_ >= shape_.depth) fail(spec_, ": more slices than the output's ", shape_.depth);
  if (band.depth != 1 || band.width != shape_.width || band.height == 0 ||
      band.height > shape_.height - first_row || band.data.size() != band.slice_size())
    fail(spec_, ": a band of ", band.height, "x", band.width, " rows does not fit rows ",
         first_row, ".. of a ", shape_.height, "x", shape_.width, " slice");
  write_band(first_row, band);
  rows_written_ += band.height;
  if (rows_written_ == shape_.height) {
    rows_written_ = 0;
    ++written_;
  }
}

void StackWriter::write_band(std::size_t first_row, const Stack& band) {
  if (band.height == shape_.height) {  // a whole slice (an untiled run): nothing to gather
    write_range(written_, band);
    return;
  }
  if (first_row == 0) gathered_ = Stack(1, shape_.height, shape_.width, band.dtype);
  std::copy(band.data.begin(), band.data.end(), gathered_.data.begin() + std::ptrdiff_t(first_row * shape_.width));
  if (first_row + band.height == shape_.height) {
    write_range(written_, gathered_);
    gathered_ = Stack();
  }
}

void StackWriter::commit() {
  if (written_ != shape_.depth)
    fail(spec_, ": only ", written_, " of ", shape_.depth, " slices were written");
  finish();
}

namespace {

class PngStackReader final : public StackReader {
 public:
  explicit PngStackReader(const std::string& file) : image_(io::read_png(file, 0, 0)) {
    spec_ = file;
    info_ = StackInfo{image_.depth, image_.height, image_.width, image_.dtype, image_.is_2d};
  }

 protected:
  Stack read_range(std::size_t, std::size_t) override { return image_; }

 private:
  Stack image_;
};

class PngStackWriter final : public StackWriter {
 public:
  PngStackWriter(const std::string& file, const StackInfo& shape, DType as)
      : StackWriter(file, shape, as), image_(shape.depth, shape.height, shape.width, as) {
    image_.is_2d = shape.is_2d;
  }

 protected:
  void write_range(std::size_t first, const Stack& block) override {
    std::copy(block.data.begin(), block.data.end(), image_.slice(first));
  }
  void finish() override { io::write_png(spec_, image_, shape_.dtype, provenance_); }

 private:
  Stack image_;
};

}  // namespace

std::unique_ptr<StackReader> open_stack_reader(const std::string& spec) {
  const Location loc = parse_location(spec);
  switch (loc.format) {
    case Format::tiff: return io::open_tiff_reader(loc.file);
    case Format::png: return std::make_unique<PngStackReader>(loc.file);
    case Format::npy: return io::open_npy_reader(loc.file);
    case Format::hdf5: return io::open_hdf5_reader(loc.file, loc.dataset);
  }
  fail(spec, ": unknown format");
}

std::unique_ptr<StackWriter> create_stack_writer(const std::string& spec, const StackInfo& shape,
                                                 DType as) {
  const Location loc = parse_location(spec);
  switch (loc.format) {
    case Format::tiff: return io::create_tiff_writer(loc.file, shape, as);
    case Format::png: {
      // The checks write_png makes, before any slice is computed.
      if (shape.depth != 1)
        fail(loc.file, ": PNG holds one 2-D image but the stack has ", shape.depth,
             " slices (write .tif, .npy or .h5, or pick one slice)");
      if (as == DType::f32)
        fail(loc.file, ": PNG cannot hold float32 samples; write uint8 or uint16 (--dtype), or a "
             "preview");
      return std::make_unique<PngStackWriter>(loc.file, shape, as);
    }
    case Format::npy: return io::create_npy_writer(loc.file, shape, as);
    case Format::hdf5: return io::create_hdf5_writer(loc.file, loc.dataset, shape, as);
  }
  fail(spec, ": unknown format");
}

}  // namespace sira
