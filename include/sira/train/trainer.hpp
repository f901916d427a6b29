// Training a TomoGAN-family generator against its discriminator with libtorch,
// from an HDF5 pair file (train_ns/train_gt, test_ns/test_gt) to a sira model.
// This header is torch-free so the CLI and tests stay light to compile; the
// libtorch modules live in src/train/. See docs/training.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sira/model.hpp"
#include "sira/stack.hpp"

namespace sira::train {

struct LossWeights {
  double adversarial = 20.0;  // published TomoGAN weights
  double mse = 0.5;
  double perceptual = 2.0;
};

// Quantisation-aware training (sira train --qat, docs/quantization.md "QAT"):
// activation parameters calibrated once on the --init model, then fixed.
struct QatOptions {
  bool enabled = false;
  std::string method = "percentile";  // calibration: minmax | percentile | mse | entropy (as sira quantize)
  double percentile = 99.9999;
  int weight_bits = 8;                // 8 or 7
  bool per_channel = true;            // weight scales per output channel, else per tensor
  bool equalize = false;              // cross-layer equalisation of the --init weights first
  int calib_slices = 2;               // calibration: this many train_ns slices (the middle ones) per pair file
  bool operator==(const QatOptions&) const = default;
};

struct TrainOptions {
  std::vector<std::string> pairs;  // HDF5 pair files (crops drawn from all, see `sampling`)
  std::string normalization = "fixed";  // fixed (one map fitted to the data) | per_image (each slice's percentiles)
  int norm_block = 1;         // per_image: percentiles of block x block means (Normalization::block)
  bool residual = false;      // a random start gets a global residual (TomoganConfig::residual)
  // How a crop picks its pair file: "size" in proportion to the crop positions
  // it holds (big files dominate), "file" every file equally often.
  std::string sampling = "size";
  std::string output;         // model file written at the end
  int slices = 0;             // 1 or 3 input slices; 0 = 3, or the init model's
  int crop = 128;             // square crop edge, a multiple of the generator's multiple (8)
  int batch = 8;
  std::int64_t iterations = 1000;  // total, counted from 0 (a resumed run continues to it)
  double lr = 1e-4;           // Adam, generator and discriminator
  LossWeights weights;
  int threads = 0;            // 0 = all cores
  std::uint64_t seed = 0;
  int d_steps = 2;            // discriminator steps per generator step
  std::string perceptual;     // TorchScript feature extractor; empty = SSIM substitute
  std::string init;           // fine-tune this model instead of a random initialisation
  std::string resume;         // continue from this checkpoint
  std::string checkpoint;     // checkpoint file (default: output + ".ckpt")
  std::int64_t checkpoint_every = 0;  // 0 = only at the end
  std::int64_t validate_every = 0;    // 0 = only at the end (if the test split exists)
  std::string log_csv;        // per-iteration losses and validation metrics
  std::string plot_png;       // the same curves as a PNG
  std::string test_output;    // location for the final generator's restoration of test_ns
  QatOptions qat;             // enabled: fake-quantised forward, exports an int8 model
  double max_seconds = 0;     // > 0: stop after the iteration that passes this wall time (iterations = a cap)
};

// Losses of one iteration (the generator step and the mean of the
// discriminator steps) and, on validation iterations, test-split metrics.
struct IterationRecord {
  std::int64_t iteration = 0;  // 1-based: the record after the n-th iteration
  double g_total = 0, g_adversarial = 0, g_mse = 0, g_perceptual = 0;
  double d_loss = 0;
  double val_ssim = -1, val_psnr = -1;  // -1 when not validated at this iteration
  double seconds = 0;                   // wall time of this iteration
};

struct TrainReport {
  std::vector<IterationRecord> history;  // whole run, including before a resume
  std::int64_t start_iteration = 0;      // where this process started (after --resume)
  double seconds = 0;                    // wall time of this process's iterations
  double crops_per_second = 0;           // generator crops/s, first iteration excluded
  Model model;                           // what was written to options.output (int8 with --qat)
};

// Called after every iteration with the newest record and the total.
using IterationCallback = std::function<void(const IterationRecord&, std::int64_t total)>;

// Runs the training; throws sira::Error on bad input (missing datasets,
// mismatched shapes, crops larger than the images, an incompatible checkpoint).
TrainReport train(const TrainOptions& options, const IterationCallback& on_iteration = {});

// Pairs already in memory (sira adapt makes them from one scan): each entry
// plays the part of one pair file; `sources` are recorded as training sources.
struct PairStacks {
  std::string name;
  Stack noisy, clean;  // slices x H x W, same shape
};
struct InMemoryPairs {
  std::vector<PairStacks> train, test;
  std::vector<std::string> sources;
};
// The same training on them (options.pairs is ignored).
TrainReport train(const TrainOptions& options, const InMemoryPairs& pairs, const IterationCallback& on_iteration = {});

}  // namespace sira::train
