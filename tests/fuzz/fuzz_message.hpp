// What the network-frame targets do after decoding: an image's samples are
// converted to float as the serve worker does; a decoder's refusal (Rejection,
// counted and logged by the service) or sira::Error is the expected outcome.
#pragma once

#include <vector>

#include "serve/message.hpp"
#include "serve/rejection.hpp"
#include "sira/error.hpp"

namespace sira::fuzz {

template <typename Decode>
void decode_and_convert(Decode decode) {
  try {
    const serve::Message m = decode();
    if (m.kind == serve::MessageKind::image) {
      std::vector<float> pixels(m.height * m.width);
      serve::samples_to_float(m, pixels.data());
    }
  } catch (const serve::Rejection&) {
  } catch (const Error&) {
  }
}

}  // namespace sira::fuzz
