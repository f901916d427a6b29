#include "train/training_data.hpp"

#include <algorithm>
#include <cmath>
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
  PairSplit p{read_3d(file, split + "_ns"), read_3d(file, split + "_gt")};
  if (p.noisy.depth != p.clean.depth || p.noisy.height != p.clean.height || p.noisy.width != p.clean.width)
    fail(file.path(), ": ", split, "_ns is ", p.noisy.depth, "x", p.noisy.height, "x", p.noisy.width, " but ",
         split, "_gt is ", p.clean.depth, "x", p.clean.height, "x", p.clean.width);
  if (p.noisy.depth == 0) fail(file.path(), ": ", split, " split has no slices");
  return p;
}

}  // namespace

PairData load_pairs(const std::string& path, bool require_test) {
  H5File file = H5File::open(path);
  PairData d;
  d.path = path;
  d.train = read_split(file, "train");
  // The test slices may have any size: validation runs on whole slices.
  if (require_test || file.has("test_ns") || file.has("test_gt")) d.test = read_split(file, "test");
  return d;
}

Normalization fit_normalization(const PairSplit& train, const std::string& what) {
  // A strided subsample of at most ~4 M values bounds the cost of the selection.
  const std::size_t total = train.noisy.size() + train.clean.size();
  const std::size_t stride = std::max<std::size_t>(1, total / (std::size_t(1) << 22));
  std::vector<float> values;
  values.reserve(total / stride + 2);
  for (const Stack* s : {&train.noisy, &train.clean})
    for (std::size_t i = 0; i < s->size(); i += stride) values.push_back(s->data[i]);
  auto at_percentile = [&](double p) {
    const auto k = static_cast<std::size_t>(std::llround(p / 100.0 * double(values.size() - 1)));
    std::nth_element(values.begin(), values.begin() + k, values.end());
    return double(values[k]);
  };
  Normalization n;
  n.mode = "fixed";
  const double low = at_percentile(n.low_percentile), high = at_percentile(n.high_percentile);
  if (!(high > low)) fail(what, ": the training data is constant (", low, "); nothing to learn");
  n.offset = low;
  n.scale = 1.0 / (high - low);
  return n;
}

void apply_normalization(Stack& s, const Normalization& norm) {
  const float offset = float(norm.offset), scale = float(norm.scale);
  for (float& v : s.data) v = (v - offset) * scale;
}

CropSampler::CropSampler(const PairSplit& data, int slices, int crop, std::uint64_t seed)
    : data_(data), slices_(slices), crop_(crop), rng_(seed) {
  if (slices != 1 && slices != 3) fail("slices must be 1 or 3, got ", slices);
  if (crop <= 0 || std::size_t(crop) > data.noisy.height || std::size_t(crop) > data.noisy.width)
    fail("crop ", crop, " does not fit the training images (", data.noisy.height, " x ", data.noisy.width, ")");
}

void CropSampler::sample(int batch, float* input, float* target) {
  const std::size_t n = std::size_t(crop_), depth = data_.noisy.depth;
  for (int b = 0; b < batch; ++b) {
    const std::size_t z = below(depth);
    const std::size_t y0 = below(data_.noisy.height - n + 1), x0 = below(data_.noisy.width - n + 1);
    const auto dihedral = below(8);
    const bool flip = dihedral & 4;
    const int turns = int(dihedral & 3);
    // Source offset (within the crop) of output pixel (y, x).
    auto source = [&](std::size_t y, std::size_t x) {
      if (flip) x = n - 1 - x;
      for (int t = 0; t < turns; ++t) std::tie(y, x) = std::pair(x, n - 1 - y);
      return (y0 + y) * data_.noisy.width + (x0 + x);
    };
    float* in = input + std::size_t(b) * slices_ * n * n;
    float* out = target + std::size_t(b) * n * n;
    for (int c = 0; c < slices_; ++c) {
      const long zc = std::clamp<long>(long(z) + c - slices_ / 2, 0, long(depth) - 1);
      const float* src = data_.noisy.slice(std::size_t(zc));
      for (std::size_t y = 0; y < n; ++y)
        for (std::size_t x = 0; x < n; ++x) in[(c * n + y) * n + x] = src[source(y, x)];
    }
    const float* gt = data_.clean.slice(z);
    for (std::size_t y = 0; y < n; ++y)
      for (std::size_t x = 0; x < n; ++x) out[y * n + x] = gt[source(y, x)];
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
