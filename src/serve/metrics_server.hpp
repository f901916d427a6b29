// The metrics endpoint of sira serve (cpp-httplib), on its own thread:
//   GET /metrics       Prometheus text format
//   GET /metrics.json  the counters as one JSON object (Counters::json)
// and, given a LatestView, the live page:
//   GET /              live_page.hpp
//   GET /latest.json   the latest slice's ids, size, scale and latency
//   GET /latest/raw, /latest/restored   height x width uint8 (header X-Seq)
#pragma once

#include <memory>
#include <string>

#include "serve/counters.hpp"
#include "serve/latest_view.hpp"

namespace sira::serve {

class MetricsServer {
 public:
  // bind: "HOST:PORT" (port 0 = any free port; port() tells which).
  MetricsServer(const std::string& bind, const Counters& counters, const LatestView* view = nullptr);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sira::serve
