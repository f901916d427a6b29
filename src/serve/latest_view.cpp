#include "serve/latest_view.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace sira::serve {

void LatestView::update(std::uint64_t series, std::uint64_t image_id, std::size_t height, std::size_t width,
                        const float* raw, const float* restored, double latency_ms) {
  const std::size_t n = height * width;
  float lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(raw[i])) lo = std::min(lo, raw[i]), hi = std::max(hi, raw[i]);
  std::lock_guard lock(mutex_);
  ++seq_;
  series_ = series;
  image_id_ = image_id;
  height_ = height;
  width_ = width;
  raw_.assign(raw, raw + n);
  restored_.assign(restored, restored + n);
  lo_ = std::isfinite(lo) ? lo : 0.0f;
  hi_ = std::isfinite(hi) ? hi : 1.0f;
  latency_ms_ = latency_ms;
}

std::string LatestView::json() const {
  std::lock_guard lock(mutex_);
  nlohmann::json j = {{"seq", seq_},       {"series_id", series_}, {"image_id", image_id_}, {"height", height_},
                      {"width", width_},   {"lo", lo_},           {"hi", hi_},            {"latency_ms", latency_ms_}};
  return j.dump();
}

std::vector<std::uint8_t> LatestView::render(bool restored, std::uint64_t* seq) const {
  std::lock_guard lock(mutex_);
  *seq = seq_;
  const std::vector<float>& v = restored ? restored_ : raw_;
  std::vector<std::uint8_t> out(v.size());
  const double lo = lo_, span = hi_ > lo_ ? double(hi_) - lo : 1.0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double t = std::isfinite(v[i]) ? (double(v[i]) - lo) / span : 0.0;
    out[i] = std::uint8_t(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
  }
  return out;
}

}  // namespace sira::serve
