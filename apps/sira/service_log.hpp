// The log of the long-running commands (sira serve, sira fanout): one line at a
// time on stderr, "2026-12-03T08:30:00.123Z sira serve: ...", safe from any thread.
#pragma once

#include <string>

namespace sira::cli {

void service_log(const char* program, const std::string& line);

}  // namespace sira::cli
