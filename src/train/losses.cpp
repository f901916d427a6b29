#include "train/losses.hpp"

#include <torch/nn/functional/loss.h>
#include <torch/script.h>

#include <cmath>

#include "sira/error.hpp"

namespace sira::train {

torch::Tensor adversarial_loss(const torch::Tensor& logits, bool real) {
  auto target = real ? torch::ones_like(logits) : torch::zeros_like(logits);
  return torch::binary_cross_entropy_with_logits(logits, target);
}

torch::Tensor pixel_mse(const torch::Tensor& output, const torch::Tensor& target) {
  return torch::mse_loss(output, target);
}

torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, double data_range) {
  return ssim(a, b, torch::full({a.size(0)}, data_range, a.options()));
}

torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& data_range) {
  constexpr int radius = 5;  // scikit-image: int(3.5 * sigma + 0.5) with sigma 1.5
  constexpr double sigma = 1.5;
  std::vector<float> taps(2 * radius + 1);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += taps[i + radius] = float(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& t : taps) t = float(t / sum);
  auto g = torch::tensor(taps, a.options());
  auto gx = g.view({1, 1, 1, 2 * radius + 1});
  auto gy = g.view({1, 1, 2 * radius + 1, 1});
  auto blur = [&](const torch::Tensor& x) { return torch::conv2d(torch::conv2d(x, gx), gy); };
  const auto range = data_range.to(a.options()).view({-1, 1, 1, 1});
  const auto c1 = (0.01 * range).square(), c2 = (0.03 * range).square();
  auto mu_a = blur(a), mu_b = blur(b);
  auto var_a = blur(a * a) - mu_a * mu_a;
  auto var_b = blur(b * b) - mu_b * mu_b;
  auto cov = blur(a * b) - mu_a * mu_b;
  auto map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2));
  return map.mean();
}

torch::Tensor ssim_uniform7(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& data_range) {
  constexpr int side = 7;
  constexpr double n = side * side, sample = n / (n - 1);
  auto mean = [](const torch::Tensor& x) { return torch::avg_pool2d(x, {side, side}, {1, 1}); };
  const auto range = data_range.to(a.options()).view({-1, 1, 1, 1});
  const auto c1 = (0.01 * range).square(), c2 = (0.03 * range).square();
  auto mu_a = mean(a), mu_b = mean(b);
  auto var_a = sample * (mean(a * a) - mu_a * mu_a);
  auto var_b = sample * (mean(b * b) - mu_b * mu_b);
  auto cov = sample * (mean(a * b) - mu_a * mu_b);
  auto map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2));
  return map.mean();
}

namespace {

class SsimLoss final : public PerceptualLoss {
 public:
  explicit SsimLoss(bool uniform7) : uniform7_(uniform7) {}
  torch::Tensor operator()(const torch::Tensor& output, const torch::Tensor& target,
                           const torch::Tensor& data_range) override {
    return 1.0 - (uniform7_ ? ssim_uniform7(output, target, data_range) : ssim(output, target, data_range));
  }
  std::string describe() const override {
    return uniform7_ ? "ssim-uniform7(clean split range)" : "ssim(clean split range)";
  }

 private:
  bool uniform7_;
};

class FeatureLoss final : public PerceptualLoss {
 public:
  explicit FeatureLoss(const std::string& file) : file_(file) {
    try {
      module_ = torch::jit::load(file);
    } catch (const c10::Error& e) {
      fail(file, ": not a loadable TorchScript module: ", e.what_without_backtrace());
    }
    module_.eval();
    for (auto p : module_.parameters()) p.set_requires_grad(false);
  }

  torch::Tensor operator()(const torch::Tensor& output, const torch::Tensor& target,
                           const torch::Tensor& /*data_range*/) override {
    auto fo = features(output);
    std::vector<torch::Tensor> ft;
    {
      torch::NoGradGuard no_grad;  // the target needs no gradient
      ft = features(target);
    }
    if (fo.size() != ft.size()) fail(file_, ": feature extractor returned a varying number of outputs");
    torch::Tensor loss = torch::zeros({}, output.options());
    for (std::size_t i = 0; i < fo.size(); ++i) loss = loss + torch::mse_loss(fo[i], ft[i]);
    return loss;
  }
  std::string describe() const override { return "torchscript:" + file_; }

 private:
  std::vector<torch::Tensor> features(const torch::Tensor& x) {
    c10::IValue out;
    try {
      out = module_.forward({x.expand({x.size(0), 3, x.size(2), x.size(3)})});
    } catch (const c10::Error& e) {
      fail(file_, ": feature extractor failed on an N x 3 x H x W input: ", e.what_without_backtrace());
    }
    std::vector<torch::Tensor> maps;
    if (out.isTensor()) {
      maps.push_back(out.toTensor());
    } else if (out.isTuple()) {
      for (const auto& v : out.toTupleRef().elements()) {
        if (!v.isTensor()) fail(file_, ": feature extractor returned a tuple with a non-tensor");
        maps.push_back(v.toTensor());
      }
    } else if (out.isTensorList()) {
      for (const auto& t : out.toTensorVector()) maps.push_back(t);
    } else {
      fail(file_, ": feature extractor must return a tensor, a tuple or a list of tensors");
    }
    return maps;
  }

  std::string file_;
  torch::jit::Module module_;
};

}  // namespace

std::unique_ptr<PerceptualLoss> make_ssim_loss() { return std::make_unique<SsimLoss>(false); }

std::unique_ptr<PerceptualLoss> make_ssim_uniform7_loss() { return std::make_unique<SsimLoss>(true); }

std::unique_ptr<PerceptualLoss> make_perceptual_loss(const std::string& name) {
  if (name.empty() || name == "ssim") return make_ssim_loss();
  if (name == "ssim-uniform7") return make_ssim_uniform7_loss();
  return load_feature_loss(name);
}

std::unique_ptr<PerceptualLoss> load_feature_loss(const std::string& torchscript_file) {
  return std::make_unique<FeatureLoss>(torchscript_file);
}

}  // namespace sira::train
