// H5File on the HDF5 C API. HDF5's automatic error printing is switched off;
// every failure becomes a sira::Error naming the file and the dataset, with
// the innermost message from HDF5's error stack when there is one.
#include "sira/hdf5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/atomic_output.hpp"
#include "io/file_lock.hpp"
#include "io/h5_id.hpp"
#include "io/hdf5_preflight.hpp"
#include "io/samples.hpp"
#include "io/slice_range.hpp"
#include "sira/error.hpp"

namespace sira {

using namespace io;

namespace {

// Debian's HDF5 is built thread-safe, which makes the automatic error printing
// a per-thread setting: it is switched off on every thread that calls in.
void silence_hdf5_errors() {
  thread_local bool silenced = false;
  if (!silenced) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  silenced = true;
}

herr_t keep_first_message(unsigned n, const H5E_error2_t* e, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (n == 0 && e->desc) *text = e->desc;
  return 0;
}

// ": <innermost HDF5 message>" (or ""), clearing the error stack.
std::string hdf5_detail() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first_message, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? text : ": " + text;
}

// Before opening an existing file (to read or to edit): refuses (naming it) a
// missing or non-HDF5 one. The file is first walked by a child process
// (hdf5_preflight.hpp), so that a corrupt file crashing libhdf5 becomes an
// error instead of a crash.
void require_hdf5_file(const std::string& path) {
  silence_hdf5_errors();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, ": no such file");
  preflight_hdf5_input(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, ": not an HDF5 file", hdf5_detail());
}

std::string shape_text(const std::vector<std::size_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + ")";
}

// Closing a file also closes anything still open in it, so the temporary
// file is complete before it is renamed.
H5PlistId file_access_plist() {
  H5PlistId fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  return fapl;
}

std::vector<std::size_t> space_dims(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

}  // namespace

struct H5File::Impl {
  std::optional<FileLock> lock;        // while writing: held until the rename (destroyed last)
  std::string path;                    // the name callers know the file by
  std::optional<AtomicOutput> output;  // set while writing (declared before `file`:
  H5FileId file;                       // the file closes before the temporary goes)
  bool writable = false;
  bool write_failed = false;  // a close or flush failed: commit() refuses

  [[noreturn]] void fail_at(const std::string& object, const std::string& what) const {
    fail(path, ": ", what, " '", object, "'", hdf5_detail());
  }

  // Closes a handle of something written. Closing writes out what HDF5 still
  // holds (a dataset's sieve buffer keeps writes of up to 64 KB until then), so
  // a failed close is a failed write: the file is not committed.
  template <typename Id>
  void close_written(Id& id, const std::string& object) {
    if (!id.reset()) {
      write_failed = true;
      fail(path, ": cannot finish writing '", object, "' (disk full?)", hdf5_detail());
    }
  }

  void require_writable(const std::string& object) const {
    if (!writable) fail(path, ": opened read-only; cannot write '", object, "'");
  }

  // True if every link along `name` exists (checking each level keeps HDF5
  // from failing on a missing intermediate group).
  bool exists(const std::string& name) const {
    if (name.empty() || name == "/") return true;
    std::size_t pos = name[0] == '/' ? 1 : 0;
    while (true) {
      const std::size_t next = name.find('/', pos);
      const std::string prefix = name.substr(0, next);
      if (!prefix.empty() && prefix != "/" && H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0)
        return false;
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    return H5Oexists_by_name(file.get(), name.c_str(), H5P_DEFAULT) > 0;
  }

  H5DatasetId open_dataset(const std::string& name) const {
    if (!exists(name)) fail(path, ": no dataset '", name, "'");
    H5ObjectId object(H5Oopen(file.get(), name.c_str(), H5P_DEFAULT));
    if (!object.valid()) fail_at(name, "cannot open");
    if (H5Iget_type(object.get()) != H5I_DATASET)
      fail(path, ": '", name, "' is a group, not a dataset");
    H5DatasetId ds(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT));
    if (!ds.valid()) fail_at(name, "cannot open dataset");
    return ds;
  }

  H5ObjectId open_object(const std::string& name) const {
    if (!exists(name)) fail(path, ": no object '", name, "'");
    H5ObjectId object(H5Oopen(file.get(), name.c_str(), H5P_DEFAULT));
    if (!object.valid()) fail_at(name, "cannot open");
    return object;
  }

  void require_numeric(hid_t ds, const std::string& name) const {
    H5TypeId type(H5Dget_type(ds));
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
      fail(path, ": dataset '", name, "' does not hold numbers (integer or float)");
  }

