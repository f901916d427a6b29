// "N" (square) or "HxW" as given to an option such as --size, checked whole.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

namespace sira::cli {

// `option` names the flag in the error, e.g. "--size".
std::pair<std::size_t, std::size_t> parse_image_size(const std::string& option, const std::string& text);

}  // namespace sira::cli
