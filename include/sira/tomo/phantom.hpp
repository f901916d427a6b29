// Test objects for tomography: the modified Shepp-Logan head (2-D ellipses,
// 3-D ellipsoids), random "foam/rock" samples, and "mixed" samples whose whole
// recipe is drawn from the seed (training data with variety: sample size in the
// field of view, feature scale, loose grains in air or a solid matrix, an
// optional container wall, texture strength, faint low-contrast inclusions).
//
// Geometry: the image spans [-1, 1] in x (columns, left to right) and y (rows,
// bottom to top); slices are stacked along z with the same voxel pitch, centred
// on z = 0. Everything lies inside the circle of radius 1 inscribed in the
// image, so a parallel-beam reconstruction circle holds the whole object.
//
// Units: linear attenuation per pixel. A material of density 1 is scaled so
// that a ray crossing the full image width through it integrates to
// `attenuation` (default 4): projections are then line integrals of ~0..4,
// i.e. transmissions of ~2 %..100 %, a realistic range for x-ray data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "sira/stack.hpp"

namespace sira::tomo {

enum class PhantomKind { shepp_logan, foam, mixed };

PhantomKind parse_phantom_kind(const std::string& name);  // "shepp-logan" | "foam" | "mixed"
const char* phantom_kind_name(PhantomKind kind);

struct PhantomOptions {
  PhantomKind kind = PhantomKind::shepp_logan;
  std::size_t size = 256;     // width = height in pixels
  std::size_t slices = 1;     // 1 = a 2-D phantom; > 1 = a 3-D volume
  std::uint64_t seed = 0;     // foam and mixed (Shepp-Logan is fixed)
  int supersample = 0;        // samples per pixel per axis for anti-aliasing; 0 = 4 (2-D) / 2 (3-D)
  double attenuation = 4.0;   // line integral of density 1 across the full image width
};

// Samples per pixel per axis actually used (resolves supersample = 0).
inline int effective_supersample(const PhantomOptions& o) {
  return o.supersample > 0 ? o.supersample : (o.slices > 1 ? 2 : 4);
}

// The phantom as a stack (depth = slices) of attenuation per pixel. `progress`
// (optional) is called with (work items done, total) from one thread at a time.
Stack make_phantom(const PhantomOptions& options,
                   const std::function<void(std::size_t, std::size_t)>& progress = {});

// Density (before the attenuation scaling) of the modified Shepp-Logan phantom
// (Toft's intensities) at a point; 2-D uses the classic ten ellipses, 3-D the
// Kak & Slaney ellipsoids rotated about z around their own centres (so that
// the slice z = 0 shows the familiar head). Exposed for tests and analytic use.
double shepp_logan_density_2d(double x, double y);
double shepp_logan_density_3d(double x, double y, double z);

// Pixel pitch in the normalised [-1, 1] frame and the factor from density to
// attenuation per pixel for an image `size` pixels wide.
inline double pixel_pitch(std::size_t size) { return 2.0 / double(size); }
inline double attenuation_per_density(std::size_t size, double attenuation) {
  return attenuation / double(size);
}

}  // namespace sira::tomo
