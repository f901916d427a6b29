// sira serve: the live service (src/serve/service.hpp, docs/serve.md).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "core/reuse_freed_memory.hpp"
#include "service_log.hpp"
#include "stop_signals.hpp"
#include "image_size_option.hpp"
#include "precision_option.hpp"
#include "serve/counters.hpp"
#include "serve/fanout_worker.hpp"
#include "serve/metrics_server.hpp"
#include "serve/service.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/model.hpp"
#include "sira/tomo/dxchange.hpp"
#include "sira/tomo/fbp.hpp"

namespace sira::cli {
namespace {

struct ServeCliOptions {
  std::string model, angles, filter = "ramp";
  std::vector<std::string> warm_up;
  EngineOptions engine;
  serve::ServeOptions serve;
  std::string metrics_bind;
  serve::WorkerOptions worker;  // --worker: a worker of sira fanout
};

void log_line(const std::string& line) { service_log("sira serve", line); }

// --worker: serve sira fanout's images until stopped; the counters as JSON on stdout.
int run_worker(ServeCliOptions& o, Engine& engine) {
  o.worker.warm_up = o.serve.warm_up;
  o.worker.exit_after_series = o.serve.exit_after_series;
  o.worker.model = o.model;
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  o.worker.name = cat(host, ":", getpid());
  serve::Counters counters;
  std::unique_ptr<serve::MetricsServer> metrics;
  if (!o.metrics_bind.empty()) metrics = std::make_unique<serve::MetricsServer>(o.metrics_bind, counters);
  install_stop_signals();
  if (!global_options().quiet)
    log_line(cat("worker of ", o.worker.ingest, " with ", o.model, " on ", engine.backend_name(), " ",
                 precision_name(engine.precision()), ", ", engine.threads(), " threads, credit ", o.worker.credit));
  const bool quiet = global_options().quiet;
  serve::run_worker(engine, o.worker, counters, stop_requested(), [quiet](const std::string& line) {
    if (!quiet || line.find("rejected") != std::string::npos || line.find("dropped") != std::string::npos)
      log_line(line);
  });
  metrics.reset();
  std::cout << counters.json() << std::endl;
  return 0;
}

Runner setup_serve(CLI::App& sub) {
  auto o = std::make_shared<ServeCliOptions>();
  sub.add_option("--mode", o->serve.mode,
                 "slices: denoise each incoming (reconstructed) slice; projections: dark/flat-correct and -log\n"
                 "incoming projections, reconstruct --rows with FBP once they span 180 degrees, denoise them")
      ->check(CLI::IsMember({"slices", "projections"}))
      ->capture_default_str();
  sub.add_option("--rows", o->serve.projection.rows,
                 "projections: detector rows to reconstruct (5, 0-9, 100-200:10, a,b,...; as sira recon)")
      ->capture_default_str();
  sub.add_option("--center", o->serve.projection.center,
                 "projections: rotation axis in detector columns (default: the detector middle)");
  sub.add_option("--update-every", o->serve.projection.update_every,
                 "projections: after the first full reconstruction, a rolling update every K projections over\n"
                 "the newest that span 180 degrees (0 = only the first, and one at the series' end if more came)")
      ->capture_default_str();
  sub.add_option("--angles", o->angles,
                 "projections: START:STOP:COUNT in degrees (STOP excluded) giving projection i its angle when the\n"
                 "stream carries none (user_data angle_deg of an image, angles_deg of the start)");
  sub.add_option("--filter", o->filter, "projections: FBP filter ramp, shepp-logan, cosine or hann")
      ->check(CLI::IsMember({"ramp", "shepp-logan", "cosine", "hann"}))
      ->capture_default_str();
  sub.add_flag("!--no-mask", o->serve.projection.circle_mask,
               "projections: keep the pixels outside the reconstruction circle");
  sub.add_option("-m,--model", o->model, "Model file (.sira); a 3-slice model sees each image with its neighbours")
      ->required();
  auto* input = sub.add_option("--input", o->serve.input,
                               "Source to connect to: tcp://HOST:PORT (a detector's PUSH, port 31001)");
  auto* worker = sub.add_option("--worker", o->worker.ingest,
                                "Be a worker of sira fanout at tcp://HOST:PORT (its --workers) instead of reading a\n"
                                "stream: denoise the images it sends (slice mode; a model of N slices needs sira fanout --slices N; docs/scale.md)");
  input->excludes(worker);
  sub.add_option("--credit", o->worker.credit,
                 "--worker: images it asks for ahead (one denoised while the next arrives)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--protocol", o->serve.protocol, "stream-v2 (DECTRIS CBOR) or array-1.0 (JSON header + raw)")
      ->check(CLI::IsMember({"stream-v2", "array-1.0"}))
      ->capture_default_str();
  sub.add_option("--socket", o->serve.socket, "pull, or sub to subscribe to an array-1.0 PUB")
      ->check(CLI::IsMember({"pull", "sub"}))
      ->capture_default_str();
  sub.add_option("--channel", o->serve.channel, "Stream V2 channel to denoise (default: the first of each image)");
  sub.add_option("--lane", o->serve.lane,
                 "no-loss: bounded queue, the sender is held back when it is full; preview: the newest image "
                 "wins, older waiting images are dropped (counted)")
      ->check(CLI::IsMember({"no-loss", "preview"}))
      ->capture_default_str();
  sub.add_option("--queue", o->serve.queue, "no-loss lane: images held between receiving and denoising")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--push-bind", o->serve.push_bind, "Publish results as array-1.0 float32 on a PUSH socket bound here "
                                                   "(tcp://*:PORT), for a consumer that needs every image");
  sub.add_option("--pub-bind", o->serve.pub_bind, "Publish results as array-1.0 float32 on a PUB socket bound here, for viewers");
  sub.add_option("-o,--output", o->serve.output,
                 "Live HDF5 file: /series_<id>/data (n, h, w) float32 and /series_<id>/image_id, flushed after "
                 "every image (valid if the service is killed); replaced if it exists");
  sub.add_flag("!--no-swmr", o->serve.swmr,
               "Write the HDF5 file without SWMR (then readers must wait for the service to stop)");
  sub.add_option("--metrics-bind", o->metrics_bind,
                 "Serve HTTP at HOST:PORT: the live page / (latest raw and restored slice on one scale, counters,\n"
                 "latency), /metrics (Prometheus), /metrics.json");
  sub.add_option("--exit-after", o->serve.exit_after_series, "Stop after this many series have ended (0 = run until "
                                                             "SIGINT/SIGTERM)")
      ->capture_default_str();
  add_precision_option(sub, o->engine.precision, "fp32, bf16 or int8 (an int8 model from sira quantize)");
  sub.add_option("--threads", o->engine.threads, "Engine threads (0 = every core)")->capture_default_str();
  sub.add_option("--tile", o->engine.tile, "Tile edge in pixels (0 = whole image), as sira denoise")->capture_default_str();
  sub.add_option("--warm-up", o->warm_up,
                 "Image size N or HxW (repeatable) to run the engine on once before connecting, so that the first\n"
                 "images do not pay for its set-up (several times one image's time); a Stream V2 start message\n"
                 "warms up for its own size anyway, ahead of its images");
  sub.add_option("--backend", o->engine.backend, "auto, ref or onednn")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  sub.footer(
      "Examples (docs/serve.md):\n"
      "  sira stream-sim -i recon.h5:/exchange/data --bind tcp://*:31001 --rate 5 --compression bslz4 &\n"
      "  sira serve -m models/tomogan-1slice.sira --input tcp://localhost:31001 --push-bind tcp://*:31002 \\\n"
      "      -o live.h5 --metrics-bind 127.0.0.1:8080\n"
      "  sira serve -m model-int8.sira --precision int8 --threads 2 --input tcp://detector:31001 \\\n"
      "      --lane preview --pub-bind tcp://*:31003\n"
      "  sira serve -m model.sira --protocol array-1.0 --socket sub --input tcp://recon:5560 --pub-bind tcp://*:5561\n"
      "  sira stream-sim -i scan.h5 --bind tcp://*:31001 --rate 100 &   # a Data Exchange file: darks, flats, projections\n"
      "  sira serve -m model.sira --worker tcp://ingest:31010 --threads 1   # a worker of sira fanout\n"
      "  sira serve -m model.sira --mode projections --rows 500-507 --update-every 90 --input tcp://localhost:31001 \\\n"
      "      --push-bind tcp://*:31002 -o live.h5\n"
      "Every message is counted: received = published + dropped + rejected (+ in flight); the final counters\n"
      "are printed as JSON on stdout when the service stops (SIGINT/SIGTERM drain the queues and close the file;\n"
      "a second signal gives up on outputs that block).");
  return [o] {
    use_threads(o->engine.threads);
    reuse_freed_memory();  // per-frame buffers: no page faults per image
    for (const std::string& size : o->warm_up) {
      const auto [h, w] = parse_image_size("--warm-up", size);
      o->serve.warm_up.push_back({h, w});
    }
    if (!o->angles.empty()) {
      o->serve.projection.angles = tomo::parse_angle_range(o->angles);
      if (o->serve.projection.angles->count == 0) fail("--angles ", o->angles, ": give START:STOP:COUNT");
    }
    o->serve.projection.filter = tomo::parse_filter(o->filter);
    if (!o->worker.ingest.empty() && o->serve.mode != "slices")
      fail("sira serve --worker: only --mode slices is fanned out (a reconstruction needs every projection)");
    const Model model = load_model(o->model);
    if (!model.trained)
      log_line(cat("warning: ", o->model, " is an UNTRAINED model (random weights from sira init)"));
    Engine engine(model, o->engine);
    if (!o->worker.ingest.empty()) return run_worker(*o, engine);
    if (o->serve.input.empty()) fail("give --input (a stream to read) or --worker (a sira fanout to work for)");
    o->serve.description = cat("sira serve ", o->model, " ", precision_name(engine.precision()), " from ", o->serve.input, " (",
                               o->serve.protocol, ")");
    serve::Counters counters;
    serve::LatestView view;  // before the server that reads it (destroyed after it)
    std::unique_ptr<serve::MetricsServer> metrics;
    if (!o->metrics_bind.empty()) {
      metrics = std::make_unique<serve::MetricsServer>(o->metrics_bind, counters, &view);
      o->serve.view = &view;
    }

    install_stop_signals();
    if (!global_options().quiet)
      log_line(cat("serving ", o->serve.input, " (", o->serve.protocol, ", ", o->serve.lane, " lane, ", o->serve.mode,
                 " mode) with ", o->model,
                 " on ", engine.backend_name(), " ", precision_name(engine.precision()), ", ", engine.threads(), " threads",
                 o->serve.push_bind.empty() ? "" : "; PUSH " + o->serve.push_bind,
                 o->serve.pub_bind.empty() ? "" : "; PUB " + o->serve.pub_bind,
                 o->serve.output.empty() ? "" : "; HDF5 " + o->serve.output,
                 metrics ? cat("; live page http://", o->metrics_bind.substr(0, o->metrics_bind.rfind(':')), ":",
                               metrics->port(), "/ (metrics at /metrics)")
                         : std::string()));
    // --quiet keeps the lines that report a frame not served (rejected, dropped) and failures.
    const bool quiet = global_options().quiet;
    serve::run_service(engine, o->serve, counters, stop_requested(), abort_requested(), [quiet](const std::string& line) {
      if (!quiet || line.find("rejected") != std::string::npos || line.find("dropped") != std::string::npos)
        log_line(line);
    });
    metrics.reset();
    if (!global_options().quiet)
      log_line(cat("stopped: received ", counters.received.load(), ", published ", counters.published.load(),
                 ", dropped ", counters.dropped(), ", rejected ", counters.rejected()));
    std::cout << counters.json() << std::endl;
    return 0;
  };
}

const Command serve_command{"serve", "Live service: denoise images from a detector stream (Stream V2, array-1.0)",
                            setup_serve};

}  // namespace
}  // namespace sira::cli
