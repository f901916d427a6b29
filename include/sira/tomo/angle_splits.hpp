// Disjoint angle subsets of one scan and their reconstructions, for
// self-supervised denoising (Noise2Inverse: Hendriksen, Pelt, Batenburg, IEEE
// TCI 2020). Subset j holds the angles j, j + k, j + 2k, ... Photon noise is
// independent between projections, so the reconstructions of two subsets carry
// independent noise around the same object (up to their angular sampling).
#pragma once

#include <cstddef>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/fbp.hpp"
#include "sira/tomo/sinogram.hpp"

namespace sira::tomo {

// The k interleaved subsets (k >= 2, at least 2 angles each). Throws otherwise.
std::vector<Sinograms> split_angles(const Sinograms& s, std::size_t k);

// FBP of each subset (same centre, size and filter as `options`).
std::vector<Stack> reconstruct_splits(const Sinograms& s, std::size_t k, const FbpOptions& options);

// Noise2Inverse's "X:1" training pairs from k split reconstructions: pair j has
// as input the mean of every part but j and as target part j.
struct SplitPair {
  Stack input, target;
};
std::vector<SplitPair> split_pairs(const std::vector<Stack>& parts);

}  // namespace sira::tomo
