#include "daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "api/room_registry.h"
#include "api_endpoint.h"
#include "bootstrap.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "crypto/keyring.h"
#include "demo_usersig.h"
#include "media_metrics.h"
#include "net/https_server.h"
#include "net/self_signed.h"
#include "net/static_files.h"
#include "ops/metrics.h"
#include "router.h"
#include "sfu/worker.h"
#include "signal/signal_server.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace aegis::aegisd {
namespace {

// The aegisctl installed next to this aegisd, as a path the user can paste
// from the current directory ("./build/bin/aegisctl"); plain "aegisctl" when
// it is not there (installed on PATH).
std::string AegisctlCommand() {
  std::error_code ec;
  const std::filesystem::path sibling =
      std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "aegisctl";
  if (ec || !std::filesystem::exists(sibling, ec)) {
    return "aegisctl";
  }
  const std::filesystem::path rel = std::filesystem::relative(sibling, ec);
  if (ec || rel.empty() || rel.string().starts_with("..")) {
    return sibling.string();
  }
  return "./" + rel.string();
}

constexpr const char* kTag = "aegisd";

// Startup errors: one plain line for the operator plus the structured log.
int Fail(const std::string& message) {
  (void)std::fprintf(stderr, "aegisd: %s\n", message.c_str());
  (void)std::fflush(stderr);
  LogError(kTag, "startup failed", {{"error", message}});
  return 1;
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./:=@%+,") == std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Result<net::TlsFiles> ResolveTls(const Config& config, const Clock& clock) {
  if (config.tls.cert.empty() != config.tls.key.empty()) {
    return Status::Error("tls_config", "set both tls.cert and tls.key, or neither");
  }
  if (!config.tls.cert.empty()) {
    return net::TlsFiles{config.tls.cert, config.tls.key, false};
  }
  return net::EnsureSelfSignedCertificate(config.server.data_dir, clock);
}

// write(2) straight to fd 1, bypassing the stdio/iostream buffers (which
// would keep a copy of the bytes after flushing).
void WriteToStdout(std::string_view text) {
  std::cout.flush();
  while (!text.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // stdout closed: nothing more can be shown
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// Blocks until SIGTERM or SIGINT (blocked in every thread, see RunDaemon).
int WaitForStopSignal(const sigset_t& signals) {
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) {
      return sig;
    }
  }
}

}  // namespace

