#include "serve/metrics_server.hpp"

#include <httplib.h>

#include <thread>

#include "sira/error.hpp"

namespace sira::serve {

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

MetricsServer::MetricsServer(const std::string& bind, const Counters& counters) : impl_(std::make_unique<Impl>()) {
  const std::size_t colon = bind.rfind(':');
  if (colon == std::string::npos) fail("--metrics-bind ", bind, ": HOST:PORT expected");
  const std::string host = bind.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(bind.substr(colon + 1));
  } catch (...) {
    fail("--metrics-bind ", bind, ": the port is not a number");
  }
  impl_->server.Get("/metrics", [&counters](const httplib::Request&, httplib::Response& res) {
    res.set_content(counters.prometheus(), "text/plain; version=0.0.4");
  });
  impl_->server.Get("/metrics.json", [&counters](const httplib::Request&, httplib::Response& res) {
    res.set_content(counters.json(), "application/json");
  });
  if (port == 0) {
    impl_->port = impl_->server.bind_to_any_port(host.c_str());
    if (impl_->port <= 0) fail("--metrics-bind ", bind, ": cannot bind");
  } else {
    if (!impl_->server.bind_to_port(host.c_str(), port)) fail("--metrics-bind ", bind, ": cannot bind (in use?)");
    impl_->port = port;
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsServer::port() const { return impl_->port; }

}  // namespace sira::serve
