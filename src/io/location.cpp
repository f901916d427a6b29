// Location strings: "image.tif", "stack.npy", "file.h5:/path/to/dataset".
#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string_view>

#include "sira/error.hpp"
#include "sira/io.hpp"

namespace sira {

namespace {

constexpr std::array<std::string_view, 4> kHdf5Extensions{".h5", ".hdf5", ".hdf", ".nxs"};

bool iequals_at(const std::string& s, std::size_t pos, std::string_view ext) {
  if (pos + ext.size() > s.size()) return false;
  for (std::size_t i = 0; i < ext.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[pos + i])) != ext[i]) return false;
  return true;
}

std::string lower_extension(const std::string& file) {
  const std::size_t dot = file.rfind('.');
  const std::size_t slash = file.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = file.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

Location parse_location(const std::string& spec) {
  if (spec.empty()) fail("empty image location");
  // HDF5: the first HDF5 extension followed by ':' or the end splits file and dataset.
  for (std::size_t dot = spec.find('.'); dot != std::string::npos; dot = spec.find('.', dot + 1)) {
    for (std::string_view ext : kHdf5Extensions) {
      if (!iequals_at(spec, dot, ext)) continue;
      const std::size_t end = dot + ext.size();
      if (end == spec.size())
        fail(spec, ": an HDF5 location needs a dataset path, e.g. '", spec, ":/exchange/data'");
      if (spec[end] != ':') continue;
      Location loc{spec.substr(0, end), spec.substr(end + 1), Format::hdf5};
      if (loc.dataset.empty() || loc.dataset == "/")
        fail(spec, ": an HDF5 location needs a dataset path after ':', e.g. '", loc.file,
             ":/exchange/data'");
      if (loc.dataset[0] != '/') loc.dataset.insert(loc.dataset.begin(), '/');
      return loc;
    }
  }
  const std::string ext = lower_extension(spec);
  if (ext == ".tif" || ext == ".tiff") return {spec, "", Format::tiff};
  if (ext == ".png") return {spec, "", Format::png};
  if (ext == ".npy") return {spec, "", Format::npy};
  fail(spec, ": cannot tell the image format from the extension '", ext,
       "' (expected .tif, .tiff, .png, .npy, or .h5/.hdf5/.hdf/.nxs followed by ':/dataset')");
}

namespace {
// "/a//b/" -> "/a/b": HDF5 reads both as one dataset.
std::string normal_dataset(const std::string& name) {
  std::string out;
  for (char c : name)
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}
}  // namespace

bool same_data(const std::string& input, const std::string& output) {
  const Location in = parse_location(input), out = parse_location(output);
  std::error_code ec;
  if (!std::filesystem::equivalent(in.file, out.file, ec) || ec) return false;
  return in.format != Format::hdf5 || out.format != Format::hdf5 ||
         normal_dataset(in.dataset) == normal_dataset(out.dataset);
}

}  // namespace sira
