// sira convert: copy an image or stack between TIFF, PNG, NumPy .npy and HDF5,
// optionally changing the sample type or taking a range of slices.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include "command.hpp"
#include "core/whole_number.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"

namespace sira::cli {
namespace {

// "LO:HI" or "minmax" (the data's own extremes).
std::pair<double, double> parse_value_range(const std::string& spec, const Stack& s) {
  if (spec == "minmax") {
    const auto [lo, hi] = std::minmax_element(s.data.begin(), s.data.end());
    if (!(*hi > *lo)) fail("--range minmax: the data are constant (", *lo, ")");
    return {*lo, *hi};
  }
  const auto colon = spec.find(':', 1);  // LO may be negative
  const std::optional<double> lo = colon == std::string::npos ? std::nullopt : whole_double(spec.substr(0, colon));
  const std::optional<double> hi = colon == std::string::npos ? std::nullopt : whole_double(spec.substr(colon + 1));
  if (!lo || !hi || !(*hi > *lo)) fail("--range '", spec, "': expected LO:HI with LO < HI, or minmax");
  return {*lo, *hi};
}

// v -> round((v - lo) / (hi - lo) * top), clipped to [0, top] (NaN stays NaN: the writer refuses it).
void map_to_integer_range(Stack& s, double lo, double hi, DType as) {
  const double top = as == DType::u8 ? 255.0 : 65535.0;
  for (float& v : s.data)
    if (!std::isnan(v)) v = float(std::round(std::clamp((double(v) - lo) / (hi - lo), 0.0, 1.0) * top));
}

struct ConvertOptions {
  std::string input, output, dtype, range;
  std::size_t first = 0, count = 0;
  bool in_place = false;
};

Runner setup_convert(CLI::App& sub) {
  auto opts = std::make_shared<ConvertOptions>();
  sub.add_option("-i,--input", opts->input,
                 "Input: image.tif, image.png, stack.npy or file.h5:/dataset")
      ->required();
  sub.add_option("-o,--output", opts->output,
                 "Output, same forms; the format follows the extension. Written to a temporary "
                 "name and renamed when complete. An existing .h5 keeps its other datasets.")
      ->required();
  sub.add_option("--dtype", opts->dtype,
                 "Output sample type (default: the input's; other input types read as float32). "
                 "Integers are rounded; out-of-range values are an error, never clipped")
      ->check(CLI::IsMember({"uint8", "uint16", "float32"}));
  sub.add_option("--range", opts->range,
                 "With an integer --dtype: map values LO..HI linearly onto the type's full range (0..255 or\n"
                 "0..65535), clipping outside; 'minmax' takes the data's own range. Float data that are not\n"
                 "integers need it (rounding them as they are would flatten them)");
  sub.add_option("--first", opts->first, "First slice (page) to convert");
  sub.add_option("--count", opts->count, "Number of slices to convert (0 = to the end)");
  sub.add_flag("--in-place", opts->in_place,
               "Allow the output to be the input (same file, or same HDF5 dataset): it is replaced");
  sub.footer(
      "Examples:\n"
      "  sira convert -i tooth.h5:/exchange/data -o tooth.tif\n"
      "  sira convert -i sinogram.tif -o sinogram.npy\n"
      "  sira convert -i recon.npy -o pairs.h5:/train_gt\n"
      "  sira convert -i stack.tif --first 10 --count 1 -o slice10.png --dtype uint16\n"
      "  sira convert -i recon.tif -o recon16.tif --dtype uint16 --range -0.002:0.03\n"
      "Formats: .tif/.tiff (multi-page = stack), .png (8/16-bit grayscale, one image),\n"
      ".npy, .h5/.hdf5/.hdf/.nxs with ':/dataset'. Colour images are refused.");
  return [opts] {
    if (!opts->in_place && same_data(opts->input, opts->output))
      fail(opts->output, ": is the input; writing it would replace the input (give --in-place to "
           "do that, or another output)");
    Stack s = read_slices(opts->input, opts->first, opts->count);
    std::optional<DType> as;
    if (!opts->dtype.empty()) as = parse_dtype(opts->dtype);
    const bool to_integers = as && *as != DType::f32;
    if (!opts->range.empty()) {
      if (!to_integers) fail("--range maps onto an integer type: give --dtype uint8 or uint16");
      const auto [lo, hi] = parse_value_range(opts->range, s);
      map_to_integer_range(s, lo, hi, *as);
      status(cat("sira convert: mapped ", lo, "..", hi, " onto 0..", *as == DType::u8 ? 255 : 65535));
    } else if (to_integers && s.dtype == DType::f32) {
      for (std::size_t i = 0; i < s.size(); ++i)
        if (s.data[i] != std::round(s.data[i]))
          fail(opts->input, ": float32 sample ", s.data[i], " (slice ", i / s.slice_size(), ") is not an integer; ",
               "rounding would flatten the data: give --range LO:HI (or minmax) to scale it onto ",
               dtype_name(*as));
    }
    Provenance p = run_provenance();
    p.add("input", opts->input).add("first", opts->first).add("count", s.depth);
    if (!opts->range.empty()) p.add("range", opts->range);
    write_stack(opts->output, s, as, p);
    status(cat("sira convert: wrote ", opts->output, " (", s.depth, "x", s.height, "x", s.width,
               " ", dtype_name(as.value_or(s.dtype)), ")"));
    return 0;
  };
}

const Command convert_command{"convert", "Convert images between TIFF, PNG, .npy and HDF5",
                              setup_convert};

}  // namespace
}  // namespace sira::cli
