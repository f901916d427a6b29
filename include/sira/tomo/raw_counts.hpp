// Do projections that are about to be reconstructed as line integrals look like
// raw detector counts instead? Line integrals of real samples are small
// (transmission exp(-10) is already 4.5e-5) and rarely whole numbers; raw
// counts are >= 0, whole numbers, and in the tens to tens of thousands.
#pragma once

#include <cstddef>
#include <string>

namespace sira::tomo {

struct RawCountsCheck {
  bool looks_raw = false;  // all >= 0, all whole numbers, median >= min_median
  double min = 0, median = 0, max = 0;
  bool integers = false;
};

// `n` samples; the median is estimated from at most ~1e6 evenly spaced samples.
RawCountsCheck check_raw_counts(const float* data, std::size_t n, double min_median = 50.0);

// The warning for the user: what was seen, what to pass instead. `command` names the
// tool ("sira recon"); empty when check.looks_raw is false.
std::string raw_counts_warning(const RawCountsCheck& check, const std::string& source);

}  // namespace sira::tomo
