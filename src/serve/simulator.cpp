#include "serve/simulator.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/message.hpp"
#include "serve/stream_v2.hpp"
#include "sira/error.hpp"
#include "sira/stack_stream.hpp"

namespace sira::serve {
namespace {

// One slice as little-endian wire samples of `type` (floats to integers are
// rounded; values out of the type's range are an error naming the slice).
std::vector<std::uint8_t> wire_samples(const Stack& slice, SampleType type, const std::string& what, std::size_t z) {
  const std::size_t n = slice.slice_size(), elem = sample_size(type);
  std::vector<std::uint8_t> out(n * elem);
  const double hi = type == SampleType::u8 ? 255.0 : type == SampleType::u16 ? 65535.0 : 4294967295.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = slice.data[i];
    if (type == SampleType::f32) {
      std::memcpy(&out[4 * i], &v, 4);
      continue;
    }
    const double r = std::nearbyint(double(v));
    if (!(r >= 0.0 && r <= hi))
      fail(what, ": slice ", z, " has ", v, " at row ", i / slice.width, ", column ", i % slice.width,
           ", outside ", sample_type_name(type), "; give --dtype float32 (array-1.0) or scale it first");
    const std::uint64_t u = std::uint64_t(r);
    for (std::size_t b = 0; b < elem; ++b) out[elem * i + b] = std::uint8_t(u >> (8 * b));
  }
  return out;
}

}  // namespace

SimReport run_simulator(const SimOptions& o, const std::function<void(const std::string&)>& log) {
  const bool v2 = o.protocol == "stream-v2";
  if (!v2 && !o.compression.empty()) fail("--compression is for Stream V2 (array-1.0 carries raw samples)");
  std::unique_ptr<StackReader> reader = open_stack_reader(o.input);
  const StackInfo info = reader->info();
  SampleType type = info.dtype == DType::u8 ? SampleType::u8 : info.dtype == DType::u16 ? SampleType::u16 : SampleType::f32;
  if (!o.dtype.empty() && !parse_sample_type(o.dtype, &type))
    fail("--dtype ", o.dtype, ": uint8, uint16, uint32 or float32");

  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, std::max(1, o.send_hwm));
  push.set(zmq::sockopt::linger, -1);  // deliver everything before exiting
  push.bind(o.bind);
  log(cat("sira stream-sim: ", info.depth, " image(s) of ", info.height, "x", info.width, " ", sample_type_name(type),
          " from ", o.input, " as ", o.protocol, o.compression.empty() ? "" : " (" + o.compression + ")", " on ",
          o.bind, o.rate > 0 ? cat(" at ", o.rate, " images/s") : std::string(" as fast as taken")));

  auto send = [&](const std::vector<std::uint8_t>& bytes) { push.send(zmq::buffer(bytes), zmq::send_flags::none); };
  SimReport report;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < o.series; ++s) {
    const std::uint64_t series = o.series_id + s;
    const std::string unique = cat("sira-sim-", series);
    if (o.send_start && v2)
      send(encode_stream_v2_start(series, unique, info.height, info.width, info.depth, o.channel));
    for (std::size_t z = 0; z < info.depth; ++z) {
      if (o.rate > 0) {
        const auto due = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(double(report.images) / o.rate));
        std::this_thread::sleep_until(due);
      }
      const Stack slice = reader->read_slices(z, 1);
      const std::vector<std::uint8_t> samples = wire_samples(slice, type, o.input, z);
      const std::uint64_t id = o.first_id + z;
      if (v2) {
        send(encode_stream_v2_image(series, unique, id, o.channel, info.height, info.width, type, samples.data(),
                                    o.compression));
      } else {
        const std::string header = array_v1_header(id, info.height, info.width, type, true, series);
        std::array<zmq::const_buffer, 2> parts{zmq::buffer(header), zmq::buffer(samples)};
        zmq::send_multipart(push, parts);
      }
      ++report.images;
    }
    if (o.send_end) {
      if (v2) {
        send(encode_stream_v2_end(series, unique));
      } else {
        const std::string header = array_v1_end_header(true, series);
        push.send(zmq::buffer(header), zmq::send_flags::none);
      }
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  push.close();  // waits (linger -1) until a receiver has taken every message
  return report;
}

}  // namespace sira::serve
