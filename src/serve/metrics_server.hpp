// The metrics endpoint of sira serve (cpp-httplib), on its own thread:
//   GET /metrics       Prometheus text format
//   GET /metrics.json  the counters as one JSON object (Counters::json)
#pragma once

#include <memory>
#include <string>

#include "serve/counters.hpp"

namespace sira::serve {

class MetricsServer {
 public:
  // bind: "HOST:PORT" (port 0 = any free port; port() tells which).
  MetricsServer(const std::string& bind, const Counters& counters);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sira::serve
