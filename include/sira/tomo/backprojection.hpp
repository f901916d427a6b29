// The back-projection of FBP as an accumulation that can be fed projections in
// several calls: fbp() feeds it every projection at once, sira serve --mode
// projections one projection at a time as they arrive. Each pixel sums, in
// float, the linearly interpolated filtered projections in the order the
// angles were added (whatever the grouping into calls), and finish() scales
// the sums by the angular weight, so feeding the same projections in the same
// order gives the same slices bit for bit however they were grouped.
#pragma once

#include <cstddef>
#include <vector>

#include "sira/stack.hpp"
#include "sira/tomo/fbp.hpp"

namespace sira::tomo {

class BackprojectionAccumulator {
 public:
  // `depth` slices of size x size from a detector of `width` columns whose
  // rotation axis is column `center` (< 0 = (width - 1) / 2). Throws sira::Error
  // if the centre is outside the detector or a size exceeds the limits.
  BackprojectionAccumulator(std::size_t depth, std::size_t width, std::size_t size, double center);

  // Filters (filter f, scale 1) and accumulates `angles` projections of every
  // slice: line integrals at p + (z * angles + a) * width, angle theta[a] (radians).
  // Throws on a non-finite angle or sample.
  void add(const float* p, const std::vector<double>& theta, Filter f);
  // The same without filtering (the projections are already filtered).
  void add_filtered(const float* p, const std::vector<double>& theta);

  // The slices: the sums times `weight` (fbp's angular_weight of all the angles
  // added), pixels outside the reconstruction circle 0 if circle_mask.
  Stack finish(double weight, bool circle_mask) const;
  // The same for slice z alone, into out (size x size floats): what finish() gives as slice z.
  void finish_slice(std::size_t z, double weight, bool circle_mask, float* out) const;
  std::size_t size() const { return size_; }

  std::size_t angles() const { return angles_; }
  std::size_t depth() const { return depth_; }

 private:
  void accumulate(const std::vector<float>& padded, const std::vector<double>& theta);

  std::size_t depth_, width_, size_;
  double center_;
  std::size_t offset_ = 0, stride_ = 0;  // padded projection rows: offset zeros, width samples, zeros
  std::vector<float> sums_;              // depth x size x size
  std::size_t angles_ = 0;
};

// FBP's weight of one projection: the angular range it stands for, min(arc, pi) / n
// (pi / n for a 180- or 360-degree scan).
double angular_weight(const std::vector<double>& theta);

}  // namespace sira::tomo
