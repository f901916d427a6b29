// The HDF5 file sira serve writes as a series goes: per series a group
//   /series_<id>/data      float32 (n, height, width), one chunk per image
//   /series_<id>/image_id  uint64 (n): the image id of each row of data
// appended in publication order (ids are 64-bit and may come out of order, so
// rows are not indexed by id). Every image is flushed before the next, so a
// killed service leaves a valid file with every published image. With SWMR
// (the default; HDF5 1.10 file format) readers can open it while it grows
// (h5py: File(path, "r", libver="latest", swmr=True)); a new series closes and
// reopens the file to add its group, as SWMR allows no new objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace sira::serve {

class LiveWriter {
 public:
  LiveWriter(const std::string& path, bool swmr, const std::string& description);
  ~LiveWriter();
  LiveWriter(const LiveWriter&) = delete;
  LiveWriter& operator=(const LiveWriter&) = delete;

  void append(std::uint64_t series, std::uint64_t image_id, std::size_t height, std::size_t width,
              const float* pixels);
  void close();  // flushes and closes (also done by the destructor)
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace sira::serve
