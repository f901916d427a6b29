// The parts of the _sira extension module, one concept per file; module.cpp
// puts them together.
#pragma once

#include <pybind11/pybind11.h>

namespace sira::python {

void bind_model(pybind11::module_& m);    // sira.Model, sira.load_model
void bind_denoise(pybind11::module_& m);  // sira.denoise, sira.input_copies
void bind_recon(pybind11::module_& m);    // sira.recon
void bind_metrics(pybind11::module_& m);  // sira.ssim, sira.psnr

}  // namespace sira::python
