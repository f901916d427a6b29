// Activation ranges from the data being denoised. A static table of uint8
// activation ranges cannot serve inputs whose noise differs tenfold: ranges
// calibrated on very low dose or sparse views are so coarse that the faint
// noise of a good scan falls below one code and the int8 network stops
// correcting it (measured: neutron CT at 10 % dose, SSIM 0.94 in fp32, 0.76 in
// int8 with the model's ranges, 0.92 with ranges from the scan itself;
// docs/quantization.md, "Ranges from the input"). So sira denoise re-observes
// the ranges on a few slices of its own input before the int8 run. The int8
// weights stay as they are; only activation scales and int32 biases change.
#include <algorithm>

#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/io.hpp"
#include "sira/quant.hpp"
#include "sira/quantize.hpp"
#include "model/quant_metadata.hpp"

namespace sira {

std::vector<std::size_t> evenly_spaced_slices(std::size_t depth, std::size_t count) {
  std::vector<std::size_t> out;
  count = std::min(count, depth);
  for (std::size_t k = 0; k < count; ++k) out.push_back((2 * k + 1) * depth / (2 * count));
  return out;
}

namespace {

// The centred window of at most `edge` x `edge` pixels of every slice of `s`.
// Calibration runs the fp32 network through the observing reference backend,
// ~0.75 s per pass for 512² and 4x that for 1024²; noise statistics, and so
// the activation ranges, are the same over a centred window as over the whole
// slice of a reconstruction.
Stack centre_window(const Stack& s, std::size_t edge) {
  if (edge == 0 || (s.height <= edge && s.width <= edge)) return s;
  const std::size_t h = std::min(edge, s.height), w = std::min(edge, s.width);
  const std::size_t y0 = (s.height - h) / 2, x0 = (s.width - w) / 2;
  Stack out(s.depth, h, w, s.dtype);
  out.is_2d = s.is_2d;
  for (std::size_t d = 0; d < s.depth; ++d)
    for (std::size_t y = 0; y < h; ++y)
      std::copy_n(s.slice(d) + (y0 + y) * s.width + x0, w, out.slice(d) + y * w);
  return out;
}

}  // namespace

std::vector<CalibrationImages> input_calibration_slices(const std::string& name, std::size_t depth,
                                                        const SliceReader& read, std::size_t count,
                                                        int model_slices, std::size_t window) {
  if (count == 0) fail("--int8-calibration-slices must be at least 1");
  std::vector<CalibrationImages> out;
  const std::size_t half = std::size_t(model_slices / 2);
  for (std::size_t centre : evenly_spaced_slices(depth, count)) {
    // A 3-slice model sees the slice with its neighbours: read them with it.
    const std::size_t first = centre >= half ? centre - half : 0;
    const std::size_t last = std::min(depth, centre + half + 1);
    out.push_back({cat(name, " slice ", centre), centre_window(read(first, last - first), window)});
  }
  return out;
}

std::vector<CalibrationImages> input_calibration_slices(const std::string& input, std::size_t count,
                                                        int model_slices, std::size_t window) {
  if (count == 0) fail("--int8-calibration-slices must be at least 1");
  const StackInfo info = probe_stack(input);
  const SliceReader read = [&](std::size_t first, std::size_t n) { return read_slices(input, first, n); };
  return input_calibration_slices(input, info.depth, read, count, model_slices, window);
}

Model recalibrate_activations(const Model& quantized, const std::vector<CalibrationImages>& slices,
                              const QuantizeOptions& o) {
  if (!quantized.quant) fail("recalibrating activation ranges needs an int8 model");
  Model fp32 = quantized;  // its tensors hold the dequantised weights and biases
  fp32.quant.reset();
  const std::map<std::string, ActivationParams> activations = calibrate(fp32, slices, o);
  Model q = quantized;
  q.quant->activations = activations;
  const Graph graph = build_graph(q.config);
  for (const Node& n : graph.nodes) {
    if (!n.has_weights()) continue;
    QuantLayer& l = q.quant->layers.at(n.name);
    if (l.precision != LayerPrecision::int8) continue;
    const float s_in = activations.at(quant_input_node(graph, n).name).scale;
    const ModelTensor& b = quantized.tensor(n.name + ".bias");
    for (std::size_t c = 0; c < l.bias.size(); ++c) l.bias[c] = quant::quantize_bias(b.data[c], s_in, l.scale(c));
  }
  validate_quant_params(*q.quant, graph, "recalibrated model");
  dequantize_int8_layers(q);
  return q;
}

}  // namespace sira
