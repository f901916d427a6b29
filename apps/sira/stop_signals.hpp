// SIGINT/SIGTERM for the long-running commands (sira serve, sira fanout): the
// first signal asks them to stop (drain the queues, close the file), a second
// one to give up on outputs that block.
#pragma once

#include <atomic>

namespace sira::cli {

void install_stop_signals();
const std::atomic<bool>& stop_requested();  // a first signal arrived
const std::atomic<bool>& abort_requested();  // a second signal arrived

}  // namespace sira::cli
