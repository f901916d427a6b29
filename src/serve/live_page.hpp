// The live page sira serve's HTTP endpoint serves at "/" (docs/serve.md,
// "Live page"): the latest raw and restored slice side by side, drawn 1:1 on
// canvases from /latest/raw and /latest/restored (uint8 on one common scale,
// latest_view.hpp), the counters and the latency, refreshed twice a second.
// Plain HTML and JavaScript, no external resources (beamline networks are
// often offline).
#pragma once

namespace sira::serve {

const char* live_page_html();

}  // namespace sira::serve
