#include <cmath>

#include "sira/error.hpp"
#include "sira/graph.hpp"
#include "sira/model.hpp"

namespace sira {

Model scale_correction(const Model& model, double factor) {
  if (model.quant) fail("scale_correction: the model is quantised; scale its fp32 original");
  if (!model.config.residual)
    fail("scale_correction: the model has no global residual (its output is not input + correction)");
  if (!(factor >= 0 && factor <= 10)) fail("scale_correction: factor must lie in [0, 10], got ", factor);
  const Graph graph = build_graph(model.config);
  const Node& last = graph.nodes.at(std::size_t(graph.output));
  if (last.op != OpKind::conv || last.relu) fail("scale_correction: the final node is not a linear convolution");
  Model out = model;
  for (const char* part : {".weight", ".bias"})
    for (float& v : out.tensors.at(last.name + part).data) v = float(double(v) * factor);
  return out;
}

}  // namespace sira
