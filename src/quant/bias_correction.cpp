// Bias correction (Nagel et al. 2019, empirical variant): rounding the weights
// and clipping/rounding the input of a layer shifts the mean of its output per
// channel, and the shift travels through the network as an offset. The mean
// shift of the pre-activation output, E[W_q Q(x)] - E[W x], is linear in the
// per-channel means of x and Q(x) at each tap position, so one fp32 pass over
// the calibration set measures it for every layer; it is subtracted from the
// fp32 bias before the bias is quantised.
#include <algorithm>
#include <cmath>

#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/quant.hpp"
#include "sira/quant_recovery.hpp"

namespace sira {
namespace {

// Per input channel and tap: the sum, over the layer's output pixels, of the
// input value that tap reads (0 in the padding), for x and for Q(x).
struct TapSums {
  std::size_t channels = 0, taps = 0;
  double outputs = 0;  // output pixels summed over
  std::vector<double> x, qx;  // [channel][tap]
};

// Sums of `plane` (h x w) over every window a k x k 'same' conv's taps read.
void add_tap_sums(const std::vector<double>& plane, std::size_t h, std::size_t w, int kernel, double* sums) {
  // Summed-area table: sat[(y)(w+1) + x] = sum of plane[0..y) x [0..x).
  std::vector<double> sat((h + 1) * (w + 1), 0.0);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      sat[(y + 1) * (w + 1) + x + 1] =
          plane[y * w + x] + sat[y * (w + 1) + x + 1] + sat[(y + 1) * (w + 1) + x] - sat[y * (w + 1) + x];
  const long pad = kernel / 2;
  for (int ky = 0; ky < kernel; ++ky)
    for (int kx = 0; kx < kernel; ++kx) {
      // Output (y, x) reads input (y + ky - pad, x + kx - pad): the rows read are
      // [max(0, ky - pad), min(h, h + ky - pad)).
      const long y0 = std::max(0L, ky - pad), y1 = std::min(long(h), long(h) + ky - pad);
      const long x0 = std::max(0L, kx - pad), x1 = std::min(long(w), long(w) + kx - pad);
      if (y1 <= y0 || x1 <= x0) continue;
      sums[ky * kernel + kx] += sat[std::size_t(y1) * (w + 1) + std::size_t(x1)] -
                                sat[std::size_t(y0) * (w + 1) + std::size_t(x1)] -
                                sat[std::size_t(y1) * (w + 1) + std::size_t(x0)] +
                                sat[std::size_t(y0) * (w + 1) + std::size_t(x0)];
    }
}

}  // namespace

std::map<std::string, std::vector<double>> expected_output_error(const Model& fp32, const Model& quantized,
                                                                 const std::vector<CalibrationImages>& calibration,
                                                                 const QuantizeOptions& o) {
  if (fp32.quant) fail("bias correction needs the fp32 model the quantised one was made from");
  if (!quantized.quant) fail("bias correction needs a quantised model");
  const Graph graph = build_graph(fp32.config);
  // The int8 layers reading each node.
  std::vector<std::vector<int>> readers(graph.nodes.size());
  std::map<int, TapSums> sums;  // by layer node index
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    if (!n.has_weights() || quantized.quant->layers.at(n.name).precision != LayerPrecision::int8) continue;
    readers[std::size_t(n.inputs[0])].push_back(int(i));
    TapSums& s = sums[int(i)];
    s.channels = std::size_t(graph.input_channels(int(i)));
    s.taps = std::size_t(n.kernel * n.kernel);
    s.x.assign(s.channels * s.taps, 0.0);
    s.qx.assign(s.channels * s.taps, 0.0);
  }

