#include "train/discriminator.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include "sira/error.hpp"

namespace sira::train {
namespace {

torch::nn::Conv2d conv3x3(int in, int out, int stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}

torch::nn::LeakyReLU leaky() {
  return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2));
}

}  // namespace

DiscriminatorImpl::DiscriminatorImpl(int crop) : crop_(crop) {
  if (crop < 8 || crop % 8 != 0) fail("discriminator: crop ", crop, " is not a positive multiple of 8");
  // LeakyReLU rather than ReLU in the convolutions: a GAN discriminator with
  // dead ReLUs stops giving the generator gradients.
  features_ = register_module(
      "features", torch::nn::Sequential(conv3x3(1, 64, 1), leaky(), conv3x3(64, 64, 2), leaky(),
                                        conv3x3(64, 128, 1), leaky(), conv3x3(128, 128, 2), leaky(),
                                        conv3x3(128, 128, 1), leaky(), conv3x3(128, 4, 2), leaky()));
  const int side = crop / 8;
  dense1_ = register_module("dense1", torch::nn::Linear(4 * side * side, 64));
  dense2_ = register_module("dense2", torch::nn::Linear(64, 1));
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& x) {
  auto f = features_->forward(x).flatten(1);
  return dense2_->forward(torch::relu(dense1_->forward(f)));
}

}  // namespace sira::train
