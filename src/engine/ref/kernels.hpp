// Reference kernels: planar CHW float32, one function per operation of the
// TomoGAN graph. They are the numerical specification every other backend is
// checked against, so each one is written to be read first and fast second
// (OpenMP over output channels / rows, inner loops the compiler vectorises).
#pragma once

#include <cstddef>

namespace sira::ref {

// Shape of one planar activation: channels x height x width.
struct Shape {
  std::size_t channels = 0, height = 0, width = 0;
  std::size_t plane() const { return height * width; }
  std::size_t size() const { return channels * height * width; }
};

// Whether an operation of this many multiply-adds (or copies) is worth waking
// the thread team: below it, the fork/join costs more than it saves, and much
// more on a loaded machine where a sleeping thread takes milliseconds to wake.
inline bool worth_threads(std::size_t operations) { return operations >= (std::size_t(1) << 18); }

// Convolution weights repacked once for the kernel: output channels in blocks
// of kConvBlock, each block stored as [in_channel][ky][kx][out_in_block], zero
// padded past the last output channel.
inline constexpr std::size_t kConvBlock = 8;
struct PackedConv {
  std::size_t in_channels = 0, out_channels = 0, kernel = 0;
  float* weights = nullptr;  // blocks * in_channels * kernel * kernel * kConvBlock floats
  const float* bias = nullptr;  // out_channels floats
};
std::size_t packed_conv_size(std::size_t out_channels, std::size_t in_channels, std::size_t kernel);
// Repacks PyTorch-layout weights [out, in, k, k] into `packed.weights`.
void pack_conv_weights(const float* torch_weights, PackedConv& packed);

// Scratch floats one thread of conv2d needs for an input of this width.
std::size_t conv2d_scratch_per_thread(const PackedConv& conv, std::size_t width);

// kxk convolution, stride 1, 'same' zero padding (k odd), plus bias, optional ReLU.
// `scratch` holds conv2d_scratch_per_thread() floats per OpenMP thread.
void conv2d(const float* in, Shape in_shape, const PackedConv& conv, bool relu, float* out,
            float* scratch, int threads);

// 2x2 max pooling with stride 2 (height and width even).
void maxpool2x2(const float* in, Shape in_shape, float* out);

// x2 upsampling, identical to PyTorch F.interpolate(scale_factor=2,
// mode='bilinear', align_corners=False): source coordinate (o + 0.5) / 2 - 0.5,
// clamped at 0, neighbours clamped to the last row/column.
void upsample_bilinear2x(const float* in, Shape in_shape, float* out);

// x2 nearest-neighbour upsampling (PyTorch mode='nearest'): out[o] = in[o / 2].
void upsample_nearest2x(const float* in, Shape in_shape, float* out);

// Transposed convolution, kernel 2, stride 2 (PyTorch ConvTranspose2d weights
// [in, out, 2, 2]) plus bias, optional ReLU:
// out[co][2y+dy][2x+dx] = bias[co] + sum_ci in[ci][y][x] * w[ci][co][dy][dx].
void conv_transpose2x2(const float* in, Shape in_shape, const float* weights, const float* bias,
                       std::size_t out_channels, bool relu, float* out);

// Concatenation along channels: `out` is a's planes followed by b's.
void concat_channels(const float* a, std::size_t a_channels, const float* b,
                     std::size_t b_channels, std::size_t plane, float* out);

}  // namespace sira::ref
