#include "mpi/hdf5_slab_writer.hpp"

#include <hdf5.h>

#include <vector>

#include "io/h5_id.hpp"
#include "io/hdf5_lock.hpp"
#include "io/samples.hpp"
#include "sira/error.hpp"

namespace sira::mpi {

namespace {

using io::hdf5_lock;

hid_t memory_type_of(DType as) {
  return as == DType::u8 ? H5T_NATIVE_UINT8 : as == DType::u16 ? H5T_NATIVE_UINT16 : H5T_NATIVE_FLOAT;
}

class Hdf5SlabWriter final : public StackWriter {
 public:
  Hdf5SlabWriter(const std::string& file, const std::string& dataset, std::size_t first,
                 const StackInfo& slab, DType as, MPI_Comm comm)
      : StackWriter(cat(file, ":", dataset), slab, as), first_(first) {
    auto lock = hdf5_lock();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    io::H5PlistId fapl(H5Pcreate(H5P_FILE_ACCESS));
    if (H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL) < 0) fail(spec_, ": cannot set up MPI-IO");
    file_ = H5Fopen(file.c_str(), H5F_ACC_RDWR, fapl.get());
    if (file_ < 0) fail(file, ": cannot open with MPI-IO (parallel HDF5)");
    dataset_ = H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT);
    if (dataset_ < 0) fail(spec_, ": cannot open the output dataset with MPI-IO");
    io::H5SpaceId space(H5Dget_space(dataset_));
    is_2d_ = H5Sget_simple_extent_ndims(space.get()) == 2;
  }
  // Closing is collective: a rank that fails does not close (the others are not
  // there to close with it); it aborts the whole run instead (Session::abort).
  ~Hdf5SlabWriter() override = default;

 protected:
  void write_range(std::size_t first, const Stack& block) override {
    auto lock = hdf5_lock();
    const hid_t memory_type = memory_type_of(shape_.dtype);
    std::vector<unsigned char> bytes;
    if (shape_.dtype != DType::f32) bytes.resize(block.slice_size() * io::dtype_size(shape_.dtype));
    io::H5SpaceId file_space(H5Dget_space(dataset_));
    for (std::size_t d = 0; d < block.depth; ++d) {  // one slice at a time: integers are encoded per slice
      const hsize_t start[3] = {first_ + first + d, 0, 0};
      const hsize_t extent[3] = {1, block.height, block.width};
      if (is_2d_) H5Sselect_all(file_space.get());
      else H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
      io::H5SpaceId memory_space(H5Screate_simple(3, extent, nullptr));
      const void* data = block.slice(d);
      if (shape_.dtype != DType::f32) {
        io::encode_samples(block, d * block.slice_size(), block.slice_size(), shape_.dtype, spec_,
                           bytes.data(), first_ + first);
        data = bytes.data();
      }
      if (H5Dwrite(dataset_, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
        fail(spec_, ": cannot write slice ", first_ + first + d, " (MPI-IO)");
    }
  }
  void finish() override {
    auto lock = hdf5_lock();
    const bool closed = H5Dclose(dataset_) >= 0;
    dataset_ = H5I_INVALID_HID;
    const bool file_closed = H5Fclose(file_) >= 0;
    file_ = H5I_INVALID_HID;
    if (!closed || !file_closed) fail(spec_, ": cannot finish writing with MPI-IO (disk full?)");
  }

 private:
  std::size_t first_;  // of the slab in the whole dataset
  hid_t file_ = H5I_INVALID_HID;
  hid_t dataset_ = H5I_INVALID_HID;
  bool is_2d_ = false;
};

}  // namespace

std::unique_ptr<StackWriter> open_slab_writer(const std::string& file, const std::string& dataset,
                                              std::size_t first, const StackInfo& slab, DType as,
                                              MPI_Comm comm) {
  return std::make_unique<Hdf5SlabWriter>(file, dataset, first, slab, as, comm);
}

}  // namespace sira::mpi
