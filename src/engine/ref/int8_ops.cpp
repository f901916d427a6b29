// The int8 operations other than the convolution (docs/quantization.md):
// transposed conv, pooling, upsampling, concat, quantise/dequantise.
#include <algorithm>
#include <cstring>
#include <vector>

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

namespace {

// One row of n codes upsampled along x into 2n floats (multiples of 1/4, exact).
void upsample_row(const std::uint8_t* in, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const float cur = in[i];
    out[2 * i] = i == 0 ? cur : 0.25f * float(in[i - 1]) + 0.75f * cur;
    out[2 * i + 1] = i + 1 < n ? 0.75f * cur + 0.25f * float(in[i + 1]) : cur;
  }
}

// a * ra + b * rb (multiples of 1/16, exact), rounded once, half to even.
void blend_rows(const float* ra, float a, const float* rb, float b, std::size_t n, std::uint8_t* out) {
  for (std::size_t x = 0; x < n; ++x)
    out[x] = std::uint8_t(std::clamp(std::nearbyint(a * ra[x] + b * rb[x]), 0.0f, 255.0f));
}

}  // namespace

void upsample_bilinear2x_u8(const std::uint8_t* in, Shape s, std::uint8_t* out) {
  const std::size_t h = s.height, w = s.width, ow = 2 * w;
#pragma omp parallel if (worth_threads(4 * s.size()))
  {
    std::vector<float> wide(h * ow);
#pragma omp for schedule(static)
    for (std::size_t c = 0; c < s.channels; ++c) {
      const std::uint8_t* src = in + c * s.plane();
      std::uint8_t* dst = out + c * 4 * s.plane();
      for (std::size_t y = 0; y < h; ++y) upsample_row(src + y * w, w, wide.data() + y * ow);
      for (std::size_t i = 0; i < h; ++i) {
        const float* cur = wide.data() + i * ow;
        const float* prev = wide.data() + (i == 0 ? 0 : i - 1) * ow;
        const float* next = wide.data() + (i + 1 < h ? i + 1 : h - 1) * ow;
        if (i == 0)
          blend_rows(cur, 1.0f, cur, 0.0f, ow, dst);
        else
          blend_rows(prev, 0.25f, cur, 0.75f, ow, dst + 2 * i * ow);
        if (i + 1 < h)
          blend_rows(cur, 0.75f, next, 0.25f, ow, dst + (2 * i + 1) * ow);
        else
          blend_rows(cur, 1.0f, cur, 0.0f, ow, dst + (2 * i + 1) * ow);
      }
    }
  }
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