  EngineOptions eo;
  eo.backend = "ref";
  eo.threads = o.threads;
  std::vector<double> plane, qplane;
  eo.observer = [&](int node, const float* data, std::size_t c, std::size_t h, std::size_t w) {
    if (readers[std::size_t(node)].empty()) return;
    const ActivationParams p = quantized.quant->activations.at(graph.nodes[std::size_t(node)].name);
    const float inv = quant::inverse_scale(p.scale);
    plane.resize(h * w);
    qplane.resize(h * w);
    for (int layer : readers[std::size_t(node)]) {
      const Node& n = graph.nodes[std::size_t(layer)];
      TapSums& s = sums.at(layer);
      const bool transposed = n.op == OpKind::upsample;
      s.outputs += double(h * w) * (transposed ? 4.0 : 1.0);
      for (std::size_t ch = 0; ch < c; ++ch) {
        const float* x = data + ch * h * w;
        for (std::size_t i = 0; i < h * w; ++i) {
          plane[i] = x[i];
          qplane[i] = quant::dequantize(quant::quantize(x[i], inv, p.zero_point), p);
        }
        if (transposed) {  // every output pixel reads exactly one input pixel through one tap
          double a = 0, b = 0;
          for (std::size_t i = 0; i < h * w; ++i) a += plane[i], b += qplane[i];
          for (std::size_t t = 0; t < s.taps; ++t) s.x[ch * s.taps + t] += a, s.qx[ch * s.taps + t] += b;
        } else {
          add_tap_sums(plane, h, w, n.kernel, &s.x[ch * s.taps]);
          add_tap_sums(qplane, h, w, n.kernel, &s.qx[ch * s.taps]);
        }
      }
    }
  };
  Engine engine(fp32, eo);
  std::vector<float> out;
  std::size_t used = 0;
  for (const auto& c : calibration)
    for (std::size_t d = 0; d < c.images.depth && !(o.max_images && used == o.max_images); ++d, ++used) {
      out.resize(c.images.slice_size());
      engine.denoise_slice(c.images, d, out.data());
    }
  if (used == 0) fail("bias correction: the calibration set is empty");

  std::map<std::string, std::vector<double>> errors;
  for (const auto& [layer, s] : sums) {
    const Node& n = graph.nodes[std::size_t(layer)];
    const std::vector<float>& w = fp32.tensor(n.name + ".weight").data;
    const std::vector<float>& wq = quantized.tensor(n.name + ".weight").data;
    const bool transposed = n.op == OpKind::upsample;
    const std::size_t outs = std::size_t(n.channels);
    std::vector<double> e(outs, 0.0);
    for (std::size_t co = 0; co < outs; ++co)
      for (std::size_t ci = 0; ci < s.channels; ++ci)
        for (std::size_t t = 0; t < s.taps; ++t) {
          // conv [out, in, k, k]; transposed [in, out, 2, 2]
          const std::size_t i = transposed ? (ci * outs + co) * s.taps + t : (co * s.channels + ci) * s.taps + t;
          e[co] += double(wq[i]) * s.qx[ci * s.taps + t] - double(w[i]) * s.x[ci * s.taps + t];
        }
    for (double& v : e) v /= s.outputs;
    errors[n.name] = std::move(e);
  }
  return errors;
}

Model correct_bias(const Model& fp32, const Model& quantized, const std::vector<CalibrationImages>& calibration,
                   const QuantizeOptions& o) {
  const auto errors = expected_output_error(fp32, quantized, calibration, o);
  const Graph graph = build_graph(fp32.config);
  Model q = quantized;
  for (const auto& [layer, e] : errors) {
    const std::string& name = layer;  // a plain reference: lambdas cannot capture a structured binding in C++20
    const Node& n = *std::find_if(graph.nodes.begin(), graph.nodes.end(), [&](const Node& x) { return x.name == name; });
    QuantLayer& l = q.quant->layers.at(name);
    const float s_in = q.quant->activations.at(graph.nodes[std::size_t(n.inputs[0])].name).scale;
    const std::vector<float>& b = fp32.tensor(name + ".bias").data;
    for (std::size_t c = 0; c < e.size(); ++c)
      l.bias[c] = quant::quantize_bias(float(double(b[c]) - e[c]), s_in, l.scale(c));
  }
  dequantize_int8_layers(q);
  return q;
}

}  // namespace sira
