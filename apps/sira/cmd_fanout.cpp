// sira fanout: one ingest process between a detector and several `sira serve
// --worker` processes (src/serve/fanout_ingest.hpp, docs/scale.md "Live fan-out").
#include <atomic>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "core/reuse_freed_memory.hpp"
#include "service_log.hpp"
#include "stop_signals.hpp"
#include "serve/counters.hpp"
#include "serve/fanout_ingest.hpp"
#include "serve/metrics_server.hpp"
#include "sira/error.hpp"

namespace sira::cli {
namespace {

void log_line(const std::string& line) { service_log("sira fanout", line); }

struct FanoutCliOptions {
  serve::FanoutOptions fanout;
  std::string metrics_bind;
};

Runner setup_fanout(CLI::App& sub) {
  auto o = std::make_shared<FanoutCliOptions>();
  sub.add_option("--input", o->fanout.input, "Source to connect to: tcp://HOST:PORT (a detector's PUSH, port 31001)")
      ->required();
  sub.add_option("--workers", o->fanout.workers_bind,
                 "ROUTER socket to bind for the workers (tcp://*:PORT); each runs\n"
                 "sira serve -m MODEL --worker tcp://THIS_HOST:PORT")
      ->required();
  sub.add_option("--protocol", o->fanout.protocol, "stream-v2 (DECTRIS CBOR) or array-1.0 (JSON header + raw)")
      ->check(CLI::IsMember({"stream-v2", "array-1.0"}))
      ->capture_default_str();
  sub.add_option("--socket", o->fanout.socket, "pull, or sub to subscribe to an array-1.0 PUB")
      ->check(CLI::IsMember({"pull", "sub"}))
      ->capture_default_str();
  sub.add_option("--channel", o->fanout.channel, "Stream V2 channel to denoise (default: the first of each image)");
  sub.add_option("--slices", o->fanout.slices,
                 "Input slices of the workers' model (1, or 3 for a 3-slice model): each image is sent with its\n"
                 "neighbours, once they have arrived; a worker whose model takes another number is refused")
      ->check(CLI::PositiveNumber & CLI::Validator([](const std::string& v) {
        return std::stoi(v) % 2 ? std::string() : std::string("an odd number of slices (the image in the middle)");
      }, "ODD"))
      ->capture_default_str();
  sub.add_option("--queue", o->fanout.queue, "Images read and waiting for a worker's credit (then reading stops)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--window", o->fanout.window,
                 "Images read and not yet published (results wait for the earlier ones; then reading stops)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--worker-timeout", o->fanout.worker_timeout_ms,
                 "Milliseconds without a word from a worker (it sends a heartbeat every 250 ms) after which it\n"
                 "is declared dead and its unacknowledged images go to the others")
      ->check(CLI::Range(500, 600000))
      ->capture_default_str();
  sub.add_option("--push-bind", o->fanout.push_bind,
                 "Publish results in input order as array-1.0 float32 on a PUSH socket bound here");
  sub.add_option("--pub-bind", o->fanout.pub_bind, "Publish results on a PUB socket bound here, for viewers");
  sub.add_option("-o,--output", o->fanout.output,
                 "Live HDF5 file, as sira serve's (/series_<id>/data, /series_<id>/image_id); replaced if it exists");
  sub.add_flag("!--no-swmr", o->fanout.swmr, "Write the HDF5 file without SWMR");
  sub.add_option("--metrics-bind", o->metrics_bind, "Serve the counters over HTTP at HOST:PORT (/metrics, /metrics.json)");
  sub.add_option("--exit-after", o->fanout.exit_after_series,
                 "Stop after this many series have ended and their images are published (0 = until SIGINT/SIGTERM)")
      ->capture_default_str();
  sub.footer(
      "Example (docs/scale.md, \"Live fan-out\"):\n"
      "  sira fanout --input tcp://detector:31001 --workers tcp://*:31010 --push-bind tcp://*:31002 -o live.h5\n"
      "  sira serve -m model.sira --worker tcp://ingest-host:31010 --threads 1   # on each worker node, N times\n"
      "Every frame is counted: received = published + dropped + rejected (+ in flight); dispatched counts\n"
      "images sent to workers, redispatched those sent again after their worker died.");
  return [o] {
    reuse_freed_memory();  // per-frame buffers crossing threads: no page faults per image (as sira serve)
    o->fanout.description = cat("sira fanout from ", o->fanout.input, " (", o->fanout.protocol, ") to workers on ",
                                o->fanout.workers_bind);
    serve::Counters counters;
    std::unique_ptr<serve::MetricsServer> metrics;
    if (!o->metrics_bind.empty()) {
      metrics = std::make_unique<serve::MetricsServer>(o->metrics_bind, counters);
      if (!global_options().quiet)
        log_line(cat("metrics at http://", o->metrics_bind.substr(0, o->metrics_bind.rfind(':')), ":",
                     metrics->port(), "/metrics"));
    }
    install_stop_signals();
    const bool quiet = global_options().quiet;
    serve::run_fanout(o->fanout, counters, stop_requested(), abort_requested(), [quiet](const std::string& line) {
      if (!quiet || line.find("rejected") != std::string::npos || line.find("dropped") != std::string::npos ||
          line.find("dead") != std::string::npos)
        log_line(line);
    });
    metrics.reset();
    if (!quiet)
      log_line(cat("stopped: received ", counters.received.load(), ", published ", counters.published.load(),
                   ", dropped ", counters.dropped(), ", rejected ", counters.rejected(), ", dispatched ",
                   counters.dispatched.load(), ", redispatched ", counters.redispatched.load()));
    std::cout << counters.json() << std::endl;
    return 0;
  };
}

const Command fanout_command{"fanout", "Live fan-out: one ingest feeding several sira serve --worker processes",
                             setup_fanout};

}  // namespace
}  // namespace sira::cli
