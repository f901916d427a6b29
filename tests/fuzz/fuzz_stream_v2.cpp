// Stream V2 messages (CBOR, typed-array tags, lz4/bslz4) as sira serve decodes
// each ZeroMQ message (fuzz_message.hpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_message.hpp"
#include "serve/stream_v2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sira::fuzz::decode_and_convert([&] { return sira::serve::decode_stream_v2(data, size); });
  return 0;
}
