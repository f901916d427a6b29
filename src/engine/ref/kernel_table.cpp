#include "engine/ref/kernel_table.hpp"

#include <cstdlib>
#include <stdexcept>

namespace sira::ref {

KernelTable::KernelTable(const char* operation, const char* environment_variable,
                         std::vector<KernelVariant> variants)
    : operation_(operation), variable_(environment_variable), variants_(std::move(variants)) {
  if (variants_.empty() || !variants_.back().available)
    throw std::logic_error(std::string(operation_) + ": the last kernel must run on every CPU");
}

const KernelVariant& KernelTable::find(int id) const {
  for (const auto& v : variants_)
    if (v.id == id) return v;
  throw std::logic_error(std::string(operation_) + ": unknown kernel id " + std::to_string(id));
}

std::string KernelTable::choices() const {
  std::string s;
  for (const auto& v : variants_)
    s += std::string(s.empty() ? "" : ", ") + v.name + (v.available ? "" : " (" + v.why_not + ")");
  return s;
}

int KernelTable::from_environment() const {
  const char* want = std::getenv(variable_);
  if (want && *want) {
    for (const auto& v : variants_)
      if (want == std::string(v.name)) {
        if (!v.available) throw std::runtime_error(std::string(variable_) + "=" + want + ": " + v.why_not);
        return v.id;
      }
    throw std::runtime_error(std::string(variable_) + "=" + want + ": no such " + operation_ +
                             " kernel (choices: " + choices() + ")");
  }
  for (const auto& v : variants_)
    if (v.available) return v.id;
  return variants_.back().id;
}

int KernelTable::chosen() const {
  const int f = forced_.load(std::memory_order_relaxed);
  if (f >= 0) return f;
  // The environment is read until it gives a valid choice, then kept (a bad
  // name throws on every call; the backends ask at construction).
  int e = from_environment_.load(std::memory_order_relaxed);
  if (e < 0) from_environment_.store(e = from_environment(), std::memory_order_relaxed);
  return e;
}

void KernelTable::force(int id) {
  const auto& v = find(id);
  if (!v.available) throw std::runtime_error(std::string(operation_) + " kernel " + v.name + ": " + v.why_not);
  forced_.store(id, std::memory_order_relaxed);
}

}  // namespace sira::ref
