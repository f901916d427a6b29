// x2 bilinear upsampling of fp32 activations (PyTorch align_corners=False); the
// interpolation itself is shared with the int8 kernel (bilinear2x_plane.hpp).
#include "engine/ref/bilinear2x_plane.hpp"
#include "engine/ref/kernels.hpp"

namespace sira::ref {

void upsample_bilinear2x(const float* in, Shape s, float* out) {
  upsample_bilinear2x_planes(in, s, out, [](float v) { return v; });
}

}  // namespace sira::ref
