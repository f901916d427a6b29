// sira.denoise: the same library calls as `sira denoise` (apps/sira/cmd_denoise.cpp
// and src/stream/denoise_stream.cpp), on an array in memory: the int8 ranges
// re-observed on the input unless int8_ranges="model", each slice run through
// Engine::denoise_window with its neighbours (edges repeated), the result's rows
// written straight into the output array. The GIL is released from the
// conversion to the last row, so other Python threads run meanwhile.
#include <pybind11/numpy.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "array_input.hpp"
#include "bindings.hpp"
#include "loaded_model.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/quantize.hpp"
#include "core/thread_limit.hpp"

namespace py = pybind11;

namespace sira::python {

namespace {

// denoise calls computing right now, with the GIL released: a test observing 2
// from a third Python thread has seen two calls overlap (docs/python.md).
std::atomic<int> running{0};
struct Running {
  Running() { ++running; }
  ~Running() { --running; }
};

// Where row y of output slice d goes: the output has the input's shape, C order,
// so a slice axis other than 0 scatters each row.
struct OutputLayout {
  char* base = nullptr;
  std::ptrdiff_t stride[3] = {0, 0, 0};  // bytes: slice, row, column
};

OutputLayout output_layout(py::array_t<float>& out, const ArrayLayout& in) {
  OutputLayout o;
  o.base = reinterpret_cast<char*>(out.mutable_data());
  if (in.is_2d) {
    o.stride[1] = out.strides(0);
    o.stride[2] = out.strides(1);
    return o;
  }
  int dims[3] = {in.axis, 0, 0};
  for (int i = 0, k = 1; i < 3; ++i)
    if (i != in.axis) dims[k++] = i;
  for (int k = 0; k < 3; ++k) o.stride[k] = out.strides(dims[k]);
  return o;
}

void write_rows(const OutputLayout& o, std::size_t d, std::size_t first_row, std::size_t rows, std::size_t w,
                const float* band) {
  for (std::size_t r = 0; r < rows; ++r) {
    char* dst = o.base + std::ptrdiff_t(d) * o.stride[0] + std::ptrdiff_t(first_row + r) * o.stride[1];
    const float* src = band + r * w;
    if (o.stride[2] == std::ptrdiff_t(sizeof(float))) {
      std::memcpy(dst, src, w * sizeof(float));
    } else {
      for (std::size_t x = 0; x < w; ++x) std::memcpy(dst + std::ptrdiff_t(x) * o.stride[2], src + x, sizeof(float));
    }
  }
}

void run_denoise(const ArrayLayout& in, const OutputLayout& out, const LoadedModel& loaded,
                 const EngineOptions& engine_options, const InputRangeOptions& int8) {
  const std::string what = "array";
  check_dims(in.depth, in.height, in.width, what);
  const FloatSlices slices(in);
  check_finite(slices.data(), in.depth, in.height, in.width, what);

  const Model* model = &loaded.model;
  Model recalibrated;
  if (engine_options.precision == Precision::int8 && loaded.model.quant && int8.ranges == "input") {
    QuantizeOptions calibration;
    calibration.threads = engine_options.threads;
    calibration.percentile = int8.percentile;
    const DType dtype = stack_dtype(in.sample);
    const SliceReader read = [&](std::size_t first, std::size_t n) { return slices.stack(first, n, dtype); };
    const auto images =
        input_calibration_slices(what, in.depth, read, int8.slices, loaded.model.config.slices, int8.window);
    recalibrated = recalibrate_activations(loaded.model, images, calibration);
    model = &recalibrated;
  }
  Engine engine(*model, engine_options);
  const std::size_t min = engine.min_size();
  if (in.height < min || in.width < min)
    fail(what, ": image ", in.height, "x", in.width, " is smaller than the minimum ", min, "x", min,
         " this model accepts");

  const std::size_t reach = std::size_t(engine.graph().in_channels) / 2;  // neighbours each side
  for (std::size_t z = 0; z < in.depth; ++z) {
    const std::size_t lo = z >= reach ? z - reach : 0;
    const std::size_t hi = std::min(in.depth - 1, z + reach);
    std::vector<const float*> window;
    for (std::size_t k = lo; k <= hi; ++k) window.push_back(slices.slice(k));
    engine.denoise_window(window, z - lo, in.height, in.width,
                          [&](std::size_t first_row, std::size_t rows, const float* band) {
                            write_rows(out, z, first_row, rows, in.width, band);
                          });
  }
}

py::array_t<float> denoise(const py::array& input, const std::shared_ptr<LoadedModel>& model, int axis,
                           const std::string& precision, std::size_t tile, int threads, const std::string& backend,
                           long halo, const std::string& int8_ranges, std::size_t int8_calibration_slices,
                           std::size_t int8_calibration_window, double int8_percentile) {
  if (!model) throw py::type_error("denoise: model is None (give sira.load_model(path))");
  if (int8_ranges != "input" && int8_ranges != "model")
    throw py::value_error("int8_ranges '" + int8_ranges + "' is unknown (expected 'input' or 'model')");
  if (int8_calibration_slices == 0) throw py::value_error("int8_calibration_slices must be at least 1");
  if (!(int8_percentile >= 50.0 && int8_percentile <= 100.0))
    throw py::value_error("int8_percentile must lie in [50, 100]");
  const ArrayLayout in = describe_array(input, axis, "array", false);
  std::vector<py::ssize_t> shape(in.shape.begin(), in.shape.end());
  py::array_t<float> out(shape);
  const OutputLayout out_layout = output_layout(out, in);

  EngineOptions engine_options;  // the names parsed once, here
  check_backend_name(backend);
  engine_options.backend = backend;
  engine_options.precision = parse_precision(precision);
  engine_options.threads = threads;
  engine_options.tile = tile;
  engine_options.halo = halo;
  const InputRangeOptions int8{int8_ranges, int8_calibration_slices, int8_calibration_window, int8_percentile};
  {
    py::gil_scoped_release nogil;
    const Running counted;
    ThreadLimit keep_callers_threads(0);
    run_denoise(in, out_layout, *model, engine_options, int8);
  }
  return out;
}

}  // namespace

void bind_denoise(py::module_& m) {
  m.def("denoise", &denoise, py::arg("array"), py::arg("model"), py::arg("axis") = 0, py::arg("precision") = "fp32",
        py::arg("tile") = 0, py::arg("threads") = 0, py::arg("backend") = "auto", py::kw_only(), py::arg("halo") = -1, py::arg("int8_ranges") = InputRangeOptions{}.ranges,
        py::arg("int8_calibration_slices") = InputRangeOptions{}.slices,
        py::arg("int8_calibration_window") = InputRangeOptions{}.window,
        py::arg("int8_percentile") = InputRangeOptions{}.percentile,
        R"(Denoises one slice (H, W) or slices (N, H, W) with `model` (sira.load_model).

array: float32, uint16 or uint8, any strides; axis: the axis holding the slices
(3-D arrays). Returns float32 of the array's shape, bit-identical to
`sira denoise` with the same options on the same data. precision fp32 | bf16 |
int8; tile 0 = whole slices; threads 0 = every core; backend auto | onednn | xnnpack (fp32) | ref;
halo -1 = the receptive radius. With precision='int8' the activation ranges are
re-observed on int8_calibration_slices evenly spaced slices of the array
(centred int8_calibration_window pixels, int8_percentile kept), as the CLI's
--int8-ranges input; int8_ranges='model' keeps the model's. The GIL is released
while it runs; a C-contiguous float32 array with axis=0 is read in place.)");
  m.def("input_copies", &input_copies,
        "How many input arrays sira has converted into a float32 copy since import (a C-contiguous float32 "
        "array with axis=0 is read in place and does not count); for tests and tuning");
  m.def("running_calls", [] { return running.load(); },
        "How many denoise calls are computing right now with the GIL released (seen from another thread: "
        "2 means two calls overlap); for tests");
}

}  // namespace sira::python
