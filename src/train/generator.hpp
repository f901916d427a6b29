// The TomoGAN-family generator as a libtorch module, built from the same Graph
// the inference engine executes (sira/graph.hpp), so the parameter names and
// shapes are exactly the model file's (expected_tensors).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <string>
#include <vector>

#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira::train {

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(const TomoganConfig& config);

  // x: N x slices x H x W (H, W multiples of graph().multiple()) -> N x 1 x H x W.
  torch::Tensor forward(const torch::Tensor& x);

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
};
TORCH_MODULE(Generator);

}  // namespace sira::train
