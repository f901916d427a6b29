// Joseph's method as "lines": for a ray mostly along y (|cos| >= |sin|) the image is
// walked row by row and interpolated across columns; otherwise column by column
// (rows of the transposed image) and interpolated across rows. Either way, line k
// of the walk crosses the ray of detector column u at position p = alpha_k + beta u
// along the line, and the sample counts with weight 1 / max(|cos|, |sin|), the ray's
// length per line. Shared by the projector and its adjoint so both use the very
// same coefficients (which is what makes them an exact transpose pair).
#pragma once

#include <cmath>
#include <cstddef>

namespace sira::tomo::detail {

struct JosephAngle {
  bool along_rows = true;  // true: lines are image rows; false: image columns
  double beta = 0.0;       // dp/du
  double alpha0 = 0.0;     // p at u = 0 for the line with coordinate s = 0
  double alpha_per_line = 0.0;  // d alpha / d s
  double weight = 1.0;     // ray length per line step
};

// Image of size S (centre (S - 1) / 2), detector centre `center`, angle theta.
// For line k the line coordinate is s = k - (S - 1) / 2 and
// alpha_k = alpha0 + alpha_per_line * s.
inline JosephAngle joseph_angle(double theta, std::size_t size, double center) {
  const double c = std::cos(theta), s = std::sin(theta);
  const double mid = (static_cast<double>(size) - 1.0) / 2.0;
  JosephAngle a;
  a.along_rows = std::abs(c) >= std::abs(s);
  if (a.along_rows) {
    // Row y: x = (u - center + y sin) / cos, column position p = x + mid.
    a.beta = 1.0 / c;
    a.alpha0 = -center / c + mid;
    a.alpha_per_line = s / c;
    a.weight = 1.0 / std::abs(c);
  } else {
    // Column x: y = (x cos - u + center) / sin, row position p = y + mid.
    a.beta = -1.0 / s;
    a.alpha0 = center / s + mid;
    a.alpha_per_line = c / s;
    a.weight = 1.0 / std::abs(s);
  }
  return a;
}

}  // namespace sira::tomo::detail
