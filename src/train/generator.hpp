// The TomoGAN-family generator as a libtorch module, built from the same Graph
// the inference engine executes (sira/graph.hpp), so the parameter names and
// shapes are exactly the model file's (expected_tensors).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "train/fake_quant.hpp"

namespace sira::train {

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(const TomoganConfig& config);

  // x: N x slices x H x W (H, W multiples of graph().multiple()) -> N x 1 x H x W.
  // With fake quantisation set, the forward values are the int8 network's.
  torch::Tensor forward(const torch::Tensor& x);

  // Quantisation-aware training: from now on every node output but the final
  // conv is fake-quantised with its fixed parameters and every layer computes
  // with fake-quantised weights and bias (docs/quantization.md). Throws if a
  // node has no activation parameters.
  void set_fake_quant(FakeQuantConfig config);
  const std::optional<FakeQuantConfig>& fake_quant() const { return fake_quant_; }

  // Copies the model's tensors into the parameters (config must match).
  void load_weights(const Model& model);
  // The parameters under their model-file names, in PyTorch layouts.
  std::map<std::string, ModelTensor> export_weights() const;

  const Graph& graph() const { return graph_; }
  const TomoganConfig& config() const { return config_; }

 private:
  TomoganConfig config_;
  Graph graph_;
  // Indexed by graph node; empty holders for nodes without weights.
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::ConvTranspose2d> transposed_;
  std::map<std::string, torch::Tensor> named_;  // "enc.0.conv1.weight" -> parameter
  std::optional<FakeQuantConfig> fake_quant_;
};
TORCH_MODULE(Generator);

}  // namespace sira::train
