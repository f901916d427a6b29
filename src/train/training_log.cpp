#include "train/training_log.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/atomic_output.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/stack.hpp"

namespace sira::train {
namespace {

// A 3x5 pixel font for the panel labels: each glyph is 5 rows of 3 bits.
const std::map<char, std::array<const char*, 5>>& font() {
  static const std::map<char, std::array<const char*, 5>> glyphs = {
      {'0', {"111", "101", "101", "101", "111"}}, {'1', {"010", "110", "010", "010", "111"}},
      {'2', {"111", "001", "111", "100", "111"}}, {'3', {"111", "001", "111", "001", "111"}},
      {'4', {"101", "101", "111", "001", "001"}}, {'5', {"111", "100", "111", "001", "111"}},
      {'6', {"111", "100", "111", "101", "111"}}, {'7', {"111", "001", "001", "001", "001"}},
      {'8', {"111", "101", "111", "101", "111"}}, {'9', {"111", "101", "111", "001", "111"}},
      {'.', {"000", "000", "000", "000", "010"}}, {'-', {"000", "000", "111", "000", "000"}},
      {'_', {"000", "000", "000", "000", "111"}}, {'+', {"000", "010", "111", "010", "000"}},
      {'a', {"000", "011", "101", "101", "011"}}, {'c', {"000", "011", "100", "100", "011"}},
      {'d', {"001", "011", "101", "101", "011"}}, {'e', {"010", "101", "111", "100", "011"}},
      {'g', {"011", "101", "011", "001", "110"}}, {'i', {"010", "000", "010", "010", "010"}},
      {'l', {"110", "010", "010", "010", "111"}}, {'m', {"000", "111", "111", "101", "101"}},
      {'n', {"000", "110", "101", "101", "101"}}, {'o', {"000", "010", "101", "101", "010"}},
      {'p', {"000", "110", "101", "110", "100"}}, {'r', {"000", "101", "110", "100", "100"}},
      {'s', {"000", "011", "110", "011", "110"}}, {'t', {"010", "111", "010", "010", "011"}},
      {'u', {"000", "101", "101", "101", "011"}}, {'v', {"000", "101", "101", "101", "010"}},
      {'x', {"000", "101", "010", "010", "101"}}, {'h', {"100", "110", "101", "101", "101"}},
  };
  return glyphs;
}

class Canvas {
 public:
  Canvas(std::size_t h, std::size_t w) : image_(1, h, w, DType::u8) { std::fill(image_.data.begin(), image_.data.end(), 255.f); }
  void dot(long y, long x, float v) {
    if (y >= 0 && x >= 0 && std::size_t(y) < image_.height && std::size_t(x) < image_.width) image_.at(0, y, x) = v;
  }
  void line(long y0, long x0, long y1, long x1, float v) {  // Bresenham
    const long dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const long sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    long err = dx + dy;
    for (;;) {
      dot(y0, x0, v);
      if (x0 == x1 && y0 == y1) break;
      const long e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }
  void text(long y, long x, const std::string& s, int zoom = 2) {
    for (char c : s) {
      auto it = font().find(c);
      if (it != font().end())
        for (int r = 0; r < 5; ++r)
          for (int k = 0; k < 3; ++k)
            if (it->second[r][k] == '1')
              for (int a = 0; a < zoom; ++a)
                for (int b = 0; b < zoom; ++b) dot(y + r * zoom + a, x + k * zoom + b, 0.f);
      x += 4 * zoom;
    }
  }
  const Stack& image() const { return image_; }

 private:
  Stack image_;
};

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (iteration, value)
};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void draw_panel(Canvas& canvas, long top, long width, long height, const Series& s, double max_iteration) {
  constexpr long margin = 8, label = 16;
  const long left = margin, right = width - margin, y_top = top + label, y_bottom = top + height - margin;
  canvas.line(y_top, left, y_top, right, 160.f);
  canvas.line(y_bottom, left, y_bottom, right, 160.f);
  canvas.line(y_top, left, y_bottom, left, 160.f);
  canvas.line(y_top, right, y_bottom, right, 160.f);
  double lo = s.points.front().second, hi = lo;
  for (const auto& p : s.points) lo = std::min(lo, p.second), hi = std::max(hi, p.second);
  canvas.text(top + 3, left, s.name + "  min " + number(lo) + "  max " + number(hi));
  auto px = [&](double it) { return left + 1 + std::lround((it / std::max(1.0, max_iteration)) * double(right - left - 2)); };
  auto py = [&](double v) {
    const double f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return y_bottom - 1 - std::lround(f * double(y_bottom - y_top - 2));
  };
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    const long x = px(s.points[i].first), y = py(s.points[i].second);
    if (i == 0)
      canvas.dot(y, x, 0.f);
    else
      canvas.line(py(s.points[i - 1].second), px(s.points[i - 1].first), y, x, 0.f);
  }
}

}  // namespace

void write_log_csv(const std::string& path, const std::vector<IterationRecord>& history) {
  AtomicOutput output(path);
  {
    std::ofstream out(output.temp_path());
    if (!out) fail(path, ": cannot open for writing");
    out << "iteration,g_total,g_adversarial,g_mse,g_perceptual,d_loss,val_ssim,val_psnr,seconds\n";
    out.precision(9);
    for (const auto& r : history) {
      out << r.iteration << ',' << r.g_total << ',' << r.g_adversarial << ',' << r.g_mse << ','
          << r.g_perceptual << ',' << r.d_loss << ',';
      if (r.val_ssim >= 0) out << r.val_ssim;
      out << ',';
      if (r.val_ssim >= 0) out << r.val_psnr;
      out << ',' << r.seconds << '\n';
    }
    out.close();
    if (!out) fail(path, ": write failed");
  }
  output.commit();
}

void write_loss_plot(const std::string& path, const std::vector<IterationRecord>& history) {
  if (history.empty()) fail(path, ": no iterations to plot");
  std::vector<Series> series = {{"g_mse", {}}, {"g_perceptual", {}}, {"g_adversarial", {}}, {"d_loss", {}},
                                {"val_psnr", {}}, {"val_ssim", {}}};
  for (const auto& r : history) {
    const double it = double(r.iteration);
    series[0].points.emplace_back(it, r.g_mse);
    series[1].points.emplace_back(it, r.g_perceptual);
    series[2].points.emplace_back(it, r.g_adversarial);
    series[3].points.emplace_back(it, r.d_loss);
    if (r.val_ssim >= 0 && std::isfinite(r.val_psnr)) series[4].points.emplace_back(it, r.val_psnr);
    if (r.val_ssim >= 0) series[5].points.emplace_back(it, r.val_ssim);
  }
  std::erase_if(series, [](const Series& s) { return s.points.empty(); });
  constexpr long width = 640, panel = 140;
  Canvas canvas(std::size_t(panel) * series.size(), width);
  for (std::size_t i = 0; i < series.size(); ++i)
    draw_panel(canvas, long(i) * panel, width, panel, series[i], double(history.back().iteration));
  write_stack(path, canvas.image(), DType::u8);
}

}  // namespace sira::train
