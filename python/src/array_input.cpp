#include "array_input.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

#include "sira/error.hpp"

namespace py = pybind11;

namespace sira::python {

namespace {

std::atomic<std::size_t> copies{0};

template <typename T>
float load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // numpy allows unaligned samples
  return float(v);
}

template <typename T>
void convert(const ArrayLayout& l, float* out) {
  for (std::size_t d = 0; d < l.depth; ++d)
    for (std::size_t y = 0; y < l.height; ++y) {
      const char* row = l.base + std::ptrdiff_t(d) * l.stride[0] + std::ptrdiff_t(y) * l.stride[1];
      for (std::size_t x = 0; x < l.width; ++x) *out++ = load<T>(row + std::ptrdiff_t(x) * l.stride[2]);
    }
}

std::string dtype_text(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

}  // namespace

ArrayLayout describe_array(const py::array& a, int axis, const char* what, bool allow_f64) {
  ArrayLayout l;
  if (py::isinstance<py::array_t<float>>(a)) {
    l.sample = Sample::f32;
  } else if (py::isinstance<py::array_t<std::uint16_t>>(a)) {
    l.sample = Sample::u16;
  } else if (py::isinstance<py::array_t<std::uint8_t>>(a)) {
    l.sample = Sample::u8;
  } else if (allow_f64 && py::isinstance<py::array_t<double>>(a)) {
    l.sample = Sample::f64;
  } else {
    throw py::type_error(cat(what, ": dtype ", dtype_text(a), " is not supported (expected float32, uint16",
                             allow_f64 ? ", uint8 or float64)" : " or uint8)"));
  }
  const py::ssize_t ndim = a.ndim();
  if (ndim != 2 && ndim != 3)
    throw py::value_error(cat(what, ": ", ndim, "-D array; expected one slice (H, W) or slices (N, H, W)"));
  for (py::ssize_t i = 0; i < ndim; ++i) l.shape.push_back(std::size_t(a.shape(i)));
  if (ndim == 2) {
    if (axis != 0 && axis != -2)
      throw py::value_error(cat(what, ": axis ", axis, " given for a 2-D array (one slice; axis must be 0)"));
    l.axis = 0;
    l.is_2d = true;
    l.depth = 1;
    l.height = l.shape[0];
    l.width = l.shape[1];
    l.stride[0] = 0;
    l.stride[1] = a.strides(0);
    l.stride[2] = a.strides(1);
  } else {
    if (axis < -3 || axis > 2) throw py::value_error(cat(what, ": axis ", axis, " is out of range for a 3-D array"));
    l.axis = axis < 0 ? axis + 3 : axis;
    l.is_2d = false;
    int dims[3] = {l.axis, 0, 0};
    for (int i = 0, k = 1; i < 3; ++i)
      if (i != l.axis) dims[k++] = i;
    l.depth = l.shape[std::size_t(dims[0])];
    l.height = l.shape[std::size_t(dims[1])];
    l.width = l.shape[std::size_t(dims[2])];
    for (int k = 0; k < 3; ++k) l.stride[k] = a.strides(dims[k]);
  }
  const int flags = a.flags();
  l.contiguous = (flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) &&
                 (flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_);
  l.base = static_cast<const char*>(a.data());
  return l;
}

FloatSlices::FloatSlices(const ArrayLayout& l) : height_(l.height), width_(l.width) {
  if (l.in_place()) {
    data_ = reinterpret_cast<const float*>(l.base);
    return;
  }
  copy_.resize(l.depth * l.height * l.width);
  switch (l.sample) {
    case Sample::f32: convert<float>(l, copy_.data()); break;
    case Sample::f64: convert<double>(l, copy_.data()); break;
    case Sample::u16: convert<std::uint16_t>(l, copy_.data()); break;
    case Sample::u8: convert<std::uint8_t>(l, copy_.data()); break;
  }
  data_ = copy_.data();
  ++copies;
}

Stack FloatSlices::stack(std::size_t first, std::size_t count, DType dtype) const {
  Stack s(count, height_, width_, dtype);
  std::memcpy(s.data.data(), slice(first), count * height_ * width_ * sizeof(float));
  return s;
}

DType stack_dtype(Sample s) {
  switch (s) {
    case Sample::u16: return DType::u16;
    case Sample::u8: return DType::u8;
    default: return DType::f32;
  }
}

std::size_t input_copies() { return copies.load(); }

}  // namespace sira::python