int RunDaemon(const DaemonFlags& flags) {
  // Stop signals are taken synchronously by the main thread; every thread
  // created later inherits the mask, so no handler runs in a random thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  (void)::signal(SIGPIPE, SIG_IGN);

  ConfigSources sources;
  sources.file = flags.config_file;
  sources.env = AegisEnvironment();
  if (!flags.data_dir.empty()) {
    sources.overrides["server.data_dir"] = flags.data_dir;
  }
  if (!flags.listen.empty()) {
    sources.overrides["server.listen"] = flags.listen;
  }
  auto loaded = LoadConfig(sources);
  if (!loaded.ok()) {
    return Fail("configuration error: " + loaded.status().ToString());
  }
  const Config config = std::move(loaded).value();
  LogLevel level = LogLevel::kInfo;
  if (!ParseLogLevel(config.log.level, &level)) {
    return Fail("configuration error: log.level must be debug, info, warn or error");
  }
  Logger::Global().SetLevel(level);

  std::string host;
  uint16_t port = 0;
  if (!net::ParseHostPort(config.server.listen, &host, &port)) {
    return Fail("configuration error: server.listen must be HOST:PORT, got '" +
                config.server.listen + "'");
  }
  if (config.server.max_body_bytes <= 0 || config.server.max_connections <= 0 ||
      config.server.max_connections_per_ip <= 0 || config.server.request_timeout_ms <= 0 ||
      config.server.shutdown_grace_ms < 0) {
    return Fail("configuration error: server limits and timeouts must be positive");
  }

  const Status dir_status = store::EnsurePrivateDir(config.server.data_dir);
  if (!dir_status.ok()) {
    return Fail(dir_status.message());
  }

  const std::string key_path = store::MasterKeyPath(config);
  auto provider = crypto::FileMasterKeyProvider::Open(key_path, /*create_if_missing=*/true);
  if (!provider.ok()) {
    if (provider.status().code() == "keyring_file_permissions") {
      return Fail("refusing to start: master key file " + key_path +
                  " is readable by group or others; run: chmod 600 " + ShellQuote(key_path));
    }
    return Fail("cannot open master key file " + key_path + ": " + provider.status().ToString());
  }
  crypto::Keyring keyring(std::move(provider).value());

  const Clock& clock = SystemClock::Instance();
  auto opened = store::ControlStore::Open(config.server.data_dir, keyring, clock);
  if (!opened.ok()) {
    return Fail("cannot open store in " + config.server.data_dir + ": " +
                opened.status().ToString());
  }
  std::unique_ptr<store::ControlStore> store = std::move(opened).value();

  std::optional<DemoCredentials> demo;
  if (config.demo.enabled) {
    auto created = BootstrapDemo(*store);
    if (!created.ok()) {
      return Fail("demo bootstrap failed: " + created.status().ToString());
    }
    demo = std::move(created).value();
    if (demo) {
      LogInfo(kTag, "demo application created", {{"sdkappid", demo->sdkappid}});
    }
  }

  auto tls = ResolveTls(config, clock);
  if (!tls.ok()) {
    return Fail("TLS setup failed: " + tls.status().ToString());
  }
  if (tls->generated) {
    LogInfo(kTag, "self-signed certificate generated", {{"cert", tls->cert_file}});
  }

  ops::Metrics& metrics = ops::Metrics::Global();
  DescribeDaemonMetrics(metrics);
  api::RoomRegistry rooms;
  std::unique_ptr<ApiEndpoint> api = MakeApiEndpoint(*store, config, clock, rooms);

  // Signalling (on the HTTPS io thread) and media workers (one thread each).
  std::unique_ptr<net::HttpsServer> server;
  signal::SignalServerOptions signal_options;
  signal_options.announced_ip = config.media.announced_ip;
  signal_options.unauthenticated_timeout_ms = config.signal.unauthenticated_timeout_ms;
  signal_options.session_timeout_ms = config.signal.session_timeout_ms;
  signal_options.max_messages_per_s = config.signal.max_messages_per_s;
  signal_options.max_message_burst = config.signal.max_message_burst;
  signal_options.max_connections_per_ip = static_cast<size_t>(config.signal.max_connections_per_ip);
  signal_options.max_users_per_room = static_cast<size_t>(config.signal.max_users_per_room);
  signal_options.usersig_clock_skew_s = config.usersig.clock_skew_s;
  signal_options.show_audience = config.room.show_audience;
  signal_options.max_room_message_bytes = static_cast<size_t>(config.room.max_message_bytes);
  signal_options.fanout_min_subscribers = static_cast<size_t>(config.media.fanout_min_subscribers);
  signal::SignalServer signalling(signal_options, *store, rooms, clock,
                                  [&server](std::function<void()> fn) {
                                    // Worker events: the server exists before any transport.
                                    if (server) server->Post(std::move(fn));
                                  });
  const size_t worker_count = config.media.workers > 0
                                  ? static_cast<size_t>(config.media.workers)
                                  : std::max<size_t>(1, std::thread::hardware_concurrency());
  if (config.media.udp_port_base + static_cast<int64_t>(worker_count) - 1 > 65535) {
    return Fail("configuration error: media.udp_port_base + media.workers exceeds 65535");
  }
  if (config.media.tcp_port_base + static_cast<int64_t>(worker_count) - 1 > 65535) {
    return Fail("configuration error: media.tcp_port_base + media.workers exceeds 65535");
  }
  std::vector<std::unique_ptr<sfu::Worker>> workers;
  std::vector<sfu::Worker*> worker_ptrs;
  for (size_t i = 0; i < worker_count; ++i) {
    sfu::WorkerOptions wo;
    wo.index = i;
    wo.listen_ip = config.media.listen_ip;
    wo.port = static_cast<uint16_t>(config.media.udp_port_base + static_cast<int64_t>(i));
    const int64_t tcp_base =
        config.media.tcp_port_base > 0 ? config.media.tcp_port_base : config.media.udp_port_base;
    wo.tcp_port = static_cast<uint16_t>(tcp_base + static_cast<int64_t>(i));
    wo.data_channels.max_message_bytes = static_cast<size_t>(config.room.max_message_bytes);
    wo.data_channels.max_messages_per_s = config.room.max_messages_per_s;
    wo.send_queue = static_cast<size_t>(config.media.send_queue);
    auto w = sfu::Worker::Start(wo, &signalling);
    if (!w.ok()) {
      return Fail("cannot start media worker " + std::to_string(i) + ": " + w.status().ToString());
    }
    worker_ptrs.push_back(w->get());
    workers.push_back(std::move(w).value());
  }
  // Fan-out across workers (docs/MEDIA.md): a ring per ordered pair of workers.
  if (worker_ptrs.size() > 1) sfu::Worker::ConnectPeers(worker_ptrs);
  signalling.SetWorkers(worker_ptrs);

  const net::StaticFiles static_files(config.web.root);
  Router::Extras extras;
  extras.static_files = &static_files;
  if (config.demo.enabled) extras.demo_usersig = MakeDemoUserSigHandler(*store);
  extras.refresh_metrics = [&metrics, &worker_ptrs, &signalling, &rooms] {
    for (const sfu::Worker* w : worker_ptrs) {
      const ops::Labels labels = {{"worker", std::to_string(w->index())}};
      const sfu::WorkerCounters& c = w->counters();
      for (const MediaMetric& m : kMediaMetrics) {
        metrics.Set(m.name, labels,
                    static_cast<double>((c.*m.counter).load(std::memory_order_relaxed)));
      }
    }
    metrics.Set("aegis_signal_sessions", {}, static_cast<double>(signalling.session_count()));
    metrics.Set("aegis_rooms", {}, static_cast<double>(rooms.room_count()));
  };
  Router router(*store, metrics, *api, std::move(extras));

  net::HttpsServerOptions options;
  options.host = host;
  options.port = port;
  options.cert_file = tls->cert_file;
  options.key_file = tls->key_file;
  options.max_body_bytes = static_cast<size_t>(config.server.max_body_bytes);
  options.max_connections = static_cast<size_t>(config.server.max_connections);
  options.max_connections_per_ip = static_cast<size_t>(config.server.max_connections_per_ip);
  options.request_timeout = std::chrono::milliseconds(config.server.request_timeout_ms);
  options.websocket_path = "/signal";
  options.websocket_handler = &signalling;
  auto started = net::HttpsServer::Start(
      options, [&router](const net::HttpRequest& request) { return router.Handle(request); });
  if (!started.ok()) {
    return Fail("cannot start HTTPS listener: " + started.status().ToString());
  }
  server = std::move(started).value();
  const std::string url = "https://" + server->address();

  if (demo) {
    std::string ctl = AegisctlCommand();
    if (!flags.config_file.empty()) {
      ctl += " --config " + ShellQuote(flags.config_file);
    }
    ctl += " --data-dir " + ShellQuote(config.server.data_dir);
    std::string block = FormatDemoBlock(*demo, url, ctl);
    WriteToStdout(block);
    // The secrets leave memory as soon as they are printed: every copy is
    // zeroed, not just freed, and none went through a stdio buffer.
    WipeString(block);
    demo->Wipe();
    demo.reset();
  }
  std::cout << "aegisd listening on " << url << std::endl;  // flushes: tests wait for it
  LogInfo(kTag, "listening", {{"address", server->address()}, {"version", AEGIS_VERSION}});

  const int sig = WaitForStopSignal(stop_signals);
  LogInfo(kTag, "stopping",
          {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
           {"grace_ms", config.server.shutdown_grace_ms}});
  server->Stop(std::chrono::milliseconds(config.server.shutdown_grace_ms));
  signalling.Shutdown();  // records every session and room as ended
  for (auto& w : workers) w->Stop();
  server.reset();
  api.reset();
  store.reset();  // closes the databases (WAL checkpoint)
  LogInfo(kTag, "stopped");
  return 0;
}

}  // namespace aegis::aegisd
