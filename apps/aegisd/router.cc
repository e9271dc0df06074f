#include "router.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/log.h"
#include "core/mask.h"
#include "crypto/primitives.h"
#include "media_metrics.h"

namespace aegis::aegisd {
namespace {

constexpr const char* kTag = "http";

net::HttpResponse Json(int status, std::string body) {
  net::HttpResponse res;
  res.status = status;
  res.headers["content-type"] = "application/json";
  res.body = std::move(body);
  return res;
}

// Routing errors happen before the API layer, so they keep their HTTP status,
// but their body is the API's error envelope (docs/api/README.md), like the
// listener's 400/413/431.
net::HttpResponse ErrorEnvelope(int status, const char* code, std::string message) {
  nlohmann::ordered_json body;
  body["Response"]["Error"]["Code"] = code;
  body["Response"]["Error"]["Message"] = std::move(message);
  body["Response"]["RequestId"] = crypto::Uuid4();
  net::HttpResponse res = Json(status, body.dump());
  res.headers["cache-control"] = "no-store";
  return res;
}

net::HttpResponse MethodNotAllowed(const char* allow) {
  net::HttpResponse res =
      ErrorEnvelope(405, "UnsupportedOperation",
                    std::string("The method is not allowed here; use ") + allow + ".");
  res.headers["allow"] = allow;
  return res;
}

}  // namespace

void DescribeDaemonMetrics(ops::Metrics& metrics) {
  metrics.Describe("aegis_build_info", "gauge", "Build information; always 1.");
  metrics.Describe("aegis_http_requests_total", "counter",
                   "HTTPS requests answered, by route and status code.");
  for (const MediaMetric& m : kMediaMetrics) metrics.Describe(m.name, m.type, m.help);
  metrics.Describe("aegis_signal_sessions", "gauge", "Signalling sessions (connected or joined).");
  metrics.Describe("aegis_rooms", "gauge", "Live rooms on this node.");
  metrics.Set("aegis_build_info", {{"version", AEGIS_VERSION}}, 1);
}

Router::Router(store::ControlStore& store, ops::Metrics& metrics, ApiEndpoint& api, Extras extras)
    : store_(store), metrics_(metrics), api_(api), extras_(std::move(extras)) {}

net::HttpResponse Router::Handle(const net::HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  const char* route = "other";
  net::HttpResponse res = Route(request, &route);
  metrics_.Increment("aegis_http_requests_total",
                     {{"route", route}, {"code", std::to_string(res.status)}});
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  LogDebug(kTag, "request",
           {{"method", request.method.size() <= 16 ? request.method : "?"},
            {"route", route},
            {"status", res.status},
            {"client", MaskIp(request.client_ip)},
            {"duration_us", micros}});
  return res;
}

net::HttpResponse Router::Route(const net::HttpRequest& request, const char** route_label) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/healthz") {
    *route_label = "/healthz";
    if (method != "GET") {
      return MethodNotAllowed("GET");
    }
    return Json(200, R"({"status":"ok"})");
  }
  if (path == "/readyz") {
    *route_label = "/readyz";
    if (method != "GET") {
      return MethodNotAllowed("GET");
    }
    const Status ping = store_.Ping();
    if (!ping.ok()) {
      LogWarn(kTag, "readiness check failed", {{"error", ping.ToString()}});
      return Json(503, R"({"status":"unavailable"})");
    }
    return Json(200, R"({"status":"ready"})");
  }
  if (path == "/metrics") {
    *route_label = "/metrics";
    if (method != "GET") {
      return MethodNotAllowed("GET");
    }
    net::HttpResponse res;
    res.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
    res.headers["cache-control"] = "no-store";
    if (extras_.refresh_metrics) extras_.refresh_metrics();
    res.body = metrics_.Render();
    return res;
  }
  if (path == "/") {
    *route_label = "/";
    if (method != "POST") {
      return MethodNotAllowed("POST");
    }
    return api_.Handle(request);
  }
  if (path == "/demo/usersig" && extras_.demo_usersig) {
    *route_label = "/demo/usersig";
    if (method != "GET") {
      return MethodNotAllowed("GET");
    }
    return extras_.demo_usersig(request);
  }
  if (extras_.static_files != nullptr) {
    if (auto res = extras_.static_files->Serve(request, "/sdk/", "sdk")) {
      *route_label = "/sdk/";
      return *res;
    }
    if (auto res = extras_.static_files->Serve(request, "/demo/", "demo")) {
      *route_label = "/demo/";
      return *res;
    }
  }
  *route_label = "other";
  return ErrorEnvelope(404, "ResourceNotFound.Path", "No such path.");
}

}  // namespace aegis::aegisd
