// sira.recon: filtered back-projection by sira's tomography library (src/tomo),
// with the defaults of `sira recon` (ramp filter, circle mask, size = detector
// width, centre = the detector middle unless given).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "array_input.hpp"
#include "bindings.hpp"
#include "sira/error.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/projector.hpp"
#include "core/thread_limit.hpp"

namespace py = pybind11;

namespace sira::python {

namespace {

using Angles = py::array_t<double, py::array::c_style | py::array::forcecast>;  // any sequence of numbers

py::array_t<float> recon(const py::array& sinogram, const Angles& angles, std::optional<double> center,
                         const std::string& filter, std::size_t size, bool circle_mask, int threads) {
  // (angles, detector) is one sinogram, (slices, angles, detector) a stack, as sira recon reads them.
  const ArrayLayout in = describe_array(sinogram, 0, "sinogram", true);
  if (angles.ndim() != 1)
    throw py::value_error(cat("theta: ", angles.ndim(), "-D; expected one angle (radians) per sinogram row"));
  if (std::size_t(angles.shape(0)) != in.height)
    throw py::value_error(cat("theta: ", angles.shape(0), " angles for sinograms of ", in.height,
                              " rows (angles, detector)"));
  if (threads < 0) throw py::value_error(cat("threads ", threads, " is negative (0 means every core)"));
  tomo::FbpOptions options;
  options.filter = tomo::parse_filter(filter);
  options.size = size;
  options.circle_mask = circle_mask;
  const std::size_t side = size ? size : in.width;
  std::vector<py::ssize_t> shape;
  if (!in.is_2d) shape.push_back(py::ssize_t(in.depth));
  shape.push_back(py::ssize_t(side));
  shape.push_back(py::ssize_t(side));
  py::array_t<float> out(shape);
  float* dst = out.mutable_data();
  const double* a = angles.data();
  {
    py::gil_scoped_release nogil;
    ThreadLimit keep_callers_threads(threads);
    check_dims(in.depth, in.height, in.width, "sinogram");
    tomo::Sinograms sino;
    sino.data = Stack(in.depth, in.height, in.width);
    const FloatSlices samples(in);
    std::memcpy(sino.data.data.data(), samples.data(), sino.data.data.size() * sizeof(float));
    check_finite(sino.data, "sinogram");
    sino.theta.assign(a, a + in.height);
    for (std::size_t i = 0; i < sino.theta.size(); ++i)
      if (!std::isfinite(sino.theta[i])) fail("theta: angle ", i, " is not finite (", sino.theta[i], ")");
    if (center) {
      tomo::check_center(*center, in.width, "sinogram");
      sino.center = *center;
    }
    const Stack slices = tomo::fbp(sino, options);
    std::memcpy(dst, slices.data.data(), slices.data.size() * sizeof(float));
  }
  return out;
}

}  // namespace

void bind_recon(py::module_& m) {
  m.def("recon", &recon, py::arg("sinogram"), py::arg("theta"), py::arg("center") = py::none(), py::kw_only(),
        py::arg("filter") = "ramp", py::arg("size") = 0, py::arg("circle_mask") = true, py::arg("threads") = 0,
        R"(Filtered back-projection of parallel-beam sinograms (sira recon --algorithm fbp).

sinogram: (angles, detector) or (slices, angles, detector), float32, float64
(read as float32), uint16 or uint8 line integrals; a TomoPy projection array
(angles, rows, detector) is proj.swapaxes(0, 1). theta: radians, one per angle.
center: rotation axis in detector columns (None = (detector - 1) / 2). filter
ramp | shepp-logan | cosine | hann; size 0 = detector width; circle_mask zeroes
pixels outside the reconstruction circle. Returns float32 (size, size) per slice.)");
}

}  // namespace sira::python
