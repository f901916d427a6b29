// The TomoGAN discriminator: six 3x3 convolutions (every second one strided 2)
// with LeakyReLU(0.2), then dense 64 (ReLU) and dense 1 (a logit).
// The flatten size follows the crop: 4 * (N/8)^2 for an N x N crop.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace sira::train {

class DiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorImpl(int crop);
  torch::Tensor forward(const torch::Tensor& x);  // N x 1 x crop x crop -> N x 1 logits
  int crop() const { return crop_; }

 private:
  int crop_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear dense1_{nullptr}, dense2_{nullptr};
};
TORCH_MODULE(Discriminator);

}  // namespace sira::train
