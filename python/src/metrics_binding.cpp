// sira.ssim and sira.psnr: sira's metrics (src/metrics, docs/metrics.md), which
// are defined as scikit-image's with gaussian_weights=True, sigma=1.5.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>

#include "array_input.hpp"
#include "bindings.hpp"
#include "sira/error.hpp"
#include "sira/metrics.hpp"

namespace py = pybind11;

namespace sira::python {

namespace {

struct ImagePair {
  ArrayLayout image, reference;
};

ImagePair describe_pair(const py::array& image, const py::array& reference) {
  ImagePair p{describe_array(image, 0, "image", true), describe_array(reference, 0, "reference", true)};
  if (p.image.shape != p.reference.shape) throw py::value_error("image and reference differ in shape");
  return p;
}

// The default data range: max - min of the reference, as sira eval uses.
double resolve_range(const FloatSlices& reference, std::size_t n, std::optional<double> data_range) {
  if (data_range) {
    if (!(*data_range > 0.0)) fail("data_range ", *data_range, " is not > 0");
    return *data_range;
  }
  const auto [lo, hi] = std::minmax_element(reference.data(), reference.data() + n);
  if (!(double(*hi) > double(*lo))) fail("reference: constant image; give data_range");
  return double(*hi) - double(*lo);
}

double ssim(const py::array& image, const py::array& reference, std::optional<double> data_range) {
  const ImagePair p = describe_pair(image, reference);
  if (!p.image.is_2d) throw py::value_error("ssim: 3-D arrays; sira's SSIM is of one 2-D image (loop over slices)");
  py::gil_scoped_release nogil;
  const std::size_t h = p.image.height, w = p.image.width;
  const FloatSlices a(p.image), b(p.reference);
  check_finite(a.data(), 1, h, w, "image");
  check_finite(b.data(), 1, h, w, "reference");
  return sira::ssim(a.data(), b.data(), h, w, resolve_range(b, h * w, data_range));
}

double psnr(const py::array& image, const py::array& reference, std::optional<double> data_range) {
  const ImagePair p = describe_pair(image, reference);
  py::gil_scoped_release nogil;
  const std::size_t n = p.image.depth * p.image.height * p.image.width;
  const FloatSlices a(p.image), b(p.reference);
  check_finite(a.data(), p.image.depth, p.image.height, p.image.width, "image");
  check_finite(b.data(), p.image.depth, p.image.height, p.image.width, "reference");
  return sira::psnr(a.data(), b.data(), n, resolve_range(b, n, data_range));
}

}  // namespace

void bind_metrics(py::module_& m) {
  m.def("ssim", &ssim, py::arg("image"), py::arg("reference"), py::arg("data_range") = py::none(),
        R"(Mean SSIM of a 2-D image against its reference, computed in double on float32 samples:
skimage.metrics.structural_similarity(reference, image, data_range=R, gaussian_weights=True,
sigma=1.5, use_sample_covariance=False). data_range None = max - min of the reference.)");
  m.def("psnr", &psnr, py::arg("image"), py::arg("reference"), py::arg("data_range") = py::none(),
        R"(PSNR in dB of an image or stack against its reference (inf when equal):
skimage.metrics.peak_signal_noise_ratio(reference, image, data_range=R).
data_range None = max - min of the reference.)");
}

}  // namespace sira::python
