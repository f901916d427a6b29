// The pair files a training reads (HDF5: train_ns, train_gt, test_ns, test_gt,
// each slices x H x W float32), the intensity normalisation of every slice,
// and the random augmented crops the trainer draws from them. No libtorch here.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/normalize.hpp"
#include "sira/model.hpp"
#include "sira/stack.hpp"

namespace sira::train {

// One split of one pair file, in the file's own units. maps[z] takes slice z
// (and, for a 3-slice input, its neighbours) to the network's range; the
// clean slice goes through the same map so the network learns in one scale.
struct PairSplit {
  std::string source;  // file the split came from
  Stack noisy, clean;  // same shape
  std::vector<IntensityMap> maps;
  // max - min of the whole clean split in its own units: the data range that
  // SSIM and PSNR are scored with (validation, bench/denoiser_comparison.py).
  double clean_range = 1.0;
  bool empty() const { return noisy.depth == 0; }
};

struct PairData {
  std::vector<PairSplit> train, test;  // one entry per file; test holds only files with a test split
  // File names (no folders) of the measured data the pair files were made from
  // (their "source" attribute; phantoms are not listed), sorted, each once.
  std::vector<std::string> sources;
};

// Reads and checks every pair file: every needed dataset present, 3-D, finite,
// noisy and clean of equal shape. Files may differ in image size and units.
// A file's test split is read when present; require_test makes it an error
// that no file has one.
PairData load_pairs(const std::vector<std::string>& paths, bool require_test);

// Mode "fixed": maps the [0.5, 99.5] percentile range of all the training data
// (noisy and clean together) to [0, 1]. Only sensible when the files share units.
Normalization fit_normalization(const std::vector<PairSplit>& train);

// Fills split.maps: the fixed map for every slice, or (mode "per_image") the
// map of each noisy slice's own percentiles, exactly as the engine computes it
// at inference (engine/normalize.hpp).
void assign_maps(std::vector<PairSplit>& splits, const Normalization& norm);

// Draws square crops at random slices and positions, each under one of the 8
// flips/90-degree rotations. Files are drawn in proportion to the number of
// crop positions they hold. A 3-slice input is the slice and its neighbours
// (edges replicated) through the middle slice's map; the target is the middle
// clean slice. The generator is std::mt19937_64 (fully specified by the
// standard) so runs are reproducible and its state can be saved.
class CropSampler {
 public:
  // by_file: every file equally likely; else in proportion to its crop positions.
  CropSampler(const std::vector<PairSplit>& data, int slices, int crop, std::uint64_t seed, bool by_file = false);

  // input: batch x slices x crop x crop, target: batch x 1 x crop x crop;
  // data_range (optional, batch values): each crop's clean_range in the
  // network's units (clean_range times its slice's map scale).
  void sample(int batch, float* input, float* target, float* data_range = nullptr);

  std::string state() const;
  void restore(const std::string& state);

 private:
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  const std::vector<PairSplit>& data_;
  std::vector<std::uint64_t> cumulative_;  // running count of crop positions per file
  int slices_, crop_;
  std::mt19937_64 rng_;
};

}  // namespace sira::train
