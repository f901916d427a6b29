// Argument checks shared by the metrics.
#pragma once

namespace sira::metrics_detail {

// Throws unless data_range is finite and > 0 (it divides the PSNR and sets the
// SSIM stabilisers C1, C2; a zero range would make flat regions 0/0).
void check_data_range(double data_range);

}  // namespace sira::metrics_detail
