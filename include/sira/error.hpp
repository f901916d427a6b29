// Errors at the API boundary: one exception type carrying a message that says
// what went wrong, where (file, dataset, layer) and what was expected.
// Library code never calls exit/abort; the CLI turns an Error into exit code 1.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace sira {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything streamable: cat("file ", path, ": ", n, " bytes").
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(cat(parts...));
}

}  // namespace sira
