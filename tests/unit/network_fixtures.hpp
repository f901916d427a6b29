// Random TomoGAN networks, configurations and inputs the engine and precision
// tests share (ref, oneDNN, bf16, int8, quantisation recovery, QAT).
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "sira/model.hpp"
#include "sira/stack.hpp"

namespace sira::fixtures {

// channels x h x w floats uniform in [0, 1).
inline std::vector<float> random_input(int channels, std::size_t h, std::size_t w, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(std::size_t(channels) * h * w);
  for (float& x : v) x = u(gen);
  return v;
}

// A 2-level TomoGAN with odd, unequal widths (no layer shares a shape by chance).
inline TomoganConfig small_config(int slices, Upsample up) {
  TomoganConfig c;
  c.slices = slices;
  c.stem = 5;
  c.encoder = {7, 12};
  c.bottleneck = 9;
  c.decoder = {11, 6};
  c.head = 3;
  c.upsample = up;
  return c;
}

// A random 2-level TomoGAN (every kind of node) with He's gain. PyTorch's default
// init (std 1/sqrt(3 fan_in)) shrinks the signal ~1.7x per ReLU layer, so an
// untrained net's output would be nearly constant and any rounding would look
// huge against its tiny range. Scaling the weights by sqrt(6) gives He's gain
// (std sqrt(2/fan_in)), which keeps the signal's size through the layers as a
// trained network does.
inline Model he_scaled_model(Upsample up, unsigned seed, int slices = 1) {
  TomoganConfig cfg;
  parse_widths("8,16,32,32,16,16,8", cfg);
  cfg.slices = slices;
  cfg.upsample = up;
  Model m = init_model(cfg, seed);
  for (auto& [name, t] : m.tensors)
    if (name.ends_with(".weight"))
      for (float& v : t.data) v *= std::sqrt(6.0f);
  return m;
}

// A smooth random image with features at several scales (`blobs` Gaussian blobs
// plus noise), like a reconstructed slice.
inline Stack blob_image(std::size_t depth, std::size_t h, std::size_t w, unsigned seed, int blobs = 6) {
  Stack s(depth, h, w);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> cx(blobs), cy(blobs), r(blobs);
  for (std::size_t d = 0; d < depth; ++d) {
    for (int i = 0; i < blobs; ++i) cx[i] = u(rng) * w, cy[i] = u(rng) * h, r[i] = 3 + u(rng) * h / 4;
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) {
        float v = 0.05f * u(rng);
        for (int i = 0; i < blobs; ++i) {
          const float dx = (x - cx[i]) / r[i], dy = (y - cy[i]) / r[i];
          v += std::exp(-(dx * dx + dy * dy));
        }
        s.at(d, y, x) = v;
      }
  }
  return s;
}

}  // namespace sira::fixtures
