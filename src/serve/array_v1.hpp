// array-1.0 (PSI's std-daq, RECASTX): a two-part ZeroMQ message, a JSON header
//   {"htype": "array-1.0", "shape": [height, width], "type": "uint16", "frame": N}
// and the raw row-major little-endian samples (uint8, uint16, uint32, float32).
// sira reads an optional "series_id" (a new value starts a new series) and
// "end": true on a header-only message ends the series (sira stream-sim sends
// one); "image_type" (dark, flat, projection) and "angle_deg" describe a
// projection (--mode projections); sira serve's results add "series_id", "source" and "latency_ms".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/message.hpp"

namespace sira::serve {

// parts: the message's frames (header first). Throws Rejection.
Message decode_array_v1(const std::vector<std::string>& parts);

// The header of an image (JSON text); `extra` is a JSON object merged in ("{}" for none).
std::string array_v1_header(std::uint64_t frame, std::size_t height, std::size_t width, SampleType type,
                            bool has_series, std::uint64_t series_id, const std::string& extra = "{}");
std::string array_v1_end_header(bool has_series, std::uint64_t series_id);

}  // namespace sira::serve
