// sira.Model and sira.load_model.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <memory>

#include "bindings.hpp"
#include "loaded_model.hpp"

namespace py = pybind11;

namespace sira::python {

void bind_model(py::module_& m) {
  py::class_<LoadedModel, std::shared_ptr<LoadedModel>>(
      m, "Model", "A sira model file, loaded and validated (sira.load_model); read-only, shareable by threads")
      .def_property_readonly("path", [](const LoadedModel& l) { return l.path; })
      .def_property_readonly("slices", [](const LoadedModel& l) { return l.model.config.slices; },
                             "Input slices: 1, or 3 (each slice seen with its neighbours)")
      .def_property_readonly("quantized", [](const LoadedModel& l) { return l.model.quant.has_value(); },
                             "True for an int8 model from sira quantize (precision='int8' allowed)")
      .def_property_readonly("quantised", [](const LoadedModel& l) { return l.model.quant.has_value(); },
                             "The same as quantized (the docs' spelling)")
      .def_property_readonly("precision", [](const LoadedModel& l) { return l.model.quant ? "int8" : "fp32"; },
                             "What the file stores: 'int8' (quantised weights and ranges) or 'fp32'")
      .def_property_readonly(
          "precisions",
          [](const LoadedModel& l) {
            return l.model.quant ? py::make_tuple("fp32", "bf16", "int8") : py::make_tuple("fp32", "bf16");
          },
          "The precision= values denoise accepts with this model")
      .def_property_readonly("trained", [](const LoadedModel& l) { return l.model.trained; },
                             "False for a randomly initialised model (sira init)")
      .def_property_readonly("upsample", [](const LoadedModel& l) { return upsample_name(l.model.config.upsample); })
      .def_property_readonly("residual", [](const LoadedModel& l) { return l.model.config.residual; })
      .def_property_readonly("info", [](const LoadedModel& l) { return l.model.info; },
                             "The model file's free-form provenance (a copy)")
      .def_property_readonly(
          "normalization",
          [](const LoadedModel& l) {
            const Normalization& n = l.model.norm;
            py::dict d;
            d["mode"] = n.mode;
            d["offset"] = n.offset;
            d["scale"] = n.scale;
            d["low_percentile"] = n.low_percentile;
            d["high_percentile"] = n.high_percentile;
            d["block"] = n.block;
            return d;
          },
          "Intensity normalisation applied before the network (docs/model-format.md)")
      .def("__repr__", [](const LoadedModel& l) {
        return "<sira.Model '" + l.path + "': " + std::to_string(l.model.config.slices) + " slice(s), " +
               (l.model.quant ? "int8" : "fp32") + (l.model.trained ? "" : ", untrained") + ">";
      });

  m.def(
      "load_model",
      [](const std::filesystem::path& file) {
        auto l = std::make_shared<LoadedModel>();
        const std::string path = file.string();
        l->path = path;
        {
          py::gil_scoped_release nogil;
          l->model = load_model(path);
        }
        return l;
      },
      py::arg("path"), "Reads and validates a .sira model file; raises sira.Error naming the file and the problem");
}

}  // namespace sira::python
