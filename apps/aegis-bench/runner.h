// Runner: one aegis-bench run. The clients live in one or more generator
// processes (Shard, --procs), each with its own single-threaded event loop;
// a Controller ramps them up, waits for every client to be ready, measures
// for the configured duration (or, in capacity mode, adds subscribers step by
// step until loss or p99 latency crosses its limit), stops the publishers,
// drains, and the shards' raw figures are merged into one JSON result (see
// BuildResult / docs/PERFORMANCE.md). With --procs > 1 this process forks
// the generator processes and only coordinates (process_fleet.h). Not
// thread-safe; RunScenario() blocks the calling thread.
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
  // A packet's arrival (latency, jitter, join -> first packet/frame): when
  // the kernel queued it on the subscriber's socket (SO_TIMESTAMPNS), or
  // when the generator's event loop got round to it ("app": adds the
  // generator's own queueing).
  bool arrival_at_socket = true;

  int server_pid = 0;
  // Server RSS is sampled every rss_interval_s of the measurement window;
  // growth is judged after rss_warmup_s (the soak preset's figures).
  double rss_interval_s = 10;
  double rss_warmup_s = 60;
  bool progress = true;

  // Generator processes: the clients are dealt out round-robin by their
  // global index (publishers first, then subscribers), so subscribers are
  // split evenly and publishers spread too; 1: everything in this process.
  uint32_t procs = 1;
  // Shared by every generator process (set by RunScenario when empty): the
  // tag in user ids, so runs and processes never collide.
  std::string run_tag;
};

inline constexpr uint32_t kMaxProcs = 64;

// Runs the scenario; the JSON result has every figure (also on failure, with
// "error"). Error only for a setup problem (bad CA file, no certificate).
Result<nlohmann::json> RunScenario(const ScenarioConfig& config);

}  // namespace aegis::bench
