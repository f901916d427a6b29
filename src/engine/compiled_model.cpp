// Compiling a model: the options and the graph checked once, the backend
// chosen from the table and its weights packed once, for every session
// (docs/library.md, docs/engine.md).
#include "sira/compiled_model.hpp"

#include <omp.h>

#include "core/thread_limit.hpp"
#include "engine/backend.hpp"
#include "engine/backend_table.hpp"
#include "sira/error.hpp"

namespace sira {
namespace {

// The table's entry called `name` (not "auto"), else an error listing the names.
const BackendEntry& backend_named(const std::string& name) {
  for (const BackendEntry& e : backend_table())
    if (e.name == name) return e;
  std::string names;
  for (const std::string& n : backend_names()) names += (names.empty() ? "" : ", ") + n;
  fail("unknown backend '", name, "' (expected ", names, ")");
}

std::shared_ptr<const PackedModel> pack(const EngineOptions& o, const Model& model, const Graph& graph,
                                        int threads) {
  const BackendRequest request{model, graph, threads, o.precision, o.observer};
  if (o.backend == "auto") {  // the first backend that can run this model at this precision
    for (const BackendEntry& e : backend_table())
      if ((e.observes || !o.observer) && e.unsupported(model, o.precision).empty()) return e.pack(request);
    fail("no backend of this build can run this model at ", precision_name(o.precision));
  }
  const BackendEntry& e = backend_named(o.backend);
  if (o.observer && !e.observes) fail("node observers need a backend that reports every node (ref)");
  return e.pack(request);  // a backend that cannot run the model says why
}

}  // namespace

void check_backend_name(const std::string& name) {
  if (name != "auto") backend_named(name);
}

int resolve_threads(int threads) {
  if (threads < 0) fail("thread count ", threads, " is negative (0 means every core)");
  return threads > 0 ? threads : omp_get_num_procs();
}

CompiledModel::CompiledModel(const Model& model, const EngineOptions& options)
    : model_(model), graph_(build_graph(model.config)), options_(options) {
  check_backend_name(options.backend);
  if (options.halo < -1) fail("tile halo ", options.halo, " is negative (-1 means the receptive radius)");
  if (options.precision == Precision::int8 && !model.quant)
    fail("precision int8 needs a quantised model (sira quantize makes one); this model is fp32");
  validate_graph(graph_, model_);  // backends trust the graph's channels and the model's tensors
  threads_ = resolve_threads(options.threads);
  // The caller's OpenMP setting is its own: the engine limits its threads for
  // each call (oneDNN sizes its kernels by the creating thread's count).
  ThreadLimit limit(threads_);
  packed_ = pack(options_, model_, graph_, threads_);
}

CompiledModel::~CompiledModel() = default;

std::string CompiledModel::backend_name() const { return packed_->name(); }
Precision CompiledModel::precision() const { return packed_->precision(); }

std::shared_ptr<const CompiledModel> compile(const Model& model, const EngineOptions& options) {
  return std::make_shared<const CompiledModel>(model, options);
}

}  // namespace sira
