// Measured arithmetic peak of one core, per precision: the multiply-accumulate
// rate of the widest instruction this CPU has for fp32 (FMA), bf16 (VDPBF16PS)
// and int8 (VPDPBUSD, or the AVX2 vpmaddubsw + vpmaddwd + vpaddd sequence that
// int8 kernels use without VNNI). Benchmarks divide a network's MACs by it to
// get the arithmetic floor and the fraction of peak they reach.
#pragma once

#include <string>
#include <vector>

namespace sira {

struct ArithPeak {
  std::string precision;    // fp32 | bf16 | int8
  std::string instruction;  // e.g. "vfmadd231ps ymm"; why not, when unavailable
  bool available = false;
  double macs_per_second = 0;  // one core, one thread (best of the repetitions)
};

// Measures one precision on the calling thread for about `seconds` in total.
// `max_vector_bits` 256 measures, on an AVX-512 CPU, the peak of 256-bit
// instructions: what a kernel limited to x86-64-v3 (AVX2 + FMA) can reach.
// Unknown precision names throw sira::Error.
ArithPeak measure_arith_peak(const std::string& precision, double seconds = 0.15, int max_vector_bits = 512);

// The precisions measure_arith_peak knows, in display order.
const std::vector<std::string>& arith_peak_precisions();

}  // namespace sira
