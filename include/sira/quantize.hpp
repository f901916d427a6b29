// Post-training quantisation of a model (docs/quantization.md): calibration
// (the fp32 network on sample images, activation ranges observed per group of
// tensors sharing a scale) and int8 weights/biases.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sira/model.hpp"
#include "sira/quant_params.hpp"
#include "sira/stack.hpp"

namespace sira {

struct QuantizeOptions {
  // minmax | percentile | mse | entropy; percentile 99.9999 measured best (docs/quantization.md)
  std::string method = "percentile";
  double percentile = 99.9999;        // method percentile: the percentile kept at each tail, in %
  bool per_channel = true;            // weights: one scale per output channel (else per tensor)
  int weight_bits = 8;                // 8 or 7
  std::size_t max_images = 0;         // calibration slices used (0 = all)
  int threads = 0;
  // Called after each calibration slice of each pass with (done, total) over
  // all passes (1 for minmax, else 2), for a progress bar.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

// A calibration stack and the name it was read from (for messages).
struct CalibrationImages {
  std::string name;
  Stack images;
};

// Activation parameters for every quantised node of `model`'s graph from the
// fp32 network's activations on `calibration` (slices processed like sira
// denoise inputs). Refuses an empty set, NaN/Inf samples and a constant set.
std::map<std::string, ActivationParams> calibrate(const Model& model,
                                                  const std::vector<CalibrationImages>& calibration,
                                                  const QuantizeOptions& options);

// `model` (fp32) with int8 weights, weight scales and int32 biases for every
// weighted layer, given activation parameters; the fp32 tensors of the result
// are the dequantised ones.
Model quantize_weights(const Model& model, const std::map<std::string, ActivationParams>& activations,
                       const QuantizeOptions& options);

// calibrate + quantize_weights.
Model quantize_model(const Model& model, const std::vector<CalibrationImages>& calibration,
                     const QuantizeOptions& options);

// Activation ranges from the data being denoised (src/quant/input_ranges.cpp).
// How an int8 run gets them: `sira denoise --int8-*` and sira.denoise(int8_*=)
// share these defaults (docs/quantization.md "Ranges from the input").
struct InputRangeOptions {
  std::string ranges = "input";  // input = re-observed on the input; model = the stored ranges
  std::size_t slices = 4;        // evenly spaced slices observed
  std::size_t window = 512;      // edge of the centred window of each (0 = whole slices)
  double percentile = 99.9;      // measured best on the real validation
};

// `count` indices spread evenly over [0, depth) (fewer when depth < count).
std::vector<std::size_t> evenly_spaced_slices(std::size_t depth, std::size_t count);

// `count` evenly spaced slices of the stack `input`, each read with the
// neighbours a `model_slices`-slice model needs, cut to their centred
// `window` x `window` pixels (0 = whole slices).
std::vector<CalibrationImages> input_calibration_slices(const std::string& input, std::size_t count,
                                                        int model_slices, std::size_t window);
// The same from any source of `depth` slices (an array in memory: the Python
// binding), `read(first, n)` returning slices [first, first + n) and `name`
// naming the source in messages. The file version reads through this one, so
// both pick the same slices and windows.
using SliceReader = std::function<Stack(std::size_t first, std::size_t count)>;
std::vector<CalibrationImages> input_calibration_slices(const std::string& name, std::size_t depth,
                                                        const SliceReader& read, std::size_t count,
                                                        int model_slices, std::size_t window);

// `quantized` with activation ranges (and the int32 biases that depend on
// them) re-observed on `slices`; int8 weights and their scales unchanged.
Model recalibrate_activations(const Model& quantized, const std::vector<CalibrationImages>& slices,
                              const QuantizeOptions& options);

// The clip range [lo, hi] a method picks from a histogram of `counts` over
// [lo, hi] (equal bins). Exposed for tests.
struct Range {
  double lo = 0, hi = 0;
};
Range choose_range(const std::string& method, const std::vector<double>& counts, Range full,
                   double percentile);

}  // namespace sira
