// An image stack: depth x height x width float32 samples, row-major, plus the
// sample type it came from on disk (so integer data round-trips losslessly:
// float32 holds every uint8/uint16 value exactly). A 2-D image is depth 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sira {

enum class DType { u8, u16, f32 };

const char* dtype_name(DType t);
DType parse_dtype(const std::string& name);  // "uint8" | "uint16" | "float32"

struct Stack {
  std::size_t depth = 0, height = 0, width = 0;
  DType dtype = DType::f32;  // sample type on disk
  bool is_2d = true;          // written back as a 2-D image when depth == 1
  std::vector<float> data;

  Stack() = default;
  Stack(std::size_t d, std::size_t h, std::size_t w, DType t = DType::f32);

  std::size_t slice_size() const { return height * width; }
  std::size_t size() const { return data.size(); }
  float* slice(std::size_t d) { return data.data() + d * slice_size(); }
  const float* slice(std::size_t d) const { return data.data() + d * slice_size(); }
  float& at(std::size_t d, std::size_t y, std::size_t x) { return data[(d * height + y) * width + x]; }
  float at(std::size_t d, std::size_t y, std::size_t x) const { return data[(d * height + y) * width + x]; }
};

// Throws sira::Error naming `what` if any sample is NaN or infinite.
void check_finite(const Stack& s, const std::string& what);
// The same for depth x height x width samples held elsewhere (the Python binding's arrays).
void check_finite(const float* data, std::size_t depth, std::size_t height, std::size_t width,
                  const std::string& what);

// Largest stack sira accepts (guards against absurd dimensions in headers).
inline constexpr std::size_t kMaxDim = 1u << 16;          // per axis
inline constexpr std::size_t kMaxSamples = std::size_t(1) << 33;  // 8 G samples
void check_dims(std::size_t d, std::size_t h, std::size_t w, const std::string& what);

// The most samples one read of a file may allocate: the environment variable
// SIRA_MAX_SAMPLES when set (a whole number; suffixes k, M, G = 2^10, 2^20, 2^30),
// else as many float32 samples as the machine has physical memory (at most
// kMaxSamples). Readers check it, after checking that the file really holds
// what its header declares, before allocating.
std::size_t sample_budget();
// Throws sira::Error naming `what` if `samples` exceed sample_budget().
void check_sample_budget(std::size_t samples, const std::string& what);

}  // namespace sira
