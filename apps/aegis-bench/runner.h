// Runner: one aegis-bench run. Owns the io_context (single thread), the
// clients, the pacing timers and the run's metrics; ramps clients up at the
// configured rate, waits for every client to be ready, measures for the
// configured duration (or, in capacity mode, adds subscribers step by step
// until loss or p99 latency crosses its limit), stops the publishers, drains,
// and returns every figure as JSON (see BuildResult / docs/PERFORMANCE.md).
// Not thread-safe; Run() blocks the calling thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "media_publisher.h"

namespace aegis::bench {

struct ScenarioConfig {
  std::string name = "custom";
  std::string target = "aegis";  // "aegis" or "janus"
  std::string host = "127.0.0.1";
  uint16_t port = 8443;
  std::string sni = "localhost";
  bool insecure = false;
  std::string ca_file;
  uint32_t sdkappid = 0;
  std::string app_key;  // secret
  // Janus: its WebSocket API port and the VideoRoom admin nothing else.
  uint16_t janus_port = 8188;

  uint32_t rooms = 1;
  uint32_t publishers = 1;   // per room
  uint32_t subscribers = 2;  // per room
  uint32_t room_base = 0;    // 0: derived from the clock
  MediaConfig media;
  double duration_s = 10;
  double ramp_per_s = 50;
  double connect_timeout_s = 30;
  double settle_s = 1;
  double drain_s = 1;

  bool capacity = false;
  uint32_t capacity_step = 10;
  double capacity_step_s = 5;
  uint32_t capacity_max = 1000;
  double capacity_loss_pct = 1.0;
  double capacity_p99_ms = 50.0;

  // Signalling connections are spread over this many loopback source
  // addresses (127.0.1.1, 127.0.1.2, ...) when the server is on 127.0.0.0/8,
  // so per-address connection caps see what distinct hosts would produce.
  // 0: one address (the kernel's choice).
  uint32_t source_ips = 200;
  // Local address the media (UDP) sockets bind to.
  std::string media_ip = "127.0.0.1";

  int server_pid = 0;
  bool progress = true;
};

// Runs the scenario; the JSON result has every figure (also on failure, with
// "error"). Error only for a setup problem (bad CA file, no certificate).
Result<nlohmann::json> RunScenario(const ScenarioConfig& config);

}  // namespace aegis::bench
