#include "serve/live_writer.hpp"

#include <hdf5.h>

#include "io/h5_id.hpp"
#include "io/hdf5_lock.hpp"
#include "sira/error.hpp"

namespace sira::serve {

using namespace sira::io;

struct LiveWriter::Impl {
  std::string path, description;
  bool swmr = true;
  H5FileId file;
  H5DatasetId data, ids;
  bool open_series = false;
  std::uint64_t series = 0;
  std::size_t height = 0, width = 0;
  hsize_t rows = 0;

  H5PlistId access() const {
    H5PlistId fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
    if (swmr) H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    return fapl;
  }

  void check(herr_t e, const char* what) const {
    if (e < 0) fail(path, ": HDF5 could not ", what);
  }

  void close_datasets() {
    data.reset();
    ids.reset();
    open_series = false;
  }

  void begin_series(std::uint64_t s, std::size_t h, std::size_t w) {
    close_datasets();
    if (swmr && file.valid()) {  // SWMR adds no objects: reopen to add this series' group
      check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
      file.reset();
    }
    if (!file.valid()) {
      file = H5FileId(H5Fopen(path.c_str(), H5F_ACC_RDWR, access().get()));
      if (!file.valid()) fail(path, ": HDF5 could not reopen the file");
    }
    std::string group = "/series_" + std::to_string(s);
    for (int k = 1; H5Lexists(file.get(), group.c_str(), H5P_DEFAULT) > 0; ++k)  // the same id again
      group = "/series_" + std::to_string(s) + "_" + std::to_string(k);
    H5Id<H5Gclose> g(H5Gcreate2(file.get(), group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!g.valid()) fail(path, ": HDF5 could not create ", group);
    {
      H5SpaceId scalar(H5Screate(H5S_SCALAR));
      H5AttrId a(H5Acreate2(g.get(), "series_id", H5T_STD_U64LE, scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
      check(H5Awrite(a.get(), H5T_NATIVE_UINT64, &s), "write series_id");
      H5TypeId str(H5Tcopy(H5T_C_S1));
      H5Tset_size(str.get(), description.size() + 1);
      H5AttrId d(H5Acreate2(g.get(), "source", str.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
      check(H5Awrite(d.get(), str.get(), description.c_str()), "write source");
    }
    const hsize_t dims[3] = {0, h, w}, maxdims[3] = {H5S_UNLIMITED, h, w}, chunk[3] = {1, h, w};
    H5SpaceId space(H5Screate_simple(3, dims, maxdims));
    H5PlistId dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), 3, chunk);
    data = H5DatasetId(H5Dcreate2(g.get(), "data", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    const hsize_t idims[1] = {0}, imax[1] = {H5S_UNLIMITED}, ichunk[1] = {512};
    H5SpaceId ispace(H5Screate_simple(1, idims, imax));
    H5PlistId icpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(icpl.get(), 1, ichunk);
    ids = H5DatasetId(H5Dcreate2(g.get(), "image_id", H5T_STD_U64LE, ispace.get(), H5P_DEFAULT, icpl.get(), H5P_DEFAULT));
    if (!data.valid() || !ids.valid()) fail(path, ": HDF5 could not create the datasets of ", group);
    g.reset();
    check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
    if (swmr) check(H5Fstart_swmr_write(file.get()), "start SWMR writing");
    open_series = true;
    series = s;
    height = h;
    width = w;
    rows = 0;
  }

  void append_row(std::uint64_t id, const float* pixels) {
    const hsize_t n = rows + 1;
    const hsize_t dims[3] = {n, height, width}, idims[1] = {n};
    check(H5Dset_extent(data.get(), dims), "extend data");
    check(H5Dset_extent(ids.get(), idims), "extend image_id");
    {
      H5SpaceId fs(H5Dget_space(data.get()));
      const hsize_t start[3] = {rows, 0, 0}, count[3] = {1, height, width};
      H5Sselect_hyperslab(fs.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
      H5SpaceId ms(H5Screate_simple(3, count, nullptr));
      check(H5Dwrite(data.get(), H5T_NATIVE_FLOAT, ms.get(), fs.get(), H5P_DEFAULT, pixels), "write data");
    }
    {
      H5SpaceId fs(H5Dget_space(ids.get()));
      const hsize_t start[1] = {rows}, count[1] = {1};
      H5Sselect_hyperslab(fs.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
      H5SpaceId ms(H5Screate_simple(1, count, nullptr));
      check(H5Dwrite(ids.get(), H5T_NATIVE_UINT64, ms.get(), fs.get(), H5P_DEFAULT, &id), "write image_id");
    }
    rows = n;
    if (swmr) {
      check(H5Dflush(data.get()), "flush data");
      check(H5Dflush(ids.get()), "flush image_id");
    } else {
      check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
    }
  }
};

LiveWriter::LiveWriter(const std::string& path, bool swmr, const std::string& description)
    : impl_(std::make_unique<Impl>()), path_(path) {
  auto lock = hdf5_lock();
  impl_->path = path;
  impl_->swmr = swmr;
  impl_->description = description;
  H5PlistId fcpl(H5Pcreate(H5P_FILE_CREATE));
  impl_->file = H5FileId(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), impl_->access().get()));
  if (!impl_->file.valid()) fail(path, ": HDF5 could not create the file");
  impl_->check(H5Fflush(impl_->file.get(), H5F_SCOPE_GLOBAL), "flush");
}

LiveWriter::~LiveWriter() {
  try {
    close();
  } catch (...) {
  }
}

void LiveWriter::append(std::uint64_t series, std::uint64_t image_id, std::size_t height, std::size_t width,
                        const float* pixels) {
  auto lock = hdf5_lock();
  Impl& f = *impl_;
  if (!f.open_series || series != f.series || height != f.height || width != f.width)
    f.begin_series(series, height, width);
  f.append_row(image_id, pixels);
}

void LiveWriter::close() {
  auto lock = hdf5_lock();
  if (!impl_ || !impl_->file.valid()) return;
  impl_->close_datasets();
  impl_->check(H5Fflush(impl_->file.get(), H5F_SCOPE_GLOBAL), "flush");
  if (!impl_->file.reset()) fail(path_, ": HDF5 could not close the file");
}

}  // namespace sira::serve
