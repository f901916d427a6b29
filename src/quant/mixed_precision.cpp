// Mixed precision by per-layer sensitivity: a few layers (typically the first
// and last, whose errors reach the output undamped) cost most of the int8
// error. Rank every weighted layer by the PSNR reached when it alone computes
// in float, then keep layers in float in that order until the target is met.
#include <algorithm>
#include <cmath>

#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/metrics.hpp"
#include "sira/quant_recovery.hpp"

namespace sira {
namespace {

// Every calibration slice run through `model` at `precision`, concatenated.
std::vector<float> outputs(const Model& model, Precision precision,
                           const std::vector<CalibrationImages>& calibration, const QuantizeOptions& o,
                           std::vector<std::size_t>* slice_sizes = nullptr) {
  EngineOptions eo;
  eo.precision = precision;
  eo.threads = o.threads;
  Engine engine(model, eo);
  std::vector<float> all;
  std::size_t used = 0;
  for (const auto& c : calibration)
    for (std::size_t d = 0; d < c.images.depth && !(o.max_images && used == o.max_images); ++d, ++used) {
      const std::size_t n = c.images.slice_size();
      all.resize(all.size() + n);
      engine.denoise_slice(c.images, d, all.data() + all.size() - n);
      if (slice_sizes) slice_sizes->push_back(n);
    }
  if (used == 0) fail("mixed precision: the calibration set is empty");
  return all;
}

struct Fp32Outputs {
  std::vector<float> data;
  std::vector<std::size_t> slices;
  double range = 0;
};

Fp32Outputs fp32_outputs(const Model& fp32, const std::vector<CalibrationImages>& calibration,
                         const QuantizeOptions& o) {
  Fp32Outputs f;
  f.data = outputs(fp32, Precision::fp32, calibration, o, &f.slices);
  const auto [lo, hi] = std::minmax_element(f.data.begin(), f.data.end());
  f.range = double(*hi) - double(*lo);
  if (!(f.range > 0)) fail("mixed precision: the fp32 outputs on the calibration set are constant");
  return f;
}

double mean_psnr(const std::vector<float>& image, const Fp32Outputs& f) {
  double sum = 0;
  std::size_t at = 0;
  for (std::size_t n : f.slices) {
    sum += std::min(psnr(image.data() + at, f.data.data() + at, n, f.range), 200.0);  // identical: cap, not inf
    at += n;
  }
  return sum / double(f.slices.size());
}

}  // namespace

double int8_vs_fp32_psnr(const Model& fp32, const Model& quantized,
                         const std::vector<CalibrationImages>& calibration, const QuantizeOptions& o) {
  return mean_psnr(outputs(quantized, Precision::int8, calibration, o), fp32_outputs(fp32, calibration, o));
}

void keep_layer_in_float(Model& q, const Model& fp32, const std::string& layer, LayerPrecision precision) {
  if (precision == LayerPrecision::int8) fail("a layer kept in float needs precision fp32 or bf16");
  q.quant->layers.at(layer) = {precision, {}, {}, {}};
  q.tensors[layer + ".weight"] = fp32.tensor(layer + ".weight");
  q.tensors[layer + ".bias"] = fp32.tensor(layer + ".bias");
}

Model mixed_precision(const Model& fp32, const Model& quantized, const std::vector<CalibrationImages>& calibration,
                      const QuantizeOptions& o, double target, LayerPrecision keep, MixedPrecisionReport* report) {
  if (!quantized.quant) fail("mixed precision needs a quantised model");
  MixedPrecisionReport r;
  const Fp32Outputs f = fp32_outputs(fp32, calibration, o);
  const auto measure = [&](const Model& m) { return mean_psnr(outputs(m, Precision::int8, calibration, o), f); };
  r.all_int8_psnr = r.final_psnr = measure(quantized);
  Model best = quantized;
  if (r.all_int8_psnr < target) {
    std::vector<std::pair<double, std::string>> ranked;
    for (const auto& [name, layer] : quantized.quant->layers) {
      if (layer.precision != LayerPrecision::int8) continue;
      Model m = quantized;
      keep_layer_in_float(m, fp32, name, keep);
      r.layer_psnr[name] = measure(m);
      ranked.push_back({r.layer_psnr[name], name});
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (const auto& [p, name] : ranked) {
      keep_layer_in_float(best, fp32, name, keep);
      r.kept.push_back(name);
      r.final_psnr = r.kept.size() == 1 ? p : measure(best);
      if (r.final_psnr >= target) break;
    }
    if (r.final_psnr < target)
      fail("mixed precision: the target ", target, " dB is out of reach: with all ", r.kept.size(),
           " weighted layers in ", precision_name(keep), " the output is ", r.final_psnr,
           " dB from fp32 on the calibration set (activations stay uint8 between layers)");
  }
  if (report) *report = r;
  return best;
}

}  // namespace sira
