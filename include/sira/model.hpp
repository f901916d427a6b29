// A sira model: the TomoGAN-family configuration that rebuilds the graph, the
// intensity normalisation used in training, and named fp32 tensors.
// On disk it is a safetensors file (see docs/model-format.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sira/quant_params.hpp"

namespace sira {

// Newest version this sira reads: 1 = fp32, 2 = quantised (docs/model-format.md).
inline constexpr int kModelFormatVersion = 2;

enum class Upsample { bilinear, nearest, transposed };
const char* upsample_name(Upsample u);
Upsample parse_upsample(const std::string& s);

// Generator widths; levels = encoder.size() = decoder.size().
// Defaults are the published TomoGAN.
struct TomoganConfig {
  int slices = 3;                       // input slices (channels): 1 or 3
  int stem = 8;                         // conv1x1 after the input
  std::vector<int> encoder{32, 64, 128};  // 2 x conv3x3 per level, then maxpool 2
  int bottleneck = 128;                 // conv3x3 at the coarsest level
  std::vector<int> decoder{64, 32, 32};   // per level: upsample, concat [skip, up], 2 x conv3x3
  int head = 16;                        // conv1x1 (ReLU), then conv1x1 -> 1 (linear)
  Upsample upsample = Upsample::bilinear;
  // Global residual: the output is the (normalised) centre input slice plus the
  // network's result, so the network learns the correction, not the image, and
  // an image it has nothing to remove from passes through (docs/engine.md).
  bool residual = false;

  int levels() const { return static_cast<int>(encoder.size()); }
  void validate() const;  // throws sira::Error on an impossible configuration
};

// Widths as one comma list: stem, L encoder widths, bottleneck, L decoder
// widths, head (2L+3 numbers; the published TomoGAN is 8,32,64,128,128,64,32,32,16).
// parse_widths validates and replaces the widths (and so the levels) of cfg.
void parse_widths(const std::string& text, TomoganConfig& cfg);
std::string format_widths(const TomoganConfig& cfg);

// Intensity normalisation applied before the network and undone after it:
//   x_net = (x - offset) * scale,   y = y_net / scale + offset.
// mode "fixed": offset/scale stored here (from the training data);
// mode "per_image": offset/scale computed per input slice from its
//   [low_percentile, high_percentile] range, mapped to [0, 1]. With block > 1
//   the percentiles are those of the means of block x block tiles: averaging
//   removes most of the noise, so the map (and where the clean background lands
//   in the network's units) hardly depends on the dose. Percentiles of noisy
//   pixels move with the noise: at 10 % dose the clean air lands near 0.14.
struct Normalization {
  std::string mode = "fixed";
  double offset = 0.0;
  double scale = 1.0;
  double low_percentile = 0.5;
  double high_percentile = 99.5;
  int block = 1;
};

struct ModelTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
  std::size_t numel() const;
};

struct Model {
  int format_version = 1;  // as read; save_model writes 2 when `quant` is set, else 1
  std::string arch = "tomogan";
  TomoganConfig config;
  Normalization norm;
  bool trained = false;                        // false for `sira init` models
  std::map<std::string, std::string> info;     // free-form provenance (training data, seed, ...)
  std::map<std::string, ModelTensor> tensors;  // state_dict-style names, PyTorch layouts
  // Set for an int8 model (docs/quantization.md). `tensors` then still holds
  // fp32 weights and biases for every layer; those of int8 layers are the
  // dequantised values (q * s_w, b_q * s_in * s_w), derived from `quant` on load.
  std::optional<QuantParams> quant;

  const ModelTensor& tensor(const std::string& name) const;  // throws naming the tensor
};

struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
};

// Every tensor the configuration needs, in graph order, with its shape.
std::vector<TensorSpec> expected_tensors(const TomoganConfig& cfg);

// Reads and fully validates a model file; every problem is reported as
// "<path>: <problem>".
Model load_model(const std::string& path);
// The same for a model file's bytes held in memory (embedded, downloaded, read
// from a database); `name` stands for the path in every error.
Model load_model_from_memory(const void* bytes, std::size_t size, const std::string& name = "model in memory");
// Sets the fp32 weight and bias of every int8 layer of `model.quant` to their
// dequantised values (q * s_w[c], b_q * s_in * s_w[c]); load_model does it.
void dequantize_int8_layers(Model& model);
// Writes atomically (temporary name, then rename).
void save_model(const Model& model, const std::string& path);
// A randomly initialised model (PyTorch's default Conv2d initialisation:
// kaiming_uniform(a=sqrt(5)) weights, uniform(+-1/sqrt(fan_in)) biases).
Model init_model(const TomoganConfig& cfg, std::uint64_t seed);
// The fp32 model with `slices` input slices computing exactly what `model` (1
// slice) computes: the stem's weights go to the centre slice, the neighbours'
// start at zero. A 3-slice model then trains from the 1-slice one.
Model widen_input_slices(const Model& model, int slices);
// The fp32 residual model whose correction is `factor` times that of `model`:
// output = input + factor * network(input); factor < 1 leaves a share 1 - factor
// of what the network removes (its grain, for a denoiser). Exact: the final
// convolution has no activation, its weights and bias are scaled. Throws for a
// quantised or non-residual model or a factor outside [0, 10].
Model scale_correction(const Model& model, double factor);

}  // namespace sira
