// The _sira extension module (imported by python/sira/__init__.py).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "sira/error.hpp"

PYBIND11_MODULE(_sira, m) {
  m.doc() = "sira's C++ library on numpy arrays (docs/python.md)";
  m.attr("__version__") = SIRA_VERSION_STRING;
  // Every sira::Error (bad file, non-finite sample, impossible option) reaches
  // Python as sira.Error carrying the library's message unchanged.
  pybind11::register_exception<sira::Error>(m, "Error", PyExc_RuntimeError);
  sira::python::bind_model(m);
  sira::python::bind_denoise(m);
  sira::python::bind_recon(m);
  sira::python::bind_metrics(m);
}
