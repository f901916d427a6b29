// sira convert: copy an image or stack between TIFF, PNG, NumPy .npy and HDF5,
// optionally changing the sample type or taking a range of slices.
#include <memory>
#include <optional>

#include "command.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"

namespace sira::cli {
namespace {

struct ConvertOptions {
  std::string input, output, dtype;
  std::size_t first = 0, count = 0;
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
  sub.add_option("--first", opts->first, "First slice (page) to convert");
  sub.add_option("--count", opts->count, "Number of slices to convert (0 = to the end)");
  sub.footer(
      "Examples:\n"
      "  sira convert -i tooth.h5:/exchange/data -o tooth.tif\n"
      "  sira convert -i sinogram.tif -o sinogram.npy\n"
      "  sira convert -i recon.npy -o pairs.h5:/train_gt\n"
      "  sira convert -i stack.tif --first 10 --count 1 -o slice10.png --dtype uint16\n"
      "Formats: .tif/.tiff (multi-page = stack), .png (8/16-bit grayscale, one image),\n"
      ".npy, .h5/.hdf5/.hdf/.nxs with ':/dataset'. Colour images are refused.");
  return [opts] {
    const Stack s = read_slices(opts->input, opts->first, opts->count);
    std::optional<DType> as;
    if (!opts->dtype.empty()) as = parse_dtype(opts->dtype);
    write_stack(opts->output, s, as);
    status(cat("sira convert: wrote ", opts->output, " (", s.depth, "x", s.height, "x", s.width,
               " ", dtype_name(as.value_or(s.dtype)), ")"));
    return 0;
  };
}

const Command convert_command{"convert", "Convert images between TIFF, PNG, .npy and HDF5",
                              setup_convert};

}  // namespace
}  // namespace sira::cli
