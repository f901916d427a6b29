// What the live page shows (metrics_server.hpp, docs/serve.md "Live page"):
// the latest published slice, raw (the input slice, or in projections mode the
// FBP reconstruction before denoising) and restored, with its latency. The
// publisher updates it; the HTTP thread renders it on request, both on one
// intensity scale: [min, max] of the raw slice mapped to 0..255 (values
// outside clipped), so the two are directly comparable. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace sira::serve {

class LatestView {
 public:
  void update(std::uint64_t series, std::uint64_t image_id, std::size_t height, std::size_t width, const float* raw,
              const float* restored, double latency_ms);
  // {"seq", "series_id", "image_id", "height", "width", "lo", "hi", "latency_ms"}; seq 0 = nothing yet.
  std::string json() const;
  // height x width uint8 on the common scale; `restored` picks which. Empty before the first update.
  std::vector<std::uint8_t> render(bool restored, std::uint64_t* seq) const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t seq_ = 0, series_ = 0, image_id_ = 0;
  std::size_t height_ = 0, width_ = 0;
  std::vector<float> raw_, restored_;
  float lo_ = 0, hi_ = 0;
  double latency_ms_ = 0;
};

}  // namespace sira::serve
