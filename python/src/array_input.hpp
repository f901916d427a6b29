// A numpy array of 2-D slices as sira's library reads it: depth x height x
// width float32 samples, contiguous, slice after slice. A C-contiguous float32
// array whose slices lie along axis 0 is read where it is; any other (uint16 or
// uint8 samples, other strides, another slice axis) is converted into a copy.
// input_copies() counts those conversions, so a test can check that the
// in-place case really copies nothing.
#pragma once

#include <pybind11/numpy.h>

#include <cstddef>
#include <string>
#include <vector>

#include "sira/stack.hpp"

namespace sira::python {

enum class Sample { f32, f64, u16, u8 };

// Where the samples of an array are and how to step through them, read under
// the GIL so the conversion can run without it.
struct ArrayLayout {
  const char* base = nullptr;
  Sample sample = Sample::f32;
  std::size_t depth = 1, height = 0, width = 0;
  std::ptrdiff_t stride[3] = {0, 0, 0};  // bytes: slice, row, column
  bool is_2d = true;
  std::vector<std::size_t> shape;        // the array's own shape
  int axis = 0;                          // the array's axis holding the slices (0 for 2-D)
  bool contiguous = false;               // numpy's C-contiguous and aligned flags both set
  // Read where it is: C-contiguous aligned float32 with the slices along axis 0.
  bool in_place() const { return sample == Sample::f32 && contiguous && axis == 0; }
};

// Checks `array` (named `what` in messages): ndim 2 (one slice) or 3 (slices
// along `axis`, negative counts from the end); dtype float32, uint16, uint8, and
// float64 where `allow_f64`. Raises TypeError / ValueError otherwise.
ArrayLayout describe_array(const pybind11::array& array, int axis, const char* what, bool allow_f64);

// The samples of an ArrayLayout as one contiguous float block (needs no GIL).
class FloatSlices {
 public:
  explicit FloatSlices(const ArrayLayout& layout);
  const float* data() const { return data_; }
  const float* slice(std::size_t d) const { return data_ + d * height_ * width_; }
  // Slices [first, first + count) as a Stack of `dtype` (its own copy).
  Stack stack(std::size_t first, std::size_t count, DType dtype) const;

 private:
  std::vector<float> copy_;
  const float* data_ = nullptr;
  std::size_t height_ = 0, width_ = 0;
};

// sira's DType of an array's samples (float64 reads as float32).
DType stack_dtype(Sample s);

// How many arrays have been converted into a copy since the module loaded.
std::size_t input_copies();

}  // namespace sira::python
