// Parallel-beam forward projection (Radon transform) with Joseph's method and its
// exact adjoint (back-projection), the matched pair SIRT iterates with.
//
// Geometry (shared by every tomo function): an image of size S x S has its centre at
// ((S - 1) / 2, (S - 1) / 2); a pixel at column j, row i sits at x = j - (S - 1) / 2,
// y = i - (S - 1) / 2 (rows go down). The ray at angle theta through detector
// column u measures the line x cos(theta) - y sin(theta) = u - center, so theta = 0
// sums the image down its columns and theta grows counter-clockwise as seen on
// screen (scikit-image's radon convention; identical to it for odd S and
// center = (S - 1) / 2). Pixel size 1: values are in units of pixel length.
#pragma once

#include <cstddef>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

// n angles covering `arc` radians (pi for 180 degrees, 2 pi for 360), endpoint excluded.
std::vector<double> uniform_angles(std::size_t n, double arc);

// Line integrals of every slice of `images` (depth x S x S, square) at the angles
// `theta` (radians), on a detector of `detector_width` columns (0 = S) whose column
// `center` (< 0 = (detector_width - 1) / 2) sees the image centre.
// Joseph's method: along each ray, step over the axis closest to the ray direction
// and interpolate linearly across the other. Slices and angles run in parallel.
Sinograms project(const Stack& images, const std::vector<double>& theta,
                  std::size_t detector_width = 0, double center = -1.0);

// The exact adjoint (transpose) of project(): <project(x), y> == <x, backproject(y)>.
// Returns depth x size x size images (size 0 = detector width). Not a reconstruction
// (no filter, no angular weight); fbp() is.
Stack backproject(const Sinograms& sinograms, std::size_t size = 0);

// Throws sira::Error naming `what` unless 0 <= center <= width - 1.
void check_center(double center, std::size_t width, const char* what);

// Throws sira::Error naming `what` if the sinograms are empty, their angle count
// differs from theta.size(), an angle is not finite, or a sample is NaN/infinite.
void check_sinograms(const Sinograms& sinograms, const char* what);

}  // namespace sira::tomo
