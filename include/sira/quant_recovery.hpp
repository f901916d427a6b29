// int8 accuracy recovery (docs/quantization.md, "Accuracy recovery"): cross-layer
// equalisation of the fp32 weights before calibration, bias correction of a
// quantised model, and mixed precision chosen by per-layer sensitivity.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sira/graph.hpp"
#include "sira/model.hpp"
#include "sira/quant_params.hpp"
#include "sira/quantize.hpp"

namespace sira {

// ---- cross-layer equalisation (Nagel et al. 2019, "Data-free quantization") ----

// Two convs where `first` (with a fused ReLU) feeds only `second`: scaling
// first's output channel c by 1/s_c and second's input channel c by s_c leaves
// the network's function unchanged (ReLU(x/s) = ReLU(x)/s for s > 0).
struct ConvPair {
  std::string first, second;
};
std::vector<ConvPair> equalizable_pairs(const Graph& graph);

// `model` (fp32) with every equalisable pair rescaled so that, per channel c,
// max|W1[c,:,:,:]| == max|W2[:,c,:,:]| (s_c = sqrt(r1_c / r2_c)); chains of
// pairs are swept `sweeps` times (one sweep is exact for disjoint pairs).
Model equalize_cross_layer(const Model& model, int sweeps = 16);

// ---- bias correction ----

// Expected error of every int8 layer's pre-activation output per output
// channel, E[W_q * Q(x)] - E[W * x], over the calibration set: x is the layer's
// input in the fp32 network, Q(x) its fake-quantised value with the layer's
// input parameters, W_q the dequantised int8 weights (zero padding included).
std::map<std::string, std::vector<double>> expected_output_error(const Model& fp32, const Model& quantized,
                                                                 const std::vector<CalibrationImages>& calibration,
                                                                 const QuantizeOptions& options);

// `quantized` (from `fp32`) with each int8 layer's bias b_q recomputed from
// b - expected_output_error (the fp32 tensors dequantised again).
Model correct_bias(const Model& fp32, const Model& quantized, const std::vector<CalibrationImages>& calibration,
                   const QuantizeOptions& options);

// ---- mixed precision by per-layer sensitivity ----

struct MixedPrecisionReport {
  double all_int8_psnr = 0;                   // int8 output vs fp32 output, calibration set
  std::map<std::string, double> layer_psnr;   // the same with only that layer kept in float
  std::vector<std::string> kept;              // layers kept in float, most sensitive first
  double final_psnr = 0;
};

// Mean over the calibration slices of PSNR(int8 output, fp32 output) with the
// data range of the fp32 outputs (the whole set), as sira eval --fp32.
double int8_vs_fp32_psnr(const Model& fp32, const Model& quantized,
                         const std::vector<CalibrationImages>& calibration, const QuantizeOptions& options);

// `quantized` with the fewest weighted layers set to `keep` precision (fp32 or
// bf16, original weights) so that int8_vs_fp32_psnr >= target_psnr: layers are
// ranked by the PSNR reached keeping each alone in float, and added in that
// order. Fails when even every layer in float misses the target.
Model mixed_precision(const Model& fp32, const Model& quantized, const std::vector<CalibrationImages>& calibration,
                      const QuantizeOptions& options, double target_psnr, LayerPrecision keep,
                      MixedPrecisionReport* report = nullptr);

// `quantized` with `layer` computed in `precision` from `fp32`'s original weights.
void keep_layer_in_float(Model& quantized, const Model& fp32, const std::string& layer, LayerPrecision precision);

}  // namespace sira
