// Setting up quantisation-aware training (sira train --qat): the calibration
// set drawn from the training pairs, the quantiser options, the checkpoint
// signature and the fixed activation parameters as checkpoint text.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sira/quant_params.hpp"
#include "sira/quantize.hpp"
#include "sira/train/trainer.hpp"
#include "train/training_data.hpp"

namespace sira::train {

// The middle `slices_per_file` noisy training slices of every pair file (a
// contiguous block, so a 3-slice model sees true neighbours), in the file's own
// units: calibrate() normalises them as sira denoise would.
std::vector<CalibrationImages> qat_calibration_images(const std::vector<PairSplit>& train, int slices_per_file);

// The options sira quantize would use for the same recipe.
QuantizeOptions qat_quantize_options(const QatOptions& qat, int threads);

// Appended to a --qat run's checkpoint signature: the recipe that fixed the
// activation parameters (a plain run's checkpoint does not fit a --qat run).
std::string qat_signature(const QatOptions& qat);

// Activation parameters as text (scales as hexadecimal floats: exact) and back.
std::string activations_text(const std::map<std::string, ActivationParams>& activations);
std::map<std::string, ActivationParams> parse_activations(const std::string& text, const std::string& source);

}  // namespace sira::train
