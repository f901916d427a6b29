#include "engine/ref/int8_conv_kernels.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "core/cpu_features.hpp"

namespace sira::ref {
namespace {

std::vector<Int8ConvKernelInfo> probe() {
  std::vector<Int8ConvKernelInfo> k;
#if defined(SIRA_HAVE_AARCH64_DOTPROD)
  const bool dot = cpu_has_arm_dot_product();
  k.push_back({Int8ConvKernel::aarch64_dotprod, "aarch64-dotprod", dot,
               dot ? "" : "this CPU has no dot-product instructions (ARMv8.2 asimddp)"});
#else
  k.push_back({Int8ConvKernel::aarch64_dotprod, "aarch64-dotprod", false, "not built (aarch64 builds only)"});
#endif
  k.push_back({Int8ConvKernel::portable, "portable", true, ""});
  return k;
}

const std::vector<Int8ConvKernelInfo>& table() {
  static const std::vector<Int8ConvKernelInfo> t = probe();
  return t;
}

const Int8ConvKernelInfo& info(Int8ConvKernel k) {
  for (const auto& i : table())
    if (i.kernel == k) return i;
  throw std::logic_error("unknown int8 conv kernel");
}

std::string choices() {
  std::string s;
  for (const auto& i : table())
    s += std::string(s.empty() ? "" : ", ") + i.name + (i.available ? "" : " (" + i.why_not + ")");
  return s;
}

Int8ConvKernel from_environment() {
  const char* want = std::getenv("SIRA_INT8_CONV_KERNEL");
  if (want && *want) {
    for (const auto& i : table())
      if (want == std::string(i.name)) {
        if (!i.available) throw std::runtime_error("SIRA_INT8_CONV_KERNEL=" + std::string(want) + ": " + i.why_not);
        return i.kernel;
      }
    throw std::runtime_error("SIRA_INT8_CONV_KERNEL=" + std::string(want) + ": no such kernel (choices: " +
                             choices() + ")");
  }
  for (const auto& i : table())
    if (i.available) return i.kernel;
  return Int8ConvKernel::portable;
}

std::atomic<int> forced{-1};

}  // namespace

std::span<const Int8ConvKernelInfo> int8_conv_kernels() { return table(); }

Int8ConvKernel int8_conv_kernel() {
  const int f = forced.load(std::memory_order_relaxed);
  if (f >= 0) return Int8ConvKernel(f);
  static const Int8ConvKernel chosen = from_environment();
  return chosen;
}

const char* int8_conv_kernel_name(Int8ConvKernel k) { return info(k).name; }

void select_int8_conv_kernel(Int8ConvKernel k) {
  const auto& i = info(k);
  if (!i.available) throw std::runtime_error(std::string("int8 conv kernel ") + i.name + ": " + i.why_not);
  forced.store(int(k), std::memory_order_relaxed);
}

}  // namespace sira::ref
