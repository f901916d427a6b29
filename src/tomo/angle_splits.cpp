#include "sira/tomo/angle_splits.hpp"

#include <algorithm>

#include "sira/error.hpp"

namespace sira::tomo {

std::vector<Sinograms> split_angles(const Sinograms& s, std::size_t k) {
  const std::size_t n = s.theta.size(), w = s.data.width;
  if (k < 2) fail("angle splits: need at least 2 subsets, got ", k);
  if (n != s.data.height) fail("angle splits: ", n, " angles for sinograms with ", s.data.height, " rows");
  if (n < 2 * k) fail("angle splits: ", n, " angles cannot make ", k, " subsets of at least 2 angles");
  std::vector<Sinograms> out;
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t count = (n - j + k - 1) / k;
    Sinograms part{Stack(s.data.depth, count, w), {}, s.center};
    part.data.is_2d = s.data.is_2d;
    for (std::size_t a = j, i = 0; a < n; a += k, ++i) {
      part.theta.push_back(s.theta[a]);
      for (std::size_t d = 0; d < s.data.depth; ++d)
        std::copy_n(s.data.slice(d) + a * w, w, part.data.slice(d) + i * w);
    }
    out.push_back(std::move(part));
  }
  return out;
}

std::vector<Stack> reconstruct_splits(const Sinograms& s, std::size_t k, const FbpOptions& options) {
  std::vector<Stack> parts;
  for (const Sinograms& part : split_angles(s, k)) parts.push_back(fbp(part, options));
  return parts;
}

std::vector<SplitPair> split_pairs(const std::vector<Stack>& parts) {
  if (parts.size() < 2) fail("split pairs: need at least 2 reconstructions, got ", parts.size());
  for (const Stack& p : parts)
    if (p.depth != parts[0].depth || p.height != parts[0].height || p.width != parts[0].width)
      fail("split pairs: the reconstructions differ in shape");
  const float share = 1.0f / float(parts.size() - 1);
  std::vector<SplitPair> out;
  for (std::size_t j = 0; j < parts.size(); ++j) {
    SplitPair pair{Stack(parts[0].depth, parts[0].height, parts[0].width), parts[j]};
    pair.input.is_2d = parts[0].is_2d;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i == j) continue;
      for (std::size_t v = 0; v < pair.input.size(); ++v) pair.input.data[v] += share * parts[i].data[v];
    }
    out.push_back(std::move(pair));
  }
  return out;
}

}  // namespace sira::tomo
