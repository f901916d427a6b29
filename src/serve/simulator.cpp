#include "serve/simulator.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <thread>
#include <unistd.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "serve/array_v1.hpp"
#include "serve/message.hpp"
#include "serve/stream_v2.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/stack_stream.hpp"
#include "sira/tomo/dxchange.hpp"

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

bool is_data_exchange(const std::string& location) {
  const std::size_t dot = location.rfind('.');
  if (location.find(':') != std::string::npos || dot == std::string::npos) return false;
  const std::string ext = location.substr(dot);
  if (ext != ".h5" && ext != ".hdf5" && ext != ".hdf" && ext != ".nxs") return false;
  return H5File::open(location).has("/exchange/data");
}

SampleType wire_type(const StackInfo& info) {
  return info.dtype == DType::u8 ? SampleType::u8 : info.dtype == DType::u16 ? SampleType::u16 : SampleType::f32;
}

// What one replay sends, in order: a stack's slices, or a Data Exchange file's
// darks, flats and projections (each image with its user_data).
struct Part {
  std::unique_ptr<StackReader> reader;
  std::string location, image_type;
  std::vector<double> angles_deg;  // projections
};

}  // namespace

SimReport run_simulator(const SimOptions& o, const std::function<void(const std::string&)>& log) {
  const bool v2 = o.protocol == "stream-v2";
  if (!v2 && !o.compression.empty()) fail("--compression is for Stream V2 (array-1.0 carries raw samples)");
  std::vector<Part> parts;
  if (is_data_exchange(o.input)) {
    const H5File f = H5File::open(o.input);
    for (const char* name : {"data_dark", "data_white", "data"}) {
      const std::string dataset = cat("/exchange/", name);
      if (!f.has(dataset)) {
        if (std::string(name) == "data_dark") continue;
        fail(o.input, ": no ", dataset, " (a Data Exchange file needs flats to be reconstructed)");
      }
      Part p{open_stack_reader(o.input + ":" + dataset), o.input + ":" + dataset,
             std::string(name) == "data_dark" ? "dark" : std::string(name) == "data_white" ? "flat" : "projection", {}};
      if (p.image_type == "projection") {
        if (!f.has("/exchange/theta")) fail(o.input, ": no /exchange/theta (the projection angles)");
        bool degrees = false;
        const std::vector<double> theta = f.read_vector("/exchange/theta");
        tomo::angles_to_radians(theta, tomo::AngleUnit::automatic, &degrees);
        for (double t : theta) p.angles_deg.push_back(degrees ? t : t * 180.0 / std::numbers::pi);
        if (p.angles_deg.size() != p.reader->info().depth)
          fail(o.input, ": ", p.angles_deg.size(), " angles in /exchange/theta for ", p.reader->info().depth,
               " projections");
      }
      parts.push_back(std::move(p));
    }
  } else {
    parts.push_back(Part{open_stack_reader(o.input), o.input, "", {}});
  }
  const StackInfo info = parts.back().reader->info();
  std::size_t total = 0;
  for (const Part& p : parts) {
    const StackInfo i = p.reader->info();
    if (i.height != info.height || i.width != info.width)
      fail(p.location, ": images of ", i.height, "x", i.width, ", the projections are ", info.height, "x", info.width);
    total += i.depth;
  }
  SampleType type = wire_type(info);
  if (!o.dtype.empty() && !parse_sample_type(o.dtype, &type))
    fail("--dtype ", o.dtype, ": uint8, uint16, uint32 or float32");

  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, std::max(1, o.send_hwm));
  push.set(zmq::sockopt::linger, -1);  // deliver everything before exiting
  push.bind(o.bind);
  log(cat("sira stream-sim: ", total, " image(s) of ", info.height, "x", info.width, " ", sample_type_name(type),
          " from ", o.input, " as ", o.protocol, o.compression.empty() ? "" : " (" + o.compression + ")", " on ",
          o.bind, o.rate > 0 ? cat(" at ", o.rate, " images/s") : std::string(" as fast as taken")));

  // Every message as it goes on the wire: one ZeroMQ message of one or more
  // frames; images are paced by --rate, start and end are not.
  struct Outgoing {
    std::vector<std::vector<std::uint8_t>> frames;
    bool image = false;
  };
  SimReport report;
  std::chrono::steady_clock::time_point t0;
  auto send = [&](const Outgoing& m) {
    if (m.image && o.rate > 0) {
      const auto due = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(double(report.images) / o.rate));
      std::this_thread::sleep_until(due);
    }
    for (std::size_t f = 0; f < m.frames.size(); ++f)
      push.send(zmq::buffer(m.frames[f]), f + 1 < m.frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (m.image) ++report.images;
  };
  // --preload: every message is encoded before the first is sent (a benchmark's
  // detector stand-in then costs the receiver's shared cores only the sending).
  std::vector<Outgoing> preloaded;
  if (o.preload) {
    std::size_t elem = sample_size(type), bytes = total * o.series * info.height * info.width * elem;
    const std::size_t limit = std::size_t(sysconf(_SC_PHYS_PAGES)) * std::size_t(sysconf(_SC_PAGE_SIZE)) / 2;
    if (bytes > limit)
      fail("--preload: ", total * o.series, " image(s) of ", info.height, "x", info.width, " would hold ",
           bytes >> 20, " MiB, more than half of this machine's memory (", limit >> 20, " MiB); stream without it");
  }
  auto emit = [&](Outgoing m) {
    if (o.preload) preloaded.push_back(std::move(m));
    else send(m);
  };
  t0 = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < o.series; ++s) {
    const std::uint64_t series = o.series_id + s;
    const std::string unique = cat("sira-sim-", series);
    if (o.send_start && v2) emit({{encode_stream_v2_start(series, unique, info.height, info.width, total, o.channel)}});
    std::uint64_t id = o.first_id;
    for (Part& part : parts) {
      const std::size_t depth = part.reader->info().depth;
      for (std::size_t z = 0; z < depth; ++z, ++id) {
        const Stack slice = part.reader->read_slices(z, 1);
        std::vector<std::uint8_t> samples = wire_samples(slice, type, part.location, z);
        UserData user{part.image_type, part.angles_deg.empty() ? kNoAngle : part.angles_deg[z], {}};
        if (v2) {
          emit({{encode_stream_v2_image(series, unique, id, o.channel, info.height, info.width, type, samples.data(),
                                        o.compression, user)},
                true});
        } else {
          nlohmann::json extra = nlohmann::json::object();
          if (!user.image_type.empty()) extra["image_type"] = user.image_type;
          if (!part.angles_deg.empty()) extra["angle_deg"] = user.angle_deg;
          const std::string header = array_v1_header(id, info.height, info.width, type, true, series, extra.dump());
          emit({{std::vector<std::uint8_t>(header.begin(), header.end()), std::move(samples)}, true});
        }
      }
    }
    if (o.send_end) {
      if (v2) {
        emit({{encode_stream_v2_end(series, unique)}});
      } else {
        const std::string header = array_v1_end_header(true, series);
        emit({{std::vector<std::uint8_t>(header.begin(), header.end())}});
      }
    }
  }
  if (o.preload) {
    log(cat("sira stream-sim: ", preloaded.size(), " message(s) encoded, sending"));
    t0 = std::chrono::steady_clock::now();
    for (const Outgoing& m : preloaded) send(m);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  push.close();  // waits (linger -1) until a receiver has taken every message
  return report;
}

}  // namespace sira::serve
