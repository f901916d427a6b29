// sira stream-sim: replay a stack as a detector stream (src/serve/simulator.hpp).
#include <iostream>
#include <memory>

#include "command.hpp"
#include "serve/simulator.hpp"
#include "sira/error.hpp"

namespace sira::cli {
namespace {

Runner setup_stream_sim(CLI::App& sub) {
  auto o = std::make_shared<serve::SimOptions>();
  auto c = std::make_shared<std::string>("none");
  sub.add_option("-i,--input", o->input, "Stack to replay: stack.tif, stack.npy, file.h5:/exchange/data, image.png; or a Data Exchange\n"
                 "file scan.h5: its darks, flats and projections as one series, tagged for --mode projections")
      ->required();
  sub.add_option("--bind", o->bind, "PUSH socket to bind (receivers connect with PULL)")->capture_default_str();
  sub.add_option("--protocol", o->protocol, "stream-v2 (start, image, end in CBOR) or array-1.0")
      ->check(CLI::IsMember({"stream-v2", "array-1.0"}))
      ->capture_default_str();
  sub.add_option("--compression", *c, "Stream V2 image compression (DECTRIS tag 56500)")
      ->check(CLI::IsMember({"none", "lz4", "bslz4"}))
      ->capture_default_str();
  sub.add_option("--dtype", o->dtype, "Wire sample type (default: the file's; float32 stacks stay float32)")
      ->check(CLI::IsMember({"uint8", "uint16", "uint32", "float32"}));
  sub.add_option("--rate", o->rate, "Images per second (0 = as fast as the receiver takes them)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--series-id", o->series_id, "Series id of the first replay")->capture_default_str();
  sub.add_option("--first-id", o->first_id, "Image id of the first slice (64-bit)")->capture_default_str();
  sub.add_option("--series", o->series, "Replays (series ids count up from --series-id)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_flag("--preload", o->preload,
               "Encode every message before sending the first, so that the simulator costs a receiver on the same\n"
               "machine only the sending (benchmarks); the stack must fit in half of the memory");
  sub.add_flag("!--no-start", o->send_start, "Send no start message (a receiver that joined late)");
  sub.add_flag("!--no-end", o->send_end, "Send no end message");
  sub.add_option("--channel", o->channel, "Stream V2 channel name")->capture_default_str();
  sub.footer(
      "Examples (docs/serve.md):\n"
      "  sira stream-sim -i recon.h5:/exchange/data --bind tcp://*:31001 --rate 10\n"
      "  sira stream-sim -i stack.tif --compression bslz4 --rate 0 --series 3\n"
      "  sira stream-sim -i stack.npy --protocol array-1.0 --bind tcp://127.0.0.1:5560 --dtype float32\n"
      "  sira stream-sim -i scan.h5 --rate 100 --compression bslz4     # then sira serve --mode projections\n"
      "PUSH blocks while no receiver is connected or while the receiver holds back, as a detector's does;\n"
      "the command returns once every message has been taken.");
  return [o, c] {
    o->compression = *c == "none" ? "" : *c;
    const serve::SimReport r = serve::run_simulator(*o, [](const std::string& s) { status(s); });
    status(cat("sira stream-sim: sent ", r.images, " image(s) in ", r.seconds, " s (",
               r.seconds > 0 ? double(r.images) / r.seconds : 0.0, " images/s)"));
    return 0;
  };
}

const Command stream_sim_command{"stream-sim", "Replay a stack as a detector stream (Stream V2 or array-1.0)",
                                 setup_stream_sim};

}  // namespace
}  // namespace sira::cli
