// The pair file a training reads (HDF5: train_ns, train_gt, test_ns, test_gt,
// each slices x H x W float32), the fixed intensity normalisation fitted to it,
// and the random augmented crops the trainer draws from it. No libtorch here.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "sira/model.hpp"
#include "sira/stack.hpp"

namespace sira::train {

struct PairSplit {
  Stack noisy, clean;  // same shape
  bool empty() const { return noisy.depth == 0; }
};

struct PairData {
  std::string path;
  PairSplit train, test;  // test is empty when the file has none
};

// Reads and checks the pair file: every needed dataset present, 3-D, finite,
// noisy and clean of equal shape. The test split is read when present and is
// an error to lack when require_test.
PairData load_pairs(const std::string& path, bool require_test);

// Maps the [0.5, 99.5] percentile range of the training data (noisy and
// clean together) to [0, 1]: mode "fixed", stored in the exported model.
Normalization fit_normalization(const PairSplit& train, const std::string& what);

// x -> (x - offset) * scale, in place.
void apply_normalization(Stack& s, const Normalization& norm);

// Draws square crops at random slices and positions, each under one of the 8
// flips/90-degree rotations. A 3-slice input is the slice and its neighbours
// (edges replicated); the target is the middle clean slice. The generator is
// std::mt19937_64 (fully specified by the standard) so runs are reproducible
// and its state can be saved in a checkpoint.
class CropSampler {
 public:
  CropSampler(const PairSplit& data, int slices, int crop, std::uint64_t seed);

  // input: batch x slices x crop x crop, target: batch x 1 x crop x crop.
  void sample(int batch, float* input, float* target);

  std::string state() const;
  void restore(const std::string& state);

 private:
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  const PairSplit& data_;
  int slices_, crop_;
  std::mt19937_64 rng_;
};

}  // namespace sira::train
