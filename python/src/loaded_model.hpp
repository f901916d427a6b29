// A model as Python holds it: the library's Model, immutable once loaded (every
// denoise call builds its own engine from it, so threads can share one), and
// the file it came from.
#pragma once

#include <string>

#include "sira/model.hpp"

namespace sira::python {

struct LoadedModel {
  std::string path;
  Model model;
};

}  // namespace sira::python
