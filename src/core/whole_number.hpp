// Numbers from option values and metadata, read whole: "1.5" is 1.5, while
// "1.5x", "", " 2", "0x10", "inf" and "nan" are not numbers. Callers say in their
// own error what they expected (the option, the accepted range).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sira {

// A finite decimal number (sign, fraction and exponent allowed).
std::optional<double> whole_double(std::string_view text);

// A non-negative integer in decimal digits.
std::optional<std::size_t> whole_count(std::string_view text);

}  // namespace sira
