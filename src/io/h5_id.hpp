// RAII ownership of an HDF5 identifier, closed by the matching H5?close.
#pragma once

#include <hdf5.h>

#include <utility>

namespace sira::io {

template <herr_t (*Close)(hid_t)>
class H5Id {
 public:
  H5Id() = default;
  explicit H5Id(hid_t id) : id_(id) {}
  ~H5Id() { reset(); }
  H5Id(H5Id&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  H5Id& operator=(H5Id&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns false if HDF5 reported an error (e.g. a failed flush).
  bool reset() {
    const bool ok = id_ < 0 || Close(id_) >= 0;
    id_ = H5I_INVALID_HID;
    return ok;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using H5FileId = H5Id<H5Fclose>;
using H5DatasetId = H5Id<H5Dclose>;
using H5SpaceId = H5Id<H5Sclose>;
using H5TypeId = H5Id<H5Tclose>;
using H5PlistId = H5Id<H5Pclose>;
using H5AttrId = H5Id<H5Aclose>;
using H5ObjectId = H5Id<H5Oclose>;

}  // namespace sira::io
