#include "train/qat_setup.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "sira/error.hpp"

namespace sira::train {

std::vector<CalibrationImages> qat_calibration_images(const std::vector<PairSplit>& train, int slices_per_file) {
  if (slices_per_file < 1) fail("--calib-slices must be at least 1, got ", slices_per_file);
  std::vector<CalibrationImages> out;
  for (const PairSplit& split : train) {
    const Stack& s = split.noisy;
    const std::size_t n = std::min<std::size_t>(std::size_t(slices_per_file), s.depth);
    const std::size_t first = (s.depth - n) / 2;
    Stack block(n, s.height, s.width, s.dtype);
    std::copy_n(s.slice(first), n * s.slice_size(), block.data.begin());
    out.push_back({cat(split.source, ":/train_ns[", first, ":", first + n, "]"), std::move(block)});
  }
  return out;
}

QuantizeOptions qat_quantize_options(const QatOptions& qat, int threads) {
  QuantizeOptions q;
  q.method = qat.method;
  q.percentile = qat.percentile;
  q.per_channel = qat.per_channel;
  q.weight_bits = qat.weight_bits;
  q.threads = threads;
  return q;
}

std::string qat_signature(const QatOptions& qat) {
  return cat(" qat method=", qat.method, " percentile=", qat.percentile, " weight_bits=", qat.weight_bits,
             " per_channel=", qat.per_channel, " equalize=", qat.equalize, " calib_slices=", qat.calib_slices);
}

std::string activations_text(const std::map<std::string, ActivationParams>& activations) {
  std::string text;
  char scale[64];
  for (const auto& [name, p] : activations) {
    std::snprintf(scale, sizeof scale, "%a", double(p.scale));
    text += cat(name, " ", scale, " ", p.zero_point, "\n");
  }
  return text;
}

std::map<std::string, ActivationParams> parse_activations(const std::string& text, const std::string& source) {
  std::map<std::string, ActivationParams> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream is(line);
    std::string name, scale;
    int zp = -1;
    if (!(is >> name >> scale >> zp)) fail(source, ": malformed activation parameters line '", line, "'");
    char* end = nullptr;
    const float s = std::strtof(scale.c_str(), &end);
    if (*end != '\0' || !(s > 0) || zp < 0 || zp > 255)
      fail(source, ": invalid activation parameters for '", name, "': scale ", scale, ", zero point ", zp);
    out[name] = {s, zp};
  }
  if (out.empty()) fail(source, ": no activation parameters stored");
  return out;
}

}  // namespace sira::train
