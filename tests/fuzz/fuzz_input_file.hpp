// What the file-reading fuzz targets share: the input bytes are written to a
// fresh file (unique name, the extension the reader dispatches on) in a
// per-process folder, the reader runs on it, and the file is removed. sira
// reads its formats by path (TIFF through libtiff, HDF5 through libhdf5), so a
// file is the honest interface to fuzz.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace sira::fuzz {

class InputFile {
 public:
  InputFile(const std::uint8_t* data, std::size_t size, const std::string& extension) {
    static const std::filesystem::path folder = make_folder();
    static unsigned long counter = 0;
    path_ = (folder / ("in" + std::to_string(counter++) + extension)).string();
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
  }
  ~InputFile() { std::filesystem::remove(path_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  static std::filesystem::path make_folder() {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path p = std::filesystem::path(base && *base ? base : "/tmp") /
                              ("sira-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    return p;
  }
  std::string path_;
};

}  // namespace sira::fuzz
