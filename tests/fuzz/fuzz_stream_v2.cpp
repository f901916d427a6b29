// Stream V2 messages (CBOR, typed-array tags, lz4/bslz4) as sira serve decodes
// each ZeroMQ message, then the samples converted to float as the worker does.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "serve/message.hpp"
#include "serve/stream_v2.hpp"
#include "serve/rejection.hpp"
#include "sira/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const sira::serve::Message m = sira::serve::decode_stream_v2(data, size);
    if (m.kind == sira::serve::MessageKind::image) {
      std::vector<float> pixels(m.height * m.width);
      sira::serve::samples_to_float(m, pixels.data());
    }
  } catch (const sira::serve::Rejection&) {  // counted and logged by the service
  } catch (const sira::Error&) {
  }
  return 0;
}
