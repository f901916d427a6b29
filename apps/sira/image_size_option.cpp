#include "image_size_option.hpp"

#include <cstdio>

#include "sira/error.hpp"

namespace sira::cli {

std::pair<std::size_t, std::size_t> parse_image_size(const std::string& option, const std::string& text) {
  unsigned long h = 0, w = 0;
  char x = 0, extra = 0;
  const int n = std::sscanf(text.c_str(), "%lu%c%lu%c", &h, &x, &w, &extra);
  if (n == 1) w = h;
  else if (n != 3 || x != 'x') fail(option, " '", text, "': expected N or HxW, e.g. 1024 or 512x768");
  if (h == 0 || w == 0 || h > 65536 || w > 65536 || text.find('-') != std::string::npos)
    fail(option, " '", text, "': height and width must be 1..65536");
  return {h, w};
}

}  // namespace sira::cli