  // Shape of a dataset that must be a 2-D image or a 3-D stack.
  std::vector<std::size_t> image_dims(hid_t ds, const std::string& name) const {
    H5SpaceId space(H5Dget_space(ds));
    const auto dims = space_dims(space.get());
    if (dims.size() != 2 && dims.size() != 3)
      fail(path, ": dataset '", name, "' has shape ", shape_text(dims), " (", dims.size(),
           " dimensions); expected a 2-D image or a 3-D stack");
    return dims;
  }

  // How many bytes one stored byte may decode to through the dataset's
  // filters (0: a filter with no known bound; the sample budget applies).
  static std::uint64_t max_expansion(hid_t dcpl) {
    std::uint64_t ratio = 1;
    const int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; ++i) {
      unsigned flags = 0;
      std::size_t cd_count = 0;
      const H5Z_filter_t id = H5Pget_filter2(dcpl, unsigned(i), &flags, &cd_count, nullptr, 0, nullptr, nullptr);
      if (id == H5Z_FILTER_DEFLATE) ratio *= 1032;  // deflate's limit
      else if (id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32) return 0;
      if (ratio > (std::uint64_t(1) << 40)) return 0;
    }
    return ratio;
  }

  // `samples` samples of dataset `name` must be held by the file: its
  // allocated storage (within the file's size), expanded at most by its filters.
  void require_content(hid_t ds, const std::string& name, std::size_t samples) const {
    H5PlistId dcpl(H5Dget_create_plist(ds));
    if (!dcpl.valid()) fail_at(name, "cannot read the storage layout of");
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    // Virtual datasets and external raw files keep their data outside this file.
    if (layout == H5D_VIRTUAL || H5Pget_external_count(dcpl.get()) > 0) return;
    const std::uint64_t ratio = max_expansion(dcpl.get());
    if (ratio == 0) return;
    H5TypeId type(H5Dget_type(ds));
    const std::uint64_t wanted = std::uint64_t(samples) * H5Tget_size(type.get());
    hsize_t file_size = 0;
    if (H5Fget_filesize(file.get(), &file_size) < 0) fail_at(name, "cannot read the file size for");
    const std::uint64_t stored = std::min<std::uint64_t>(H5Dget_storage_size(ds), file_size);
    H5Eclear2(H5E_DEFAULT);
    if (wanted > stored * ratio)
      fail(path, ": dataset '", name, "' declares ", wanted, " bytes (", samples,
           " samples) but the file holds only ", stored, " bytes of it",
           ratio > 1 ? cat(" (its filters expand at most ", ratio, "x)") : std::string(),
           ": never written, or the file is truncated or corrupt");
  }

  static DType tag_of(hid_t ds) {
    H5TypeId type(H5Dget_type(ds));
    const std::size_t size = H5Tget_size(type.get());
    if (H5Tget_class(type.get()) == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_NONE) {
      if (size == 1) return DType::u8;
      if (size == 2) return DType::u16;
    }
    return DType::f32;
  }

  // Removes an existing link so it can be written anew.
  void unlink_existing(const std::string& name) {
    if (exists(name) && H5Ldelete(file.get(), name.c_str(), H5P_DEFAULT) < 0)
      fail_at(name, "cannot replace");
  }

  H5DatasetId create_dataset(const std::string& name, hid_t file_type,
                             const std::vector<hsize_t>& dims) {
    unlink_existing(name);
    H5SpaceId space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    H5PlistId lcpl(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    H5DatasetId ds(H5Dcreate2(file.get(), name.c_str(), file_type, space.get(), lcpl.get(),
                              H5P_DEFAULT, H5P_DEFAULT));
    if (!ds.valid()) fail_at(name, "cannot create dataset");
    return ds;
  }

  H5AttrId create_attr(const std::string& object, const std::string& name, hid_t type) const {
    H5ObjectId target = open_object(object);
    if (H5Aexists(target.get(), name.c_str()) > 0 && H5Adelete(target.get(), name.c_str()) < 0)
      fail_at(object, cat("cannot replace attribute '", name, "' of"));
    H5SpaceId scalar(H5Screate(H5S_SCALAR));
    H5AttrId attr(H5Acreate2(target.get(), name.c_str(), type, scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!attr.valid()) fail_at(object, cat("cannot create attribute '", name, "' on"));
    return attr;
  }

  H5AttrId open_attr(const std::string& object, const std::string& name) const {
    H5ObjectId target = open_object(object);
    if (H5Aexists(target.get(), name.c_str()) <= 0)
      fail(path, ": '", object, "' has no attribute '", name, "'");
    H5AttrId attr(H5Aopen(target.get(), name.c_str(), H5P_DEFAULT));
    if (!attr.valid()) fail_at(object, cat("cannot open attribute '", name, "' of"));
    return attr;
  }

  // Writing starts by taking the file's lock (after the target was checked,
  // so a missing folder is reported as such), then a temporary: new, or a copy.
  void start_writing() {
    output.emplace(path);
    lock.emplace(path);
    writable = true;
  }

  void create_temporary() {
    file = H5FileId(H5Fcreate(output->temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT,
                              file_access_plist().get()));
    if (!file.valid()) fail(path, ": cannot create HDF5 file", hdf5_detail());
  }

  // The copy is taken under the lock, so no other writer's commit can fall
  // between it and this one's rename.
  void copy_to_temporary() {
    require_hdf5_file(path);
    const std::string& temp = output->temp_path();
    std::error_code ec;
    std::filesystem::copy_file(path, temp, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) fail(path, ": cannot copy to a temporary file for editing (", ec.message(), ")");
    file = H5FileId(H5Fopen(temp.c_str(), H5F_ACC_RDWR, file_access_plist().get()));
    if (!file.valid()) fail(path, ": cannot open HDF5 file for writing", hdf5_detail());
  }
};

H5File::H5File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
H5File::H5File(H5File&&) noexcept = default;
H5File& H5File::operator=(H5File&&) noexcept = default;
// The handles close as the members go, on whichever thread destroys the file
// (a stream's writer may be destroyed on another thread than the one writing).
H5File::~H5File() {
  if (impl_) silence_hdf5_errors();
}

H5File H5File::open(const std::string& path) {
  require_hdf5_file(path);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = H5FileId(H5Fopen(path.c_str(), H5F_ACC_RDONLY, file_access_plist().get()));
  if (!impl->file.valid()) fail(path, ": cannot open HDF5 file", hdf5_detail());
  return H5File(std::move(impl));
}

H5File H5File::create(const std::string& path) {
  silence_hdf5_errors();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->start_writing();
  impl->create_temporary();
  return H5File(std::move(impl));
}

H5File H5File::edit(const std::string& path) {
  require_hdf5_file(path);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->start_writing();
  impl->copy_to_temporary();
  return H5File(std::move(impl));
}

H5File H5File::add_to(const std::string& path) {
  silence_hdf5_errors();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->start_writing();
  std::error_code ec;  // decided under the lock: another writer may just have created it
  if (std::filesystem::exists(path, ec)) impl->copy_to_temporary();
  else impl->create_temporary();
  return H5File(std::move(impl));
}

const std::string& H5File::path() const {
  if (!impl_) fail("H5File used after being moved from");
  return impl_->path;
}

namespace {
// The open implementation, or an error if the file was committed or moved.
template <typename Impl>
Impl& live(const std::unique_ptr<Impl>& impl) {
  if (!impl) fail("H5File used after being moved from");
  if (!impl->file.valid()) fail(impl->path, ": HDF5 file already committed and closed");
  silence_hdf5_errors();
  return *impl;
}

// Flushes and closes an output's file (its temporary stays, under its name and
// lock) before it is committed or handed over; `verb`/`done` word the refusals.
template <typename Impl>
void finish_writing(Impl& f, const char* verb, const char* done) {
  if (!f.output) fail(f.path, ": opened read-only; nothing to ", verb);
  if (f.write_failed) fail(f.path, ": an earlier write failed; the file is not ", done);
  if (H5Fflush(f.file.get(), H5F_SCOPE_GLOBAL) < 0 || !f.file.reset()) {
    f.write_failed = true;
    fail(f.path, ": cannot finish writing the HDF5 file (disk full?)", hdf5_detail());
  }
}
}  // namespace

bool H5File::has(const std::string& dataset) const {
  auto& f = live(impl_);
  if (!f.exists(dataset)) return false;
  H5ObjectId object(H5Oopen(f.file.get(), dataset.c_str(), H5P_DEFAULT));
  return object.valid() && H5Iget_type(object.get()) == H5I_DATASET;
}

std::vector<std::size_t> H5File::shape(const std::string& dataset) const {
  auto& f = live(impl_);
  H5DatasetId ds = f.open_dataset(dataset);
  H5SpaceId space(H5Dget_space(ds.get()));
  return space_dims(space.get());
}

DType H5File::dtype(const std::string& dataset) const {
  auto& f = live(impl_);
  H5DatasetId ds = f.open_dataset(dataset);
  f.require_numeric(ds.get(), dataset);
  return Impl::tag_of(ds.get());
}

void H5File::require_stored(const std::string& dataset) const {
  auto& f = live(impl_);
  H5DatasetId ds = f.open_dataset(dataset);
  H5SpaceId space(H5Dget_space(ds.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) f.fail_at(dataset, "cannot read the shape of");
  f.require_content(ds.get(), dataset, std::size_t(n));
}

Stack H5File::read(const std::string& dataset) const { return read_slices(dataset, 0, 0); }

Stack H5File::read_slices(const std::string& dataset, std::size_t first, std::size_t count) const {
  return read_block(dataset, first, count, 0, 0);
}

Stack H5File::read_block(const std::string& dataset, std::size_t first, std::size_t count, std::size_t first_row,
                         std::size_t rows) const {
  auto& f = live(impl_);
  H5DatasetId ds = f.open_dataset(dataset);
  f.require_numeric(ds.get(), dataset);
  const auto dims = f.image_dims(ds.get(), dataset);
  const bool is_2d = dims.size() == 2;
  const std::size_t depth = is_2d ? 1 : dims[0];
  const std::size_t full_height = dims[dims.size() - 2], width = dims[dims.size() - 1];
  const std::string what = cat(f.path, ":", dataset);
  check_dims(depth, full_height, width, what);
  count = resolve_slice_count(depth, first, count, what);
  if (rows == 0 && first_row == 0) rows = full_height;
  if (rows == 0 || first_row >= full_height || rows > full_height - first_row)
    fail(what, ": rows ", first_row, "..", first_row + rows, " are outside its ", full_height, " rows");
  const std::size_t height = rows;
  f.require_content(ds.get(), dataset, count * height * width);
  check_sample_budget(count * height * width, what);

  Stack s(count, height, width, Impl::tag_of(ds.get()));
  s.is_2d = is_2d;
  H5SpaceId file_space(H5Dget_space(ds.get()));
  std::vector<hsize_t> start{first, first_row, 0}, extent{count, height, width};
  if (is_2d) {
    start.erase(start.begin());
    extent.erase(extent.begin());
  }
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr);
  H5SpaceId memory_space(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr));
  // HDF5 converts any integer/float type and byte order to float32.
  if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), H5P_DEFAULT,
              s.data.data()) < 0)
    f.fail_at(dataset, "cannot read dataset");
  return s;
}

