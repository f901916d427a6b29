// Training losses: adversarial (BCE with logits), pixel MSE and a perceptual
// term. The published perceptual term compares ImageNet VGG19 features, which
// cannot be downloaded here: a user may supply any TorchScript feature
// extractor; the default substitute is a structural (SSIM) loss.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

namespace sira::train {

// Binary cross-entropy of the discriminator logits against "real" (1) or "fake" (0).
torch::Tensor adversarial_loss(const torch::Tensor& logits, bool real);

torch::Tensor pixel_mse(const torch::Tensor& output, const torch::Tensor& target);

// Differentiable mean SSIM of two N x 1 x H x W batches with scikit-image's
// Gaussian window (sigma 1.5, 11 taps, K1 0.01, K2 0.03) over the valid region.
torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, double data_range);
// The same with one data range per batch element (a tensor of N values).
torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& data_range);
// Mean SSIM as scikit-image's structural_similarity computes it by default and
// as the real-data validation scores (bench/real_validation/metrics.py): 7 x 7
// uniform window, sample covariances (x 49/48), over the valid region.
torch::Tensor ssim_uniform7(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& data_range);

class PerceptualLoss {
 public:
  virtual ~PerceptualLoss() = default;
  // data_range: N values, each crop's clean data range in the network's units.
  virtual torch::Tensor operator()(const torch::Tensor& output, const torch::Tensor& target,
                                   const torch::Tensor& data_range) = 0;
  virtual std::string describe() const = 0;
};

// 1 - SSIM with each crop's data range being its clean split's range, as the
// validation and the classical-denoiser comparison score it (a fixed range of 1
// in normalised units let faint noise in flat regions go unpunished: it cost
// ~0.1 SSIM in the empty field around phantoms). Needs no pretrained weights.
std::unique_ptr<PerceptualLoss> make_ssim_loss();
// The same with the validation's window (ssim_uniform7): --perceptual ssim-uniform7.
std::unique_ptr<PerceptualLoss> make_ssim_uniform7_loss();
// The built-in perceptual losses by name ("ssim", "ssim-uniform7"), else a TorchScript file.
std::unique_ptr<PerceptualLoss> make_perceptual_loss(const std::string& name);
// MSE between the features a TorchScript module computes from the images
// (grey repeated to N x 3 x H x W); a tuple/list of feature maps is summed.
std::unique_ptr<PerceptualLoss> load_feature_loss(const std::string& torchscript_file);

}  // namespace sira::train
