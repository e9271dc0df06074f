// aegisd's HTTP routing: health and readiness probes, Prometheus metrics,
// the REST API (POST /), the static SDK and demo files (/sdk/, /demo/) and the
// demo-mode UserSig helper (/demo/usersig). (/signal is upgraded to a
// WebSocket by the listener before routing.) Counts every answer in aegis_http_requests_total
// with a bounded route label (unknown paths count as "other"). Unknown paths
// answer 404 (ResourceNotFound.Path) and wrong methods 405
// (UnsupportedOperation, with Allow), both in the API's error envelope.
// Borrows the store, metrics and API endpoint (all must outlive it). Runs on
// the HTTPS io thread; requests are untrusted.
#pragma once

#include <functional>

#include "api_endpoint.h"
#include "net/http_types.h"
#include "net/static_files.h"
#include "ops/metrics.h"
#include "store/store.h"

namespace aegis::aegisd {

class Router {
 public:
  // Optional parts; null/empty ones answer 404.
  struct Extras {
    const net::StaticFiles* static_files = nullptr;  // /sdk/, /demo/
    // GET /demo/usersig (demo mode only).
    std::function<net::HttpResponse(const net::HttpRequest&)> demo_usersig;
    // Called before /metrics is rendered (copies media counters into gauges).
    std::function<void()> refresh_metrics;
  };

  Router(store::ControlStore& store, ops::Metrics& metrics, ApiEndpoint& api, Extras extras);

  net::HttpResponse Handle(const net::HttpRequest& request);

 private:
  net::HttpResponse Route(const net::HttpRequest& request, const char** route_label);

  // Passed by argument.
  store::ControlStore& store_;
  ops::Metrics& metrics_;
  ApiEndpoint& api_;
  Extras extras_;
};

// Registers the metric families aegisd itself exports.
void DescribeDaemonMetrics(ops::Metrics& metrics);

}  // namespace aegis::aegisd
