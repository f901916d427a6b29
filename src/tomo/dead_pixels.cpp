#include "sira/tomo/dead_pixels.hpp"

#include <algorithm>
#include <cmath>

#include "sira/error.hpp"
#include "tomo/reflect.hpp"

namespace sira::tomo {

namespace {

double median_of(std::vector<double>& v) {
  const std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  const double hi = v[n / 2];
  if (n % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + n / 2));
}

}  // namespace

std::size_t DeadPixelMap::count() const {
  return std::size_t(std::count_if(reason.begin(), reason.end(), [](DeadReason r) { return r != DeadReason::good; }));
}

std::size_t DeadPixelMap::count(DeadReason why) const {
  return std::size_t(std::count(reason.begin(), reason.end(), why));
}

std::vector<std::size_t> DeadPixelMap::dead_columns(const std::vector<std::size_t>& examined) const {
  std::vector<std::size_t> rows_list = examined;
  if (rows_list.empty())
    for (std::size_t r = 0; r < rows; ++r) rows_list.push_back(r);
  std::vector<std::size_t> out;
  if (rows_list.empty()) return out;
  for (std::size_t c = 0; c < cols; ++c) {
    bool all = true;
    for (std::size_t r : rows_list) all = all && dead(r, c);
    if (all) out.push_back(c);
  }
  return out;
}

std::string DeadPixelMap::describe(const std::vector<std::size_t>& examined) const {
  std::vector<std::size_t> rows_list = examined;
  if (rows_list.empty())
    for (std::size_t r = 0; r < rows; ++r) rows_list.push_back(r);
  std::size_t zero = 0, off = 0, constant = 0;
  for (std::size_t r : rows_list)
    for (std::size_t c = 0; c < cols; ++c) {
      const DeadReason why = reason[r * cols + c];
      zero += why == DeadReason::zero, off += why == DeadReason::off, constant += why == DeadReason::constant;
    }
  std::string s = cat(zero + off + constant, " dead/hot pixel(s) (", zero, " without response, ", off,
                      " off their neighbours, ", constant, " constant)");
  const auto columns = dead_columns(rows_list);
  if (!columns.empty()) {
    s += columns.size() == 1 ? "; column " : "; columns ";
    for (std::size_t i = 0; i < columns.size() && i < 20; ++i) s += cat(i ? ", " : "", columns[i]);
    if (columns.size() > 20) s += cat(", ... (", columns.size(), ")");
    s += rows_list.size() > 1 ? " dead in every row" : "";
  }
  return s;
}

DeadPixelMap find_dead_pixels(const FrameSource& refs, const DeadPixelOptions& o, SampleDomain domain,
                              const std::vector<std::size_t>& rows, const std::vector<std::uint8_t>& constant) {
  if (!(o.tolerance > 0) || !std::isfinite(o.tolerance))
    fail("dead pixels: the tolerance must be a positive number (got ", o.tolerance, ")");
  if (o.window < 3 || o.window % 2 == 0) fail("dead pixels: the window must be odd and >= 3 (got ", o.window, ")");
  DeadPixelMap map;
  map.rows = refs.rows;
  map.cols = refs.cols;
  map.reason.assign(refs.rows * refs.cols, DeadReason::good);
  if (!constant.empty() && constant.size() != map.reason.size())
    fail("dead pixels: the constant-pixel mask has ", constant.size(), " entries for ", map.reason.size(), " pixels");
  std::vector<std::size_t> list = rows;
  if (list.empty())
    for (std::size_t r = 0; r < refs.rows; ++r) list.push_back(r);
  const std::ptrdiff_t W = std::ptrdiff_t(refs.cols), h = o.window / 2;
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(list.size()); ++k) {
    const std::size_t r = list[k];
    // dev[c * frames + f], value[c * frames + f]
    std::vector<double> dev(refs.cols * refs.frames), value(refs.cols * refs.frames), window(o.window), tmp;
    for (std::size_t f = 0; f < refs.frames; ++f) {
      const float* line = refs.row(f, r);
      for (std::ptrdiff_t c = 0; c < W; ++c) {
        for (std::ptrdiff_t d = -h; d <= h; ++d) window[d + h] = line[reflect_index(c + d, W)];
        const double m = median_of(window), v = line[c];
        double e;
        if (domain == SampleDomain::line_integral) e = std::abs(std::expm1(m - v));
        else if (m > 0) e = std::abs(v / m - 1);
        else e = v > 0 ? 1e30 : 0.0;  // bright where the neighbours see nothing
        dev[c * refs.frames + f] = e;
        value[c * refs.frames + f] = v;
      }
    }
    for (std::size_t c = 0; c < refs.cols; ++c) {
      DeadReason& why = map.reason[r * refs.cols + c];
      if (!constant.empty() && constant[r * refs.cols + c]) {
        // Stuck only where most row neighbours do vary: a constant region (air in
        // noise-free data, zero padding) is not a defect.
        std::size_t neighbours = 0, varying = 0;
        for (std::ptrdiff_t d = -h; d <= h; ++d) {
          const std::ptrdiff_t x = std::ptrdiff_t(c) + d;
          if (d == 0 || x < 0 || x >= W) continue;
          ++neighbours;
          varying += !constant[r * refs.cols + std::size_t(x)];
        }
        if (2 * varying > neighbours) why = DeadReason::constant;
      }
      if (refs.frames == 0) continue;
      tmp.assign(value.begin() + c * refs.frames, value.begin() + (c + 1) * refs.frames);
      if (domain == SampleDomain::intensity && median_of(tmp) <= 0) {
        why = DeadReason::zero;
        continue;
      }
      tmp.assign(dev.begin() + c * refs.frames, dev.begin() + (c + 1) * refs.frames);
      if (median_of(tmp) > o.tolerance) why = DeadReason::off;
    }
  }
  return map;
}

void interpolate_dead_pixels(float* line, std::size_t r, const DeadPixelMap& map) {
  const std::size_t n = map.cols;
  std::size_t c = 0;
  while (c < n) {
    if (!map.dead(r, c)) {
      ++c;
      continue;
    }
    std::size_t end = c;
    while (end < n && map.dead(r, end)) ++end;  // [c, end) is a run of dead pixels
    const bool left = c > 0, right = end < n;
    if (left || right) {
      const float a = left ? line[c - 1] : line[end], b = right ? line[end] : line[c - 1];
      const double span = double(end - c + 1);
      for (std::size_t x = c; x < end; ++x) {
        const double t = left && right ? double(x - c + 1) / span : 0.0;
        line[x] = float(a + t * (double(b) - a));
      }
    }
    c = end;
  }
}

}  // namespace sira::tomo
