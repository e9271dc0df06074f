#include "report.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>

namespace aegis::bench {
namespace {

using json = nlohmann::json;

double Get(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return 0;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : (cur->is_boolean() && cur->get<bool>() ? 1 : 0);
}

}  // namespace

std::vector<std::pair<std::string, double>> FlatFigures(const json& r) {
  return {
      {"publishers", Get(r, {"clients", "publishers"})},
      {"subscribers", Get(r, {"clients", "subscribers"})},
      {"failed_clients", Get(r, {"clients", "failed"})},
      {"connect_s", Get(r, {"clients", "connect_s"})},
      {"window_s", Get(r, {"window_s"})},
      {"p50_ms", Get(r, {"latency_ms", "p50"})},
      {"p95_ms", Get(r, {"latency_ms", "p95"})},
      {"p99_ms", Get(r, {"latency_ms", "p99"})},
      {"max_ms", Get(r, {"latency_ms", "max"})},
      {"sent", Get(r, {"packets", "sent"})},
      {"received", Get(r, {"packets", "received"})},
      {"lost", Get(r, {"packets", "lost"})},
      {"loss_pct", Get(r, {"packets", "loss_pct"})},
      {"duplicates", Get(r, {"packets", "duplicates"})},
      {"gaps", Get(r, {"packets", "gaps"})},
      {"missing_streams", Get(r, {"packets", "missing_streams"})},
      {"srtp_errors", Get(r, {"packets", "srtp_errors"})},
      {"in_pps", Get(r, {"rates", "in_pps"})},
      {"out_pps", Get(r, {"rates", "out_pps"})},
      {"out_mbps", Get(r, {"rates", "out_mbps"})},
      {"jitter_ms", Get(r, {"jitter_ms_mean"})},
      {"join_first_packet_p50_ms", Get(r, {"join_ms", "first_packet_p50"})},
      {"join_first_packet_p95_ms", Get(r, {"join_ms", "first_packet_p95"})},
      {"join_first_frame_p50_ms", Get(r, {"join_ms", "first_frame_p50"})},
      {"join_first_frame_p95_ms", Get(r, {"join_ms", "first_frame_p95"})},
      {"server_cpu_s", Get(r, {"server", "cpu_seconds"})},
      {"server_cpu_pct", Get(r, {"server", "cpu_pct"})},
      {"server_rss_mb", Get(r, {"server", "rss_bytes_end"}) / 1048576.0},
      {"server_rss_idle_mb", Get(r, {"server", "rss_bytes_idle"}) / 1048576.0},
      {"server_rss_start_mb", Get(r, {"server", "rss_bytes_start"}) / 1048576.0},
      {"server_rss_max_mb", Get(r, {"server", "rss_bytes_max"}) / 1048576.0},
      {"rss_growth_mib", Get(r, {"server", "rss_growth_bytes"}) / 1048576.0},
      {"rss_per_subscriber_kib", Get(r, {"server", "rss_bytes_per_subscriber"}) / 1024.0},
      {"out_pps_per_cpu_s", Get(r, {"server", "out_pps_per_cpu_second"})},
      {"generator_procs", Get(r, {"generator", "procs"})},
      {"generator_cpu_s", Get(r, {"generator", "cpu_seconds"})},
      {"capacity_knee", Get(r, {"capacity", "knee_subscribers"})},
  };
}

Result<Threshold> ParseThreshold(const std::string& text) {
  Threshold t;
  size_t at = text.find_first_of("<>");
  if (at == std::string::npos || at == 0) {
    return Status::Error("bench_fail_if",
                         "--fail-if '" + text + "': want METRIC>VALUE or METRIC<VALUE");
  }
  t.metric = text.substr(0, at);
  // rss-growth-mib is rss_growth_mib: the table's names use '_'.
  std::replace(t.metric.begin(), t.metric.end(), '-', '_');
  t.op = text.substr(at, 1);
  size_t value_at = at + 1;
  if (value_at < text.size() && text[value_at] == '=') {
    t.op += "=";
    ++value_at;
  }
  const std::string v = text.substr(value_at);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), t.value);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    return Status::Error("bench_fail_if", "--fail-if '" + text + "': value is not a number");
  }
  return t;
}

Result<std::vector<std::string>> CheckThresholds(const json& result,
                                                 const std::vector<Threshold>& thresholds) {
  const auto figures = FlatFigures(result);
  std::vector<std::string> breached;
  for (const Threshold& t : thresholds) {
    const auto it = std::find_if(figures.begin(), figures.end(),
                                 [&](const auto& f) { return f.first == t.metric; });
    if (it == figures.end()) {
      return Status::Error("bench_fail_if", "--fail-if: unknown metric '" + t.metric + "'");
    }
    const double v = it->second;
    const bool hit = t.op == ">"    ? v > t.value
                     : t.op == ">=" ? v >= t.value
                     : t.op == "<"  ? v < t.value
                                    : v <= t.value;
    if (hit) {
      breached.push_back(t.metric + "=" + std::to_string(v) + " (limit " + t.op +
                         std::to_string(t.value) + ")");
    }
  }
  return breached;
}

std::string FormatTable(const json& r) {
  std::ostringstream out;
  char line[160];
  out << "aegis-bench: scenario " << r.value("scenario", std::string("?")) << ", target "
      << r.value("target", std::string("?")) << "\n";
  for (const auto& [name, value] : FlatFigures(r)) {
    std::snprintf(line, sizeof(line), "  %-28s %14.3f\n", name.c_str(), value);
    out << line;
  }
  if (r.contains("srtp_profiles"))
    out << "  srtp_profiles                " << r["srtp_profiles"].dump() << "\n";
  if (r.contains("simulcast")) {
    const json& s = r["simulcast"];
    out << "  simulcast                    rids " << s.value("rids", json::array()).dump()
        << " kbps " << s.value("layer_kbps", json::array()).dump() << " subscribers by layer "
        << s.value("subscribers_per_final_layer", json::array()).dump() << "\n";
  }
  if (r.contains("clients") && !r["clients"]["errors"].empty()) {
    out << "  errors (first " << r["clients"]["errors"].size() << "):\n";
    for (const auto& e : r["clients"]["errors"]) out << "    " << e.get<std::string>() << "\n";
  }
  return out.str();
}

}  // namespace aegis::bench
