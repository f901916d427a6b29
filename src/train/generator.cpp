#include "train/generator.hpp"

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/options/upsampling.h>

#include <algorithm>

#include "sira/error.hpp"

namespace sira::train {
namespace {

// torch module names may not contain '.', the model file's names do.
std::string module_name(const std::string& node_name) {
  std::string s = node_name;
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

}  // namespace

GeneratorImpl::GeneratorImpl(const TomoganConfig& config)
    : config_(config), graph_(build_graph(config)) {
  const auto n = graph_.nodes.size();
  convs_.assign(n, nullptr);
  transposed_.assign(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = graph_.nodes[i];
    if (!node.has_weights()) continue;
    const int in = graph_.input_channels(int(i));
    torch::nn::Module* added = nullptr;
    if (node.op == OpKind::conv) {
      convs_[i] = register_module(
          module_name(node.name),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in, node.channels, node.kernel)
                                .padding(node.kernel / 2)));
      added = convs_[i].get();
    } else {  // a transposed-convolution upsample
      transposed_[i] = register_module(
          module_name(node.name),
          torch::nn::ConvTranspose2d(
              torch::nn::ConvTranspose2dOptions(in, node.channels, node.kernel).stride(2)));
      added = transposed_[i].get();
    }
    for (const auto& p : added->named_parameters(false)) named_[node.name + "." + p.key()] = p.value();
  }
  // The module must hold exactly the tensors the model file holds.
  const auto specs = expected_tensors(config_);
  if (specs.size() != named_.size())
    fail("generator: ", named_.size(), " parameters, the model format expects ", specs.size());
  for (const auto& spec : specs) {
    auto it = named_.find(spec.name);
    if (it == named_.end()) fail("generator: no parameter for model tensor ", spec.name);
    if (it->second.sizes().vec() != spec.shape) fail("generator: parameter ", spec.name, " has the wrong shape");
  }
}

// One walk of the graph. With fake quantisation set it is the int8 network of
// docs/quantization.md in float: every value that the engine stores as uint8 is
// fake-quantised with its tensor's parameters; convs use the dequantised int8
// weights and int32 bias. Pooling, nearest upsample and concat move values that
// are already on their (shared) grid, so quantising their outputs again changes
// nothing; bilinear runs on the codes as the engine does.
torch::Tensor GeneratorImpl::forward(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  const FakeQuantConfig* fq = fake_quant_ ? &*fake_quant_ : nullptr;
  const auto params = [&](int node) -> const ActivationParams& {
    return fq->activations.at(graph_.nodes[std::size_t(node)].name);
  };
  std::vector<torch::Tensor> out(graph_.nodes.size());
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
    const Node& node = graph_.nodes[i];
    auto in = [&](std::size_t k) -> const torch::Tensor& { return out[node.inputs.at(k)]; };
    torch::Tensor y;
    bool on_grid = false;  // y already holds quantised values of this node's parameters
    switch (node.op) {
      case OpKind::input: y = x; break;
      case OpKind::conv:
        if (fq) {
          const auto& conv = convs_[i];
          const auto s = weight_scales(conv->weight, fq->weight_qmax, fq->per_channel, 0);
          const auto w = fake_quantize_weight(conv->weight, s, fq->weight_qmax, 0);
          const auto b = fake_quantize_bias(conv->bias, params(node.inputs.at(0)).scale, s);
          const std::int64_t pad = node.kernel / 2;
          y = torch::conv2d(in(0), w, b, {1, 1}, {pad, pad});
        } else {
          y = convs_[i]->forward(in(0));
        }
        break;
      case OpKind::maxpool: y = torch::max_pool2d(in(0), 2, 2); break;
      case OpKind::upsample:
        if (node.upsample == Upsample::transposed && fq) {
          const auto& up = transposed_[i];
          const auto s = weight_scales(up->weight, fq->weight_qmax, fq->per_channel, 1);
          const auto w = fake_quantize_weight(up->weight, s, fq->weight_qmax, 1);
          const auto b = fake_quantize_bias(up->bias, params(node.inputs.at(0)).scale, s);
          y = torch::conv_transpose2d(in(0), w, b, {2, 2});
        } else if (node.upsample == Upsample::transposed) {
          y = transposed_[i]->forward(in(0));
        } else if (node.upsample == Upsample::bilinear && fq) {
          y = fake_quantize_bilinear_upsample(in(0), params(int(i)));
          on_grid = true;
        } else {
          auto opts = F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0});
          if (node.upsample == Upsample::bilinear)
            opts = opts.mode(torch::kBilinear).align_corners(false);
          else
            opts = opts.mode(torch::kNearest);
          y = F::interpolate(in(0), opts);
        }
        break;
      case OpKind::concat: {
        std::vector<torch::Tensor> parts;
        for (std::size_t k = 0; k < node.inputs.size(); ++k) parts.push_back(in(k));
        y = torch::cat(parts, 1);
        break;
      }
    }
    if (node.relu) y = torch::relu(y);
    if (fq && int(i) != graph_.output && !on_grid) y = fake_quantize_activation(y, params(int(i)));
    out[i] = std::move(y);
  }
  // A residual network adds its centre input slice (in float, as the engine does).
  if (graph_.residual) return out.at(graph_.output) + x.narrow(1, graph_.in_channels / 2, 1);
  return out.at(graph_.output);
}

void GeneratorImpl::set_fake_quant(FakeQuantConfig config) {
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
    if (int(i) != graph_.output && !config.activations.count(graph_.nodes[i].name))
      fail("fake quantisation: no activation parameters for node '", graph_.nodes[i].name, "'");
  fake_quant_ = std::move(config);
}


void GeneratorImpl::load_weights(const Model& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : named_) {
    const ModelTensor& t = model.tensor(name);
    if (t.shape != param.sizes().vec()) fail("model tensor ", name, " does not match the generator's shape");
    auto src = torch::from_blob(const_cast<float*>(t.data.data()), param.sizes(), torch::kFloat32);
    param.copy_(src);
  }
}

std::map<std::string, ModelTensor> GeneratorImpl::export_weights() const {
  std::map<std::string, ModelTensor> tensors;
  for (const auto& [name, param] : named_) {
    auto c = param.detach().contiguous();
    ModelTensor t;
    t.shape = c.sizes().vec();
    t.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    tensors.emplace(name, std::move(t));
  }
  return tensors;
}

}  // namespace sira::train
