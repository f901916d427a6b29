// A network message sira serve refuses (bad CBOR, wrong sizes, unknown
// compression, wrong dtype, ...): thrown by the decoders, caught by the service,
// which counts it under its reason and logs it naming the message. It is never
// fatal. `reason` is one short word used as the counter's label.
#pragma once

#include <stdexcept>
#include <string>

#include "sira/error.hpp"

namespace sira::serve {

class Rejection : public std::runtime_error {
 public:
  Rejection(std::string reason, const std::string& detail)
      : std::runtime_error(detail), reason_(std::move(reason)) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// Reasons (the labels of the `rejected` counter).
inline constexpr const char* kBadEncoding = "encoding";      // not CBOR / JSON, or truncated
inline constexpr const char* kBadMessage = "message";        // a field missing or of the wrong type
inline constexpr const char* kBadSize = "size";              // sizes that do not agree
inline constexpr const char* kBadCompression = "compression";  // unknown or corrupt compressed data
inline constexpr const char* kBadDtype = "dtype";            // a sample type sira does not take

template <typename... Parts>
[[noreturn]] void reject(const char* reason, const Parts&... parts) {
  throw Rejection(reason, cat(parts...));
}

}  // namespace sira::serve
