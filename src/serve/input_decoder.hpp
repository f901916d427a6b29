// One message read from a detector or reconstruction stream, decoded whatever
// its wire protocol: Stream V2 (one CBOR part) or array-1.0 (JSON header +
// data). sira serve's receiver and sira fanout's ingest both read their input
// through it, so a malformed frame is refused the same way (Rejection) by both.
#pragma once

#include <string>
#include <vector>
#include <zmq.hpp>

#include "serve/message.hpp"

namespace sira::serve {

// Throws Rejection (rejection.hpp) for anything malformed.
Message decode_input(const std::vector<zmq::message_t>& frames, bool stream_v2, const std::string& channel);

}  // namespace sira::serve
