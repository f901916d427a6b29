// The int8 'same' convolution on ARMv8.2 dot-product instructions (SDOT): the
// twin of conv2d_int8 (int8_conv2d.cpp), bit-identical to it. Its kernel
// functions are compiled for armv8.2-a+dotprod (a target attribute, so that
// nothing else of the unit needs ARMv8.2) and called only where the CPU has the
// instructions (int8_conv_kernels.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/ref/int8_kernels.hpp"

namespace sira::ref::aarch64 {

// SDOT multiplies int8 by int8, the activations are uint8 codes: the kernel runs
// on q - 128 and adds back (128 - zero point) x the sum of each output channel's
// weights, which is exact (the padding holds the zero point, i.e. the real 0).
inline constexpr std::size_t kDotColumns = 8;  // output columns per micro-kernel call
inline constexpr std::size_t kDotBlock = 8;    // output channels per micro-kernel call

// Bytes of scratch one thread needs for an input of this width.
std::size_t conv2d_int8_dotprod_scratch_bytes(const Int8Conv& conv, std::size_t width);

// As conv2d_int8, on conv.dot_weights / conv.dot_weight_sums (pack_int8_conv_weights).
void conv2d_int8_dotprod(const std::uint8_t* in, Shape in_shape, const Int8Conv& conv, std::uint8_t* out_u8,
                         float* out_f32, std::int8_t* scratch, int threads);

}  // namespace sira::ref::aarch64
