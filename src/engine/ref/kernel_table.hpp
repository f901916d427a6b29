// A run-time dispatch table for one operation's kernels (ggml's backend registry
// in small): each variant a build contains, whether this CPU runs it and why
// not, which one runs (an environment variable may force one, else the first
// available), and a way for tests to force each in turn. The int8 and fp32
// convolution tables (int8_conv_kernels.hpp, fp32_conv_kernels.hpp) are two.
#pragma once

#include <atomic>
#include <span>
#include <string>
#include <vector>

namespace sira::ref {

struct KernelVariant {
  int id;               // the operation's enum value
  const char* name;     // what the environment variable and sira bench say
  bool available;       // built in and supported by this CPU
  std::string why_not;  // when not available ("not built ..." when the build lacks it)
};

class KernelTable {
 public:
  // `variants` in order of preference; the last must be available everywhere.
  KernelTable(const char* operation, const char* environment_variable, std::vector<KernelVariant> variants);

  std::span<const KernelVariant> variants() const { return variants_; }
  // The variant that runs: forced, else the environment variable (an unknown or
  // unavailable name throws, naming the choices), else the first available.
  int chosen() const;
  const char* name(int id) const { return find(id).name; }
  // Forces a variant for this process (tests); throws if it is not available.
  void force(int id);

 private:
  const KernelVariant& find(int id) const;
  int from_environment() const;
  std::string choices() const;

  const char* operation_;
  const char* variable_;
  std::vector<KernelVariant> variants_;
  std::atomic<int> forced_{-1};
  mutable std::atomic<int> from_environment_{-1};
};

}  // namespace sira::ref
