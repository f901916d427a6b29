// The training recipe a model records (info.recipe, JSON) so that fine-tuning
// it (`sira train --init MODEL`) continues with the same loss weights, learning
// rate, discriminator steps, crop, batch and sampling unless told otherwise.
// Torch-free, like trainer.hpp.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "sira/model.hpp"
#include "sira/train/trainer.hpp"

namespace sira::train {

struct Recipe {
  int crop = 0, batch = 0, d_steps = 0;
  double lr = 0;
  LossWeights weights;
  std::string perceptual;   // "ssim" or a TorchScript file name
  std::string sampling;     // size | file
  Normalization norm;       // as trained (mode, block, percentiles)
};

Recipe recipe_of(const TrainOptions& options, const Normalization& norm);
std::string format_recipe(const Recipe& r);  // one JSON object
// The model's recipe: info.recipe, or for models from before it the separate
// info.loss_weights / lr / d_steps / crop / batch entries; nullopt if neither.
// Throws naming the model when info.recipe is malformed.
std::optional<Recipe> model_recipe(const Model& model, const std::string& where);

// Sets every option of `options` the recipe holds and `given(name)` says the
// user did not give ("lr", "loss-weights", "d-steps", "crop", "batch",
// "sampling"); returns what it set, for the user ("lr=5e-05 crop=64 ...").
std::string apply_recipe(const Recipe& r, TrainOptions& options,
                         const std::function<bool(const std::string& option)>& given);

}  // namespace sira::train
