// Rate limit for the log lines of dropped images: a service under overload drops
// thousands, and one line each would bury everything else.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace sira::serve {

// Logs the first 10 drops of a reason, then every 1000th.
class DropLog {
 public:
  bool should(const std::string& reason) {
    const std::uint64_t n = ++seen_[reason];
    return n <= 10 || n % 1000 == 0;
  }

 private:
  std::map<std::string, std::uint64_t> seen_;
};

}  // namespace sira::serve
