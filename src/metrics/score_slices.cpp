#include "sira/error.hpp"
#include "sira/metrics.hpp"

namespace sira {

std::vector<QualityScores> score_slices(const Stack& image, const Stack& reference,
                                        double data_range) {
  if (image.depth != reference.depth || image.height != reference.height ||
      image.width != reference.width)
    fail("metrics: image of ", image.depth, "x", image.height, "x", image.width,
         " (slices x rows x columns) does not match the reference of ", reference.depth, "x",
         reference.height, "x", reference.width);
  check_finite(image, "metrics: image");
  check_finite(reference, "metrics: reference");
  std::vector<QualityScores> scores(image.depth);
  for (std::size_t d = 0; d < image.depth; ++d) {
    scores[d].ssim = ssim(image.slice(d), reference.slice(d), image.height, image.width, data_range);
    scores[d].psnr = psnr(image.slice(d), reference.slice(d), image.slice_size(), data_range);
  }
  return scores;
}

}  // namespace sira
