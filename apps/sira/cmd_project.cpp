// sira project: parallel-beam projections (Radon transform, Joseph's method) of an
// image or volume, e.g. a phantom from `sira phantom`.
#include <omp.h>

#include <algorithm>
#include <memory>
#include <numbers>

#include "command.hpp"
#include "progress.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::cli {
namespace {

struct ProjectCliOptions {
  std::string input, output;
  std::size_t angles = 180;
  int arc = 180;
  std::size_t detector = 0;
  double center = -1.0;
  int threads = 0;
};

// Projects `images` a few slices at a time so a long job shows progress.
Stack project_with_progress(const Stack& images, const std::vector<double>& theta, std::size_t width,
                            double center) {
  Stack out(images.depth, theta.size(), width);
  out.is_2d = images.is_2d && images.depth == 1;
  const std::size_t chunk = std::max<std::size_t>(1, 2 * static_cast<std::size_t>(omp_get_max_threads()));
  ProgressBar bar("project", images.depth);
  for (std::size_t z0 = 0; z0 < images.depth; z0 += chunk) {
    const std::size_t n = std::min(chunk, images.depth - z0);
    Stack part(n, images.height, images.width);
    std::copy(images.slice(z0), images.slice(z0) + n * images.slice_size(), part.data.begin());
    const tomo::Sinograms s = tomo::project(part, theta, width, center);
    std::copy(s.data.data.begin(), s.data.data.end(), out.slice(z0));
    bar.update(z0 + n);
  }
  bar.finish();
  return out;
}

Runner setup_project(CLI::App& sub) {
  auto opts = std::make_shared<ProjectCliOptions>();
  sub.add_option("-i,--input", opts->input, "Image or volume (square slices): img.tif, vol.npy, f.h5:/phantom")
      ->required();
  sub.add_option("-o,--output", opts->output,
                 "Sinograms (float32, slices x angles x detector): sino.npy, sino.tif, f.h5:/sinogram")
      ->required();
  sub.add_option("--angles", opts->angles, "Number of projection angles, evenly spaced, endpoint excluded")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  sub.add_option("--arc", opts->arc, "Angular range in degrees")->capture_default_str()
      ->check(CLI::IsMember({180, 360}));
  sub.add_option("--detector", opts->detector, "Detector columns (0 = image width)")->capture_default_str()
      ->check(CLI::Range(0, 65536));
  sub.add_option("--center", opts->center,
                 "Detector column of the rotation axis (default: the detector middle, (columns - 1) / 2)");
  sub.add_option("--threads", opts->threads, "Threads (0 = all cores)")->capture_default_str()
      ->check(CLI::Range(0, 1024));
  sub.footer(
      "Angle k is k * arc / angles (radians in the maths, degrees on the command line). The ray of\n"
      "detector column u at angle theta is x cos(theta) - y sin(theta) = u - center, with x to the\n"
      "right and y down from the image centre: scikit-image's radon convention (docs/tomography-recon.md).\n"
      "Values are line integrals in pixel lengths.\n"
      "Examples:\n"
      "  sira phantom shepp-logan --size 512 -o shepp.npy\n"
      "  sira project -i shepp.npy -o sino.npy --angles 720\n"
      "  sira project -i vol.h5:/phantom -o sino.h5:/sinogram --angles 360 --arc 360 --center 250.5 --detector 520");
  return [opts, &sub] {
    if (opts->threads > 0) omp_set_num_threads(opts->threads);
    Stack images = read_stack(opts->input);
    if (images.height != images.width)
      fail(opts->input, ": slices must be square for projection, got ", images.height, " x ", images.width);
    check_finite(images, opts->input);
    const std::size_t width = opts->detector ? opts->detector : images.width;
    if (sub.count("--center") > 0) tomo::check_center(opts->center, width, "sira project");
    const double center = sub.count("--center") > 0 ? opts->center : (width - 1) / 2.0;
    const auto theta = tomo::uniform_angles(opts->angles, opts->arc * std::numbers::pi / 180.0);
    status(cat("sira project: ", images.depth, " slice(s) of ", images.width, "x", images.height, ", ",
               opts->angles, " angles over ", opts->arc, " degrees, detector ", width, " columns, centre ",
               center));
    const Stack sino = project_with_progress(images, theta, width, center);
    write_stack(opts->output, sino, DType::f32);
    status(cat("sira project: wrote ", opts->output));
    return 0;
  };
}

const Command project_command{"project", "Forward-project images into parallel-beam sinograms", setup_project};

}  // namespace
}  // namespace sira::cli
