#include "stop_signals.hpp"

#include <signal.h>

namespace sira::cli {
namespace {

std::atomic<bool> g_stop{false}, g_abort{false};

void on_signal(int) {
  if (g_stop.exchange(true)) g_abort = true;
}

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& stop_requested() { return g_stop; }
const std::atomic<bool>& abort_requested() { return g_abort; }

}  // namespace sira::cli
