#include "train/training_data.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "sira/error.hpp"
#include "sira/hdf5.hpp"

namespace sira::train {
namespace {

Stack read_3d(const H5File& file, const std::string& dataset) {
  if (!file.has(dataset))
    fail(file.path(), ": no dataset '", dataset, "' (a pair file holds train_ns, train_gt, test_ns, test_gt)");
  const auto shape = file.shape(dataset);
  if (shape.size() != 3) fail(file.path(), ":", dataset, ": expected a 3-D dataset (slices x H x W), got ", shape.size(), "-D");
  Stack s = file.read(dataset);
  check_finite(s, file.path() + ":" + dataset);
  return s;
}

PairSplit read_split(const H5File& file, const std::string& split) {
  PairSplit p{file.path(), read_3d(file, split + "_ns"), read_3d(file, split + "_gt"), {}};
  if (p.noisy.depth != p.clean.depth || p.noisy.height != p.clean.height || p.noisy.width != p.clean.width)
    fail(file.path(), ": ", split, "_ns is ", p.noisy.depth, "x", p.noisy.height, "x", p.noisy.width, " but ",
         split, "_gt is ", p.clean.depth, "x", p.clean.height, "x", p.clean.width);
  if (p.noisy.depth == 0) fail(file.path(), ": ", split, " split has no slices");
  return p;
}

}  // namespace

PairData load_pairs(const std::vector<std::string>& paths, bool require_test) {
  if (paths.empty()) fail("no pair file given (-d PAIRS.h5)");
  PairData d;
  std::set<std::string> sources;
  for (const auto& path : paths) {
    H5File file = H5File::open(path);
    if (file.has_attr("/", "source")) {
      const std::string source = file.attr_string("/", "source");
      if (source != "phantom") sources.insert(std::filesystem::path(source).filename().string());
    }
    d.train.push_back(read_split(file, "train"));
    // The test slices may have any size: validation runs on whole slices.
    if (file.has("test_ns") || file.has("test_gt")) d.test.push_back(read_split(file, "test"));
  }
  d.sources.assign(sources.begin(), sources.end());
  if (require_test && d.test.empty())
    fail(paths.front(), ": no dataset 'test_ns' (validation needs a test split in at least one pair file): make one "
         "with sira pairs --test-fraction 0.1 (slices held apart), add a pair file of other data that has one, "
         "or leave out --validate-every and --test-output");
  return d;
}

Normalization fit_normalization(const std::vector<PairSplit>& train) {
  // A strided subsample of at most ~4 M values bounds the cost of the selection.
  std::size_t total = 0;
  for (const auto& p : train) total += p.noisy.size() + p.clean.size();
  const std::size_t stride = std::max<std::size_t>(1, total / (std::size_t(1) << 22));
  std::vector<float> values;
  values.reserve(total / stride + 2 * train.size() + 2);
  for (const auto& p : train)
    for (const Stack* s : {&p.noisy, &p.clean})
      for (std::size_t i = 0; i < s->size(); i += stride) values.push_back(s->data[i]);
  auto at_percentile = [&](double q) {
    const auto k = static_cast<std::size_t>(std::llround(q / 100.0 * double(values.size() - 1)));
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(k), values.end());
    return double(values[k]);
  };
  Normalization n;
  n.mode = "fixed";
  const double low = at_percentile(n.low_percentile), high = at_percentile(n.high_percentile);
  if (!(high > low)) fail(train.front().source, ": the training data is constant (", low, "); nothing to learn");
  n.offset = low;
  n.scale = 1.0 / (high - low);
  return n;
}

void assign_maps(std::vector<PairSplit>& splits, const Normalization& norm) {
  for (auto& p : splits) {
    p.maps.clear();
    const auto [lo, hi] = std::minmax_element(p.clean.data.begin(), p.clean.data.end());
    p.clean_range = p.clean.data.empty() ? 1.0 : std::max(double(*hi - *lo), 1e-12);
    for (std::size_t z = 0; z < p.noisy.depth; ++z)
      p.maps.push_back(intensity_map(norm, p.noisy.slice(z), p.noisy.height, p.noisy.width));
  }
}

CropSampler::CropSampler(const std::vector<PairSplit>& data, int slices, int crop, std::uint64_t seed,
                         bool by_file)
    : data_(data), slices_(slices), crop_(crop), rng_(seed) {
  if (slices != 1 && slices != 3) fail("slices must be 1 or 3, got ", slices);
  std::uint64_t running = 0;
  for (const auto& p : data) {
    if (crop <= 0 || std::size_t(crop) > p.noisy.height || std::size_t(crop) > p.noisy.width)
      fail(p.source, ": --crop ", crop, " is larger than the training images (", p.noisy.height, " x ",
           p.noisy.width, ")");
    if (p.maps.size() != p.noisy.depth) fail(p.source, ": intensity maps not assigned");
    running += by_file ? 1
                       : p.noisy.depth * (p.noisy.height - std::size_t(crop) + 1) * (p.noisy.width - std::size_t(crop) + 1);
    cumulative_.push_back(running);
  }
  if (data.empty()) fail("no training data");
}

void CropSampler::sample(int batch, float* input, float* target, float* data_range) {
  const std::size_t n = std::size_t(crop_);
  for (int b = 0; b < batch; ++b) {
    const std::uint64_t pick = cumulative_.size() == 1 ? 0 : below(cumulative_.back());
    const auto file = std::size_t(std::upper_bound(cumulative_.begin(), cumulative_.end(), pick) - cumulative_.begin());
    const PairSplit& data = data_[file];
    const std::size_t depth = data.noisy.depth;
    const std::size_t z = below(depth);
    const std::size_t y0 = below(data.noisy.height - n + 1), x0 = below(data.noisy.width - n + 1);
    const auto dihedral = below(8);
    const bool flip = dihedral & 4;
    const int turns = int(dihedral & 3);
    // Source offset (within the crop) of output pixel (y, x).
    auto source = [&](std::size_t y, std::size_t x) {
      if (flip) x = n - 1 - x;
      for (int t = 0; t < turns; ++t) std::tie(y, x) = std::pair(x, n - 1 - y);
      return (y0 + y) * data.noisy.width + (x0 + x);
    };
    const float offset = float(data.maps[z].offset), scale = float(data.maps[z].scale);
    if (data_range) data_range[b] = float(data.clean_range * data.maps[z].scale);
    float* in = input + std::size_t(b) * std::size_t(slices_) * n * n;
    float* out = target + std::size_t(b) * n * n;
    for (int c = 0; c < slices_; ++c) {
      const long zc = std::clamp<long>(long(z) + c - slices_ / 2, 0, long(depth) - 1);
      const float* src = data.noisy.slice(std::size_t(zc));
      for (std::size_t y = 0; y < n; ++y)
        for (std::size_t x = 0; x < n; ++x) in[(std::size_t(c) * n + y) * n + x] = (src[source(y, x)] - offset) * scale;
    }
    const float* gt = data.clean.slice(z);
    for (std::size_t y = 0; y < n; ++y)
      for (std::size_t x = 0; x < n; ++x) out[y * n + x] = (gt[source(y, x)] - offset) * scale;
  }
}

std::string CropSampler::state() const {
  std::ostringstream os;
  os << rng_;
  return os.str();
}

void CropSampler::restore(const std::string& state) {
  std::istringstream is(state);
  is >> rng_;
  if (!is) fail("checkpoint: corrupt crop-sampler state");
}

}  // namespace sira::train
