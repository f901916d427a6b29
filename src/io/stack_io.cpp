// read_stack / write_stack: dispatch a location to its format.
#include <filesystem>

#include "io/formats.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/stack_stream.hpp"

namespace sira {

StackInfo probe_stack(const std::string& spec) {
  const Location loc = parse_location(spec);
  switch (loc.format) {
    case Format::tiff: return io::probe_tiff(loc.file);
    case Format::png: return io::probe_png(loc.file);
    case Format::npy: return io::probe_npy(loc.file);
    case Format::hdf5: {
      const H5File f = H5File::open(loc.file);
      const DType dtype = f.dtype(loc.dataset);
      const auto dims = f.shape(loc.dataset);
      if (dims.size() != 2 && dims.size() != 3) {
        f.read_slices(loc.dataset, 0, 1);  // throws the shape error
      }
      const bool is_2d = dims.size() == 2;
      const StackInfo info{is_2d ? 1 : dims[0], dims[dims.size() - 2], dims.back(), dtype, is_2d};
      check_dims(info.depth, info.height, info.width, spec);
      f.require_stored(loc.dataset);  // readers size their buffers by this shape
      return info;
    }
  }
  fail(spec, ": unknown format");
}

Stack read_slices(const std::string& spec, std::size_t first, std::size_t count) {
  const Location loc = parse_location(spec);
  switch (loc.format) {
    case Format::tiff: return io::read_tiff(loc.file, first, count);
    case Format::png: return io::read_png(loc.file, first, count);
    case Format::npy: return io::read_npy(loc.file, first, count);
    case Format::hdf5: return H5File::open(loc.file).read_slices(loc.dataset, first, count);
  }
  fail(spec, ": unknown format");
}

Stack read_stack(const std::string& spec) { return read_slices(spec, 0, 0); }

void write_stack(const std::string& spec, const Stack& s, std::optional<DType> as,
                 const Provenance& provenance) {
  const Location loc = parse_location(spec);
  const DType dtype = as.value_or(s.dtype);
  if (!provenance.empty()) {  // the slice-wise writers store it
    check_dims(s.depth, s.height, s.width, spec);
    auto writer = create_stack_writer(spec, StackInfo{s.depth, s.height, s.width, dtype, s.is_2d}, dtype);
    writer->set_provenance(provenance);
    writer->write_slices(0, s);
    writer->commit();
    return;
  }
  switch (loc.format) {
    case Format::tiff: return io::write_tiff(loc.file, s, dtype);
    case Format::png: return io::write_png(loc.file, s, dtype);
    case Format::npy: return io::write_npy(loc.file, s, dtype);
    case Format::hdf5: {
      // An existing file keeps its other datasets: the dataset is written into
      // a copy that replaces the file when complete (copy-on-write).
      H5File f = H5File::add_to(loc.file);
      f.write(loc.dataset, s, dtype);
      f.commit();
      return;
    }
  }
}

}  // namespace sira
