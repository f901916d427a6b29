// The record of a training run on disk: a CSV of every iteration's losses and
// validation metrics, and a PNG with one line plot per curve.
#pragma once

#include <string>
#include <vector>

#include "sira/train/trainer.hpp"

namespace sira::train {

// Columns: iteration,g_total,g_adversarial,g_mse,g_perceptual,d_loss,val_ssim,val_psnr,seconds
// (validation columns empty where not validated). Written atomically.
void write_log_csv(const std::string& path, const std::vector<IterationRecord>& history);

// Panels top to bottom: g_mse, g_perceptual, g_adversarial, d_loss, and, when
// validated, val_psnr and val_ssim; each labelled with its name and range.
void write_loss_plot(const std::string& path, const std::vector<IterationRecord>& history);

}  // namespace sira::train
