// init_model: PyTorch's default Conv2d / ConvTranspose2d initialisation,
// reproducible from a seed on every platform.
#include <algorithm>
#include <cmath>
#include <random>

#include "sira/error.hpp"
#include "sira/model.hpp"

namespace sira {

namespace {

// Uniform in [-bound, bound) from the top 53 bits of a 64-bit Mersenne
// twister. std::uniform_real_distribution is not used on purpose: its output
// differs between standard libraries, and a seed must mean the same model everywhere.
class UniformSource {
 public:
  explicit UniformSource(std::uint64_t seed) : state_(seed) {}
  float operator()(double bound) {
    const double u = static_cast<double>(state_() >> 11) * 0x1.0p-53;  // [0, 1)
    return static_cast<float>((2.0 * u - 1.0) * bound);
  }

 private:
  std::mt19937_64 state_;
};

}  // namespace

Model init_model(const TomoganConfig& cfg, std::uint64_t seed) {
  Model model;
  model.config = cfg;
  model.trained = false;
  // An untrained model knows nothing about the data's intensity range; mapping
  // each slice's [0.5, 99.5] percentile range to [0, 1] keeps activations in
  // the range the default initialisation expects, whatever the input dtype.
  model.norm.mode = "per_image";
  model.info["seed"] = std::to_string(seed);
  model.info["init"] = "pytorch-default (kaiming_uniform a=sqrt(5)), sira init";

  UniformSource uniform(seed);
  std::int64_t fan_in = 1;
  for (const TensorSpec& spec : expected_tensors(cfg)) {
    ModelTensor t;
    t.shape = spec.shape;
    t.data.resize(t.numel());
    // Weights come first; PyTorch's fan_in is size(1) * kH * kW for both Conv2d
    // [out, in, k, k] and ConvTranspose2d [in, out, k, k]. kaiming_uniform with
    // a = sqrt(5) gives bound sqrt(6 / ((1 + 5) * fan_in)) = 1 / sqrt(fan_in),
    // and the bias uses the same bound.
    if (spec.shape.size() == 4) fan_in = spec.shape[1] * spec.shape[2] * spec.shape[3];
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (float& v : t.data) v = uniform(bound);
    model.tensors.emplace(spec.name, std::move(t));
  }
  return model;
}

Model widen_input_slices(const Model& model, int slices) {
  if (model.quant) fail("widen_input_slices: the model is quantised; widen its fp32 original");
  if (model.config.slices != 1) fail("widen_input_slices: the model takes ", model.config.slices, " slices, not 1");
  Model wide = model;
  wide.config.slices = slices;
  wide.config.validate();
  const ModelTensor& stem = model.tensor("stem.weight");  // [out, 1, 1, 1]
  ModelTensor widened;
  widened.shape = {stem.shape[0], slices, stem.shape[2], stem.shape[3]};
  widened.data.assign(widened.numel(), 0.0f);
  const std::size_t k = std::size_t(stem.shape[2] * stem.shape[3]);
  for (std::int64_t o = 0; o < stem.shape[0]; ++o)
    std::copy_n(stem.data.begin() + o * k, k, widened.data.begin() + (o * slices + slices / 2) * k);
  wide.tensors["stem.weight"] = std::move(widened);
  return wide;
}

}  // namespace sira
