// aegis-bench: load generator for Aegis (and Janus, for comparison). See
// --help and docs/PERFORMANCE.md. Exit codes: 0 run completed and every
// --fail-if threshold held, 1 a threshold was breached, 2 usage or setup error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "report.h"
#include "runner.h"

namespace {

using aegis::bench::ScenarioConfig;

// The soak preset runs at 70 % of a capacity in subscribers (e.g. the knee
// of a `--preset capacity` run); without --soak-capacity, the 300 of
// broadcast-1x300.
constexpr uint32_t kDefaultSoakCapacity = 300;
constexpr double kSoakLoad = 0.7;

uint32_t SoakSubscribers(uint32_t capacity) {
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(kSoakLoad * capacity)));
}

// Named presets; explicit flags given after them on the command line win
// because presets are applied first and flags only when given.
bool ApplyPreset(const std::string& name, ScenarioConfig* c) {
  c->name = name;
  if (name == "smoke") {
    c->rooms = 1, c->publishers = 1, c->subscribers = 3, c->duration_s = 4;
    c->media.video_kbps = 300, c->media.fps = 15;
  } else if (name == "meeting-10x10") {
    // Ten rooms of ten: every participant publishes; the other nine receive
    // (here: 2 publishers and 8 pure subscribers per room keeps the
    // generator's CPU inside one core; see docs/PERFORMANCE.md).
    c->rooms = 10, c->publishers = 2, c->subscribers = 8, c->duration_s = 30;
    c->media.video_kbps = 500, c->media.fps = 30;
  } else if (name == "broadcast-1x300") {
    c->rooms = 1, c->publishers = 1, c->subscribers = 300, c->duration_s = 30;
    c->media.video_kbps = 1000, c->media.fps = 30;
  } else if (name == "audio-only-50") {
    c->rooms = 1, c->publishers = 5, c->subscribers = 45, c->duration_s = 30;
    c->media.video = false;
  } else if (name == "capacity") {
    c->rooms = 1, c->publishers = 1, c->capacity = true;
    c->capacity_step = 25, c->capacity_step_s = 5, c->capacity_max = 1000;
    c->media.video_kbps = 1000, c->media.fps = 30;
  } else if (name == "soak") {
    // Ten minutes of broadcast at 70 % of a capacity (--soak-capacity), the
    // server's RSS sampled every 10 s, growth judged after the first minute.
    c->rooms = 1, c->publishers = 1, c->subscribers = SoakSubscribers(kDefaultSoakCapacity);
    c->duration_s = 600, c->rss_interval_s = 10, c->rss_warmup_s = 60;
    c->media.video_kbps = 1000, c->media.fps = 30;
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "aegis-bench: WebRTC load generator (WSS signalling with UserSig, ICE controlling, DTLS, "
      "SRTP) for Aegis, or Janus's VideoRoom with --target janus. Publishers send Opus- and "
      "VP8-shaped synthetic media carrying a send timestamp; subscribers measure loss, "
      "duplicates, one-way latency, jitter and join->first packet/keyframe.",
      "aegis-bench"};
  ScenarioConfig c;
  std::string preset, json_file, key_file;
  std::vector<std::string> fail_if;
  uint32_t soak_capacity = kDefaultSoakCapacity;
  bool no_video = false, no_audio = false, quiet = false;

  app.add_option("--preset", preset,
                 "Named scenario: smoke, meeting-10x10, broadcast-1x300, audio-only-50, capacity, "
                 "soak (1 publisher, 70 % of --soak-capacity subscribers, 600 s, server RSS every "
                 "10 s; give --server-pid). Other flags override its values");
  app.add_option("--target", c.target, "Server kind: aegis (default) or janus")
      ->check(CLI::IsMember({"aegis", "janus"}));
  app.add_option("--host", c.host, "Server IP address (numeric; default 127.0.0.1)");
  app.add_option("--port", c.port, "Aegis HTTPS/WSS port (default 8443)");
  app.add_option("--janus-port", c.janus_port, "Janus WebSocket API port (default 8188)");
  app.add_option("--sni", c.sni, "TLS server name sent and verified (default localhost)");
  app.add_option("--ca", c.ca_file, "Verify the Aegis TLS certificate against this PEM CA file");
  app.add_flag("--insecure", c.insecure,
               "Accept any TLS certificate (self-signed test servers only)");
  app.add_option("--sdkappid", c.sdkappid, "Aegis SdkAppId of the application to join");
  app.add_option("--key-file", key_file,
                 "File holding the application key (UserSigs are minted from it). The env "
                 "variable AEGIS_BENCH_APP_KEY is read when this is not given");
  app.add_option("--rooms", c.rooms, "Rooms (default 1)");
  app.add_option("--publishers", c.publishers, "Publishers per room (default 1)");
  app.add_option("--subscribers", c.subscribers, "Subscribers per room (default 2)");
  app.add_option("--room-base", c.room_base, "First numeric room id (default: derived from time)");
  app.add_option("--video-kbps", c.media.video_kbps, "Video bitrate per publisher (default 1000)");
  app.add_option("--fps", c.media.fps, "Video frames per second (default 30)");
  app.add_option("--keyframe-interval", c.media.keyframe_interval_s,
                 "Seconds between periodic keyframes (default 3; PLI/FIR also trigger one)");
  app.add_option("--audio-bytes", c.media.audio_payload_bytes,
                 "Opus-shaped payload size in bytes (default 100, 50 packets/s)");
  app.add_option("--simulcast", c.media.simulcast_layers,
                 "Video simulcast layers per publisher: 1 (off, default), 2 (rids l,h) or 3 "
                 "(rids l,m,h), each its own SSRC with MID and RID header extensions and "
                 "keyframes; top layer --video-kbps, m 1/3 and l 1/8 of it. Subscribers get "
                 "whichever layer the server forwards (JSON: simulcast.*). Janus: sent with "
                 "rid_order lmh")
      ->check(CLI::Range(1, 3));
  app.add_flag("--no-video", no_video, "Publish audio only");
  app.add_flag("--no-audio", no_audio, "Publish video only");
  app.add_option("--duration", c.duration_s, "Measurement window in seconds (default 10)");
  app.add_option("--ramp", c.ramp_per_s, "Clients started per second (default 50)");
  app.add_option("--connect-timeout", c.connect_timeout_s,
                 "Seconds to wait for every client to be connected (default 30)");
  app.add_option("--settle", c.settle_s, "Seconds between all-connected and measuring (default 1)");
  app.add_option("--drain", c.drain_s,
                 "Seconds to wait for in-flight packets after stop (default 1)");
  app.add_option("--capacity-step", c.capacity_step, "capacity: subscribers added per step");
  app.add_option("--capacity-step-seconds", c.capacity_step_s,
                 "capacity: seconds measured per step");
  app.add_option("--capacity-max", c.capacity_max, "capacity: stop at this many subscribers");
  app.add_option("--capacity-loss-pct", c.capacity_loss_pct, "capacity: loss limit (default 1 %)");
  app.add_option("--capacity-p99-ms", c.capacity_p99_ms,
                 "capacity: p99 latency limit (default 50)");
  app.add_option("--source-ips", c.source_ips,
                 "Spread signalling connections over this many loopback source addresses "
                 "127.0.1.x when the server is on 127.0.0.0/8 (default 200; 0: off)");
  app.add_option("--media-ip", c.media_ip,
                 "Local IPv4 address the media UDP sockets bind to (default 127.0.0.1)");
  app.add_option_function<std::string>(
         "--arrival", [&c](const std::string& v) { c.arrival_at_socket = v == "socket"; },
         "When a packet counts as arrived, for latency, jitter and join->first packet/frame: "
         "'socket' (default), the kernel's receive timestamp (SO_TIMESTAMPNS), i.e. what the "
         "server and the network added; 'app', when the generator's event loop read it, which "
         "adds the generator's own queueing (one loop serving hundreds of sockets)")
      ->check(CLI::IsMember({"socket", "app"}));
  app.add_option("--server-pid", c.server_pid,
                 "Server process id: CPU seconds and RSS are read from /proc/<pid> (RSS also "
                 "before the first client: idle, and every --rss-interval of the window)");
  app.add_option("--rss-interval", c.rss_interval_s,
                 "Seconds between server RSS samples during the window (default 10; 0: only at "
                 "its start and end)");
  app.add_option("--rss-warmup", c.rss_warmup_s,
                 "RSS growth (rss_growth_mib) is end minus the first sample at or after this many "
                 "seconds of the window (default 60; shorter windows: minus the window start)");
  app.add_option("--soak-capacity", soak_capacity,
                 "soak: the server's capacity in subscribers (e.g. a capacity run's knee); the "
                 "soak runs ceil(70 %) of it (default 300; --subscribers overrides)");
  app.add_option("--procs", c.procs,
                 "Generator processes (default 1), each with its own event loop, so one loop's "
                 "backlog does not delay every client; give them as many CPUs (several "
                 "processes on one shared core did not lower latency, bench/ANALYSIS.md). "
                 "Clients are dealt out round-robin (subscribers evenly, publishers spread from "
                 "process 0); this process coordinates, prints the progress line and merges the "
                 "figures (histogram buckets, not percentiles); latency needs no clock "
                 "translation (CLOCK_MONOTONIC is one clock for every process on the host). A "
                 "failing or killed process fails the run; Ctrl-C stops them all")
      ->check(CLI::Range(1u, aegis::bench::kMaxProcs));
  app.add_option("--json", json_file, "Write every figure as JSON to this file");
  app.add_option("--fail-if", fail_if,
                 "Exit 1 when METRIC>VALUE (or <, >=, <=) holds, e.g. loss_pct>0 p99_ms>50 "
                 "rss_growth_mib>8; metric names are the ones in the table ('-' may stand for "
                 "'_')")
      ->take_all();
  app.add_flag("--quiet", quiet, "No progress lines on stderr");

  // Presets first, then the explicit flags parsed again on top.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!preset.empty()) {
    ScenarioConfig base;
    if (!ApplyPreset(preset, &base)) {
      std::fprintf(stderr, "aegis-bench: unknown preset '%s'\n", preset.c_str());
      return 2;
    }
    c = base;
    try {
      app.parse(argc, argv);  // explicit flags override the preset
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : 2;
    }
  }
  if (preset == "soak" && app.count("--subscribers") == 0) {
    c.subscribers = SoakSubscribers(soak_capacity);
  }
  if (no_video) c.media.video = false;
  if (no_audio) c.media.audio = false;
  c.progress = !quiet;
  if (!c.media.audio && !c.media.video) {
    std::fprintf(stderr, "aegis-bench: --no-audio and --no-video leave nothing to send\n");
    return 2;
  }
  // Stream ids (16 bits) are the publisher's index times 4 plus the stream.
  if (static_cast<uint64_t>(c.rooms) * c.publishers > 16000) {
    std::fprintf(stderr, "aegis-bench: at most 16000 publishers in all (--rooms x --publishers)\n");
    return 2;
  }
  if (c.target == "aegis") {
    if (!key_file.empty()) {
      std::ifstream in(key_file);
      std::getline(in, c.app_key);
    } else if (const char* k = std::getenv("AEGIS_BENCH_APP_KEY")) {
      c.app_key = k;
    }
    if (c.sdkappid == 0 || c.app_key.empty()) {
      std::fprintf(stderr,
                   "aegis-bench: --sdkappid and an application key (--key-file or "
                   "AEGIS_BENCH_APP_KEY) are required for --target aegis\n");
      return 2;
    }
  }
  std::vector<aegis::bench::Threshold> thresholds;
  for (const std::string& t : fail_if) {
    auto parsed = aegis::bench::ParseThreshold(t);
    if (!parsed.ok()) {
      std::fprintf(stderr, "aegis-bench: %s\n", parsed.status().message().c_str());
      return 2;
    }
    thresholds.push_back(*parsed);
  }

  auto result = aegis::bench::RunScenario(c);
  if (!result.ok()) {
    std::fprintf(stderr, "aegis-bench: %s\n", result.status().ToString().c_str());
    return 2;
  }
  std::cout << aegis::bench::FormatTable(*result) << std::flush;
  if (!json_file.empty()) {
    std::ofstream out(json_file);
    out << result->dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "aegis-bench: cannot write %s\n", json_file.c_str());
      return 2;
    }
  }
  auto breached = aegis::bench::CheckThresholds(*result, thresholds);
  if (!breached.ok()) {
    std::fprintf(stderr, "aegis-bench: %s\n", breached.status().message().c_str());
    return 2;
  }
  for (const std::string& b : *breached) std::fprintf(stderr, "aegis-bench: FAIL %s\n", b.c_str());
  return breached->empty() ? 0 : 1;
}
