// The int8 operations other than the convolution (docs/quantization.md):
// transposed conv, pooling, upsampling, concat, quantise/dequantise.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/ref/bilinear2x_plane.hpp"
#include "engine/ref/int8_kernels.hpp"
#include "sira/quant.hpp"

namespace sira::ref {

void conv_transpose2x2_int8(const std::uint8_t* in, Shape s, const std::int8_t* w, const Int8Conv& conv,
                            std::uint8_t* out) {
  const std::size_t cout = conv.out_channels, ow = 2 * s.width, oplane = 4 * s.plane();
#pragma omp parallel for schedule(static) if (worth_threads(4 * s.size() * cout))
  for (std::size_t co = 0; co < cout; ++co)
    for (std::size_t y = 0; y < s.height; ++y)
      for (std::size_t x = 0; x < s.width; ++x)
        for (std::size_t d = 0; d < 4; ++d) {
          std::int32_t acc = conv.bias[co];
          for (std::size_t ci = 0; ci < s.channels; ++ci)
            acc += std::int32_t(w[(ci * cout + co) * 4 + d]) *
                   (std::int32_t(in[ci * s.plane() + y * s.width + x]) - conv.input_zero_point);
          out[co * oplane + (2 * y + d / 2) * ow + 2 * x + d % 2] =
              quant::requantize(acc, conv.multiplier[co], conv.relu, conv.output_zero_point);
        }
}

void maxpool2x2_u8(const std::uint8_t* in, Shape s, std::uint8_t* out) {
  const std::size_t oh = s.height / 2, ow = s.width / 2;
#pragma omp parallel for schedule(static) if (worth_threads(s.size()))
  for (std::size_t c = 0; c < s.channels; ++c) {
    const std::uint8_t* src = in + c * s.plane();
    std::uint8_t* dst = out + c * oh * ow;
    for (std::size_t y = 0; y < oh; ++y) {
      const std::uint8_t* r0 = src + 2 * y * s.width;
      const std::uint8_t* r1 = r0 + s.width;
      for (std::size_t x = 0; x < ow; ++x)
        dst[y * ow + x] = std::max(std::max(r0[2 * x], r0[2 * x + 1]), std::max(r1[2 * x], r1[2 * x + 1]));
    }
  }
}

void upsample_nearest2x_u8(const std::uint8_t* in, Shape s, std::uint8_t* out) {
  const std::size_t ow = 2 * s.width;
  for (std::size_t c = 0; c < s.channels; ++c)
    for (std::size_t y = 0; y < 2 * s.height; ++y) {
      const std::uint8_t* src = in + c * s.plane() + (y / 2) * s.width;
      std::uint8_t* dst = out + c * 4 * s.plane() + y * ow;
      for (std::size_t x = 0; x < ow; ++x) dst[x] = src[x / 2];
    }
}

// Codes interpolated exactly in float (bilinear2x_plane.hpp), rounded once, half to even.
void upsample_bilinear2x_u8(const std::uint8_t* in, Shape s, std::uint8_t* out) {
  upsample_bilinear2x_planes(in, s, out,
                             [](float v) { return std::uint8_t(std::clamp(std::nearbyint(v), 0.0f, 255.0f)); });
}

void concat_channels_u8(const std::uint8_t* a, std::size_t a_channels, const std::uint8_t* b,
                        std::size_t b_channels, std::size_t plane, std::uint8_t* out) {
  std::memcpy(out, a, a_channels * plane);
  std::memcpy(out + a_channels * plane, b, b_channels * plane);
}

void quantize_tensor(const float* in, std::size_t n, float scale, int zero_point, std::uint8_t* out) {
  const float inv = quant::inverse_scale(scale);
#pragma omp parallel for schedule(static) if (worth_threads(n))
  for (std::size_t i = 0; i < n; ++i) out[i] = quant::quantize(in[i], inv, zero_point);
}

void dequantize_tensor(const std::uint8_t* in, std::size_t n, float scale, int zero_point, float* out) {
  const ActivationParams p{scale, zero_point};
#pragma omp parallel for schedule(static) if (worth_threads(n))
  for (std::size_t i = 0; i < n; ++i) out[i] = quant::dequantize(in[i], p);
}

}  // namespace sira::ref
