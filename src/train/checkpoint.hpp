// A training checkpoint: everything that determines the rest of a run, so a
// resumed run is bit-for-bit the uninterrupted one (same thread count):
// generator, discriminator, both Adam states, crop-sampler RNG state, the
// iteration, the normalisation and the loss history. A libtorch archive
// (torch::serialize), written to a temporary name and renamed.
#pragma once

#include <torch/optim/adam.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sira/model.hpp"
#include "sira/train/trainer.hpp"
#include "train/discriminator.hpp"
#include "train/generator.hpp"

namespace sira::train {

struct TrainingState {
  std::int64_t iteration = 0;  // iterations done
  Normalization norm;
  std::string sampler_state;
  std::vector<IterationRecord> history;
  std::string qat_activations;  // --qat runs: the fixed activation parameters (activations_text)
};

// Identifies the networks a checkpoint fits: generator config and crop size.
std::string architecture_signature(const TomoganConfig& config, int crop);

void save_checkpoint(const std::string& path, const std::string& signature, const TrainingState& state,
                     Generator& generator, Discriminator& discriminator, torch::optim::Adam& generator_optimizer,
                     torch::optim::Adam& discriminator_optimizer);

// Throws naming the file if it is not a sira checkpoint or was made for a
// different architecture than `signature`.
TrainingState load_checkpoint(const std::string& path, const std::string& signature, Generator& generator,
                              Discriminator& discriminator, torch::optim::Adam& generator_optimizer,
                              torch::optim::Adam& discriminator_optimizer);

}  // namespace sira::train
