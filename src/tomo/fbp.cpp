// Filtered back-projection: filter every projection (filter.cpp), back-project them
// (BackprojectionAccumulator, backprojection.cpp), then scale by the angular weight.
#include "sira/tomo/fbp.hpp"

#include <cmath>

#include "sira/error.hpp"
#include "sira/tomo/backprojection.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::tomo {

namespace {

std::size_t output_size(const Sinograms& s, std::size_t size, const char* what) {
  if (size == 0) return s.data.width;
  if (size > kMaxDim) fail(what, ": output size ", size, " exceeds the limit of ", kMaxDim);
  return size;
}

}  // namespace

bool inside_circle(std::size_t i, std::size_t j, std::size_t size) {
  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  const double y = static_cast<double>(i) - mid, x = static_cast<double>(j) - mid;
  return x * x + y * y <= mid * mid;
}

Stack backproject_linear(const Sinograms& filtered, std::size_t size, bool circle_mask) {
  check_sinograms(filtered, "backproject_linear");
  const Stack& sino = filtered.data;
  size = output_size(filtered, size, "backproject_linear");
  BackprojectionAccumulator acc(sino.depth, sino.width, size, filtered.center_or_default());
  acc.add_filtered(sino.data.data(), filtered.theta);
  Stack out = acc.finish(angular_weight(filtered.theta), circle_mask);
  out.is_2d = sino.is_2d && sino.depth == 1;
  return out;
}

Stack fbp(const Sinograms& sinograms, const FbpOptions& options) {
  check_sinograms(sinograms, "fbp");
  const Stack& sino = sinograms.data;
  const std::size_t size = output_size(sinograms, options.size, "fbp");
  BackprojectionAccumulator acc(sino.depth, sino.width, size, sinograms.center_or_default());
  acc.add(sino.data.data(), sinograms.theta, options.filter);
  Stack out = acc.finish(angular_weight(sinograms.theta), options.circle_mask);
  out.is_2d = sino.is_2d && sino.depth == 1;
  return out;
}

}  // namespace sira::tomo