std::vector<double> H5File::read_vector(const std::string& dataset) const {
  auto& f = live(impl_);
  H5DatasetId ds = f.open_dataset(dataset);
  f.require_numeric(ds.get(), dataset);
  H5SpaceId space(H5Dget_space(ds.get()));
  const auto dims = space_dims(space.get());
  if (dims.size() != 1)
    fail(f.path, ": dataset '", dataset, "' has shape ", shape_text(dims), "; expected a 1-D vector");
  if (dims[0] > kMaxSamples) fail(f.path, ": dataset '", dataset, "' is too long (", dims[0], ")");
  f.require_content(ds.get(), dataset, dims[0]);
  check_sample_budget(dims[0] * 2, cat(f.path, ":", dataset));  // float64: two samples' worth
  std::vector<double> v(dims[0]);
  if (!v.empty() &&
      H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    f.fail_at(dataset, "cannot read dataset");
  return v;
}

namespace {
hid_t file_type_of(DType as) {
  return as == DType::u8 ? H5T_STD_U8LE : as == DType::u16 ? H5T_STD_U16LE : H5T_IEEE_F32LE;
}
hid_t memory_type_of(DType as) {
  return as == DType::u8    ? H5T_NATIVE_UINT8
         : as == DType::u16 ? H5T_NATIVE_UINT16
                            : H5T_NATIVE_FLOAT;
}
}  // namespace

void H5File::write(const std::string& dataset, const Stack& s, DType as) {
  auto& f = live(impl_);
  if (s.data.size() != s.depth * s.height * s.width)
    fail(f.path, ":", dataset, ": stack data size mismatch");
  create_stack(dataset, StackInfo{s.depth, s.height, s.width, as, s.is_2d}, as);
  write_slices(dataset, 0, s, as);
}

void H5File::create_stack(const std::string& dataset, const StackInfo& shape, DType as) {
  auto& f = live(impl_);
  f.require_writable(dataset);
  check_dims(shape.depth, shape.height, shape.width, cat(f.path, ":", dataset));
  std::vector<hsize_t> dims{shape.depth, shape.height, shape.width};
  if (shape.is_2d && shape.depth == 1) dims.erase(dims.begin());
  H5DatasetId ds = f.create_dataset(dataset, file_type_of(as), dims);
  f.close_written(ds, dataset);
}

void H5File::write_slices(const std::string& dataset, std::size_t first, const Stack& block,
                          DType as) {
  auto& f = live(impl_);
  f.require_writable(dataset);
  const std::string what = cat(f.path, ":", dataset);
  if (block.data.size() != block.depth * block.height * block.width)
    fail(what, ": stack data size mismatch");
  H5DatasetId ds = f.open_dataset(dataset);
  H5SpaceId file_space(H5Dget_space(ds.get()));
  const auto dims = space_dims(file_space.get());
  const bool is_2d = dims.size() == 2;
  const std::size_t depth = is_2d ? 1 : dims[0];
  if (dims.size() < 2 || dims[dims.size() - 2] != block.height || dims.back() != block.width ||
      first + block.depth > depth)
    fail(what, ": slices ", first, "..", first + block.depth - 1, " of ", block.height, "x",
         block.width, " do not fit the dataset's shape ", shape_text(dims));
  const hid_t memory_type = memory_type_of(as);
  // Float32 goes in one hyperslab; integers are encoded (rounded, range-checked)
  // one slice at a time.
  const std::size_t per_write = as == DType::f32 ? block.depth : 1;
  std::vector<unsigned char> bytes;
  if (as != DType::f32) bytes.resize(block.slice_size() * dtype_size(as));
  for (std::size_t d = 0; d < block.depth; d += per_write) {
    const hsize_t start[3] = {first + d, 0, 0};
    const hsize_t extent[3] = {per_write, block.height, block.width};
    if (is_2d) H5Sselect_all(file_space.get());
    else H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    H5SpaceId memory_space(H5Screate_simple(3, extent, nullptr));
    const void* data = block.slice(d);
    if (as != DType::f32) {
      encode_samples(block, d * block.slice_size(), block.slice_size(), as, what, bytes.data(),
                     first);
      data = bytes.data();
    }
    if (H5Dwrite(ds.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
      f.fail_at(dataset, "cannot write dataset");
  }
  file_space.reset();
  f.close_written(ds, dataset);
}

void H5File::write_vector(const std::string& dataset, const std::vector<double>& v) {
  auto& f = live(impl_);
  f.require_writable(dataset);
  H5DatasetId ds = f.create_dataset(dataset, H5T_IEEE_F64LE, {v.size()});
  if (!v.empty() && H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    f.fail_at(dataset, "cannot write dataset");
  f.close_written(ds, dataset);
}

namespace {

H5TypeId utf8_string_type(std::size_t size) {
  H5TypeId type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), size);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

}  // namespace

void H5File::set_attr(const std::string& object, const std::string& name, double value) {
  auto& f = live(impl_);
  f.require_writable(object);
  H5AttrId attr = f.create_attr(object, name, H5T_IEEE_F64LE);
  if (H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    f.fail_at(object, cat("cannot write attribute '", name, "' of"));
  f.close_written(attr, object);
}

void H5File::set_attr(const std::string& object, const std::string& name, std::int64_t value) {
  auto& f = live(impl_);
  f.require_writable(object);
  H5AttrId attr = f.create_attr(object, name, H5T_STD_I64LE);
  if (H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0)
    f.fail_at(object, cat("cannot write attribute '", name, "' of"));
  f.close_written(attr, object);
}

void H5File::set_attr(const std::string& object, const std::string& name, const std::string& value) {
  auto& f = live(impl_);
  f.require_writable(object);
  // Variable-length UTF-8, which h5py returns as str.
  H5TypeId type = utf8_string_type(H5T_VARIABLE);
  H5AttrId attr = f.create_attr(object, name, type.get());
  const char* text = value.c_str();
  if (H5Awrite(attr.get(), type.get(), &text) < 0)
    f.fail_at(object, cat("cannot write attribute '", name, "' of"));
  f.close_written(attr, object);
}

bool H5File::has_attr(const std::string& object, const std::string& name) const {
  auto& f = live(impl_);
  if (!f.exists(object)) return false;
  H5ObjectId target(H5Oopen(f.file.get(), object.c_str(), H5P_DEFAULT));
  return target.valid() && H5Aexists(target.get(), name.c_str()) > 0;
}

double H5File::attr_number(const std::string& object, const std::string& name) const {
  auto& f = live(impl_);
  H5AttrId attr = f.open_attr(object, name);
  H5TypeId type(H5Aget_type(attr.get()));
  const H5T_class_t cls = H5Tget_class(type.get());
  H5SpaceId space(H5Aget_space(attr.get()));
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || H5Sget_simple_extent_npoints(space.get()) != 1)
    fail(f.path, ": attribute '", name, "' of '", object, "' is not a single number");
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    f.fail_at(object, cat("cannot read attribute '", name, "' of"));
  return value;
}

std::string H5File::attr_string(const std::string& object, const std::string& name) const {
  auto& f = live(impl_);
  H5AttrId attr = f.open_attr(object, name);
  H5TypeId type(H5Aget_type(attr.get()));
  H5SpaceId space(H5Aget_space(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Sget_simple_extent_npoints(space.get()) != 1)
    fail(f.path, ": attribute '", name, "' of '", object, "' is not a single string");
  if (H5Tis_variable_str(type.get()) > 0) {
    H5TypeId memory = utf8_string_type(H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    char* text = nullptr;
    if (H5Aread(attr.get(), memory.get(), &text) < 0)
      f.fail_at(object, cat("cannot read attribute '", name, "' of"));
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  if (H5Aread(attr.get(), type.get(), value.data()) < 0)
    f.fail_at(object, cat("cannot read attribute '", name, "' of"));
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  while (!value.empty() && value.back() == ' ') value.pop_back();  // space-padded strings
  return value;
}

std::vector<std::string> H5File::attr_names(const std::string& object) const {
  auto& f = live(impl_);
  if (!f.exists(object)) fail(f.path, ": no object '", object, "'");
  H5ObjectId target(H5Oopen(f.file.get(), object.c_str(), H5P_DEFAULT));
  if (!target.valid()) f.fail_at(object, "cannot open");
  H5O_info_t info;
  if (H5Oget_info2(target.get(), &info, H5O_INFO_NUM_ATTRS) < 0) f.fail_at(object, "cannot list the attributes of");
  const auto name_at = [&](H5_index_t index, hsize_t i, char* text, std::size_t size) {
    return H5Aget_name_by_idx(target.get(), ".", index, H5_ITER_INC, i, text, size, H5P_DEFAULT);
  };
  // Creation order where the file tracks it, else name order.
  const H5_index_t index =
      info.num_attrs > 0 && name_at(H5_INDEX_CRT_ORDER, 0, nullptr, 0) >= 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const ssize_t size = name_at(index, i, nullptr, 0);
    if (size < 0) f.fail_at(object, "cannot list the attributes of");
    std::string name(std::size_t(size) + 1, '\0');
    if (name_at(index, i, name.data(), name.size()) < 0) f.fail_at(object, "cannot list the attributes of");
    name.resize(std::size_t(size));
    names.push_back(name);
  }
  return names;
}

std::string H5File::attr_text(const std::string& object, const std::string& name) const {
  auto& f = live(impl_);
  H5AttrId attr = f.open_attr(object, name);
  H5TypeId type(H5Aget_type(attr.get()));
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_STRING) return attr_string(object, name);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return "(not a number or string)";
  H5SpaceId space(H5Aget_space(attr.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return "(array)";
  if (cls == H5T_FLOAT) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", attr_number(object, name));
    return text;
  }
  long long value = 0;  // integers print exactly, beyond double's 2^53
  if (H5Aread(attr.get(), H5T_NATIVE_LLONG, &value) < 0)
    f.fail_at(object, cat("cannot read attribute '", name, "' of"));
  return std::to_string(value);
}

void H5File::commit() {
  auto& f = live(impl_);
  finish_writing(f, "commit", "committed");
  f.output->commit();
  f.lock.reset();  // the next writer of this file may start from this one's result
}

const std::string& H5File::close_for_others() {
  auto& f = live(impl_);
  finish_writing(f, "hand over", "handed over");
  return f.output->temp_path();
}

void H5File::reopen() {
  if (!impl_) fail("H5File used after being moved from");
  silence_hdf5_errors();
  Impl& f = *impl_;
  if (!f.output || f.file.valid()) fail(f.path, ": reopen() without close_for_others()");
  f.file = H5FileId(H5Fopen(f.output->temp_path().c_str(), H5F_ACC_RDWR, file_access_plist().get()));
  if (!f.file.valid()) fail(f.path, ": cannot reopen the HDF5 file the ranks wrote", hdf5_detail());
}

}  // namespace sira
