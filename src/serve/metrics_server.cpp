#include "serve/metrics_server.hpp"

#include <httplib.h>

#include <thread>

#include "serve/live_page.hpp"
#include "sira/error.hpp"

namespace sira::serve {

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

MetricsServer::MetricsServer(const std::string& bind, const Counters& counters, const LatestView* view)
    : impl_(std::make_unique<Impl>()) {
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
  if (view) {
    impl_->server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(live_page_html(), "text/html; charset=utf-8");
    });
    impl_->server.Get("/latest.json", [view](const httplib::Request&, httplib::Response& res) {
      res.set_content(view->json(), "application/json");
    });
    for (const bool restored : {false, true})
      impl_->server.Get(restored ? "/latest/restored" : "/latest/raw",
                        [view, restored](const httplib::Request&, httplib::Response& res) {
                          std::uint64_t seq = 0;
                          const std::vector<std::uint8_t> px = view->render(restored, &seq);
                          res.set_header("X-Seq", std::to_string(seq));
                          res.set_header("Cache-Control", "no-store");
                          res.set_content(std::string(px.begin(), px.end()), "application/octet-stream");
                        });
  }
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
