#include "runner.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "bench_client.h"
#include "crypto/primitives.h"
#include "janus_client.h"
#include "media.h"
#include "server_probe.h"

namespace aegis::bench {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

constexpr auto kPacerInterval = std::chrono::milliseconds(5);
constexpr uint32_t kSlowEvery = 20;  // 20 x 5 ms = 100 ms

enum class Phase { kConnecting, kSettling, kMeasuring, kDraining, kDone };

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kConnecting:
      return "connecting";
    case Phase::kSettling:
      return "settling";
    case Phase::kMeasuring:
      return "measuring";
    case Phase::kDraining:
      return "draining";
    case Phase::kDone:
      return "done";
  }
  return "?";
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

class Run {
 public:
  explicit Run(const ScenarioConfig& c) : config_(c), tls_(asio::ssl::context::tls_client) {}

  Status Setup() {
    if (config_.target == "aegis") {
      tls_.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      if (config_.insecure) {
        tls_.set_verify_mode(asio::ssl::verify_none);
      } else {
        boost::system::error_code ec;
        if (config_.ca_file.empty()) {
          tls_.set_default_verify_paths(ec);
        } else {
          tls_.load_verify_file(config_.ca_file, ec);
        }
        if (ec) return Status::Error("bench_tls", "cannot load CA: " + ec.message());
        tls_.set_verify_mode(asio::ssl::verify_peer);
      }
    }
    auto cert = rtc::DtlsCertificate::Generate();
    if (!cert.ok()) return cert.status();
    certificate_ = std::move(cert).value();
    env_.io = &io_;
    env_.certificate = certificate_.get();
    env_.metrics = &metrics_;
    env_.media_ip = config_.media_ip;
    std::array<uint8_t, 3> tag{};
    crypto::RandomBytes(tag);
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%02x%02x%02x", tag[0], tag[1], tag[2]);
    run_tag_ = buf;
    room_base_ = config_.room_base != 0
                     ? config_.room_base
                     : static_cast<uint32_t>(100000 + (std::time(nullptr) % 100000) * 10);
    // Publishers of every room first, then subscribers, round-robin over rooms.
    for (uint32_t r = 0; r < config_.rooms; ++r) {
      for (uint32_t p = 0; p < config_.publishers; ++p) AddClient(ClientRole::kPublisher, r);
    }
    const uint32_t subs = config_.capacity ? config_.capacity_step : config_.subscribers;
    for (uint32_t s = 0; s < subs; ++s) {
      for (uint32_t r = 0; r < config_.rooms; ++r) AddClient(ClientRole::kSubscriber, r);
    }
    return Status::Ok();
  }

  json Execute() {
    start_ns_ = MonotonicNs();
    phase_start_ns_ = start_ns_;
    ArmPacer();
    io_.run();
    for (auto& c : clients_) c->Close();
    // Let close frames and leave requests go out (bounded).
    io_.restart();
    io_.run_for(std::chrono::milliseconds(300));
    return BuildResult();
  }

 private:
  void AddClient(ClientRole role, uint32_t room) {
    ClientConfig cc;
    cc.role = role;
    const size_t index = clients_.size() + pending_.size();
    cc.user_id =
        "b" + run_tag_ + (role == ClientRole::kPublisher ? "p" : "s") + std::to_string(index);
    cc.room_id = room_base_ + room;
    cc.sdkappid = config_.sdkappid;
    cc.app_key = config_.app_key;
    cc.media = config_.media;
    cc.ws.host = config_.host;
    cc.ws.sni = config_.sni;
    if (config_.source_ips > 0 && config_.host.rfind("127.", 0) == 0) {
      const size_t slot = index % std::min<uint32_t>(config_.source_ips, 250 * 250);
      cc.ws.bind_ip =
          "127.0." + std::to_string(1 + slot / 250) + "." + std::to_string(1 + slot % 250);
    }
    if (role == ClientRole::kPublisher) {
      for (int k = 0; k < 2; ++k) {
        auto st = std::make_unique<StreamSendState>();
        st->stream_id = static_cast<uint16_t>(stream_states_.size());
        st->video = k == 1;
        metrics_.streams.push_back(st.get());
        (k == 0 ? cc.audio_stream : cc.video_stream) = st.get();
        stream_states_.push_back(std::move(st));
      }
    }
    if (config_.target == "janus") {
      cc.ws.port = config_.janus_port;
      cc.ws.target = "/";
      cc.ws.subprotocol = "janus-protocol";
      cc.ws.tls = nullptr;
      cc.janus_publishers_per_room = config_.publishers;
      pending_.push_back(CreateJanusClient(env_, std::move(cc)));
    } else {
      cc.ws.port = config_.port;
      cc.ws.target = "/signal";
      cc.ws.tls = &tls_;
      pending_.push_back(CreateAegisClient(env_, std::move(cc)));
    }
  }

  void ArmPacer() {
    pacer_.expires_after(kPacerInterval);
    pacer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      OnPacer();
      if (phase_ != Phase::kDone) {
        ArmPacer();
      } else {
        io_.stop();
      }
    });
  }

  void LaunchDue(uint64_t now) {
    if (pending_.empty()) return;
    const double per_ns = config_.ramp_per_s <= 0 ? 1e9 : config_.ramp_per_s / 1e9;
    if (launch_origin_ns_ == 0) launch_origin_ns_ = now;
    const double allowed = 1 + static_cast<double>(now - launch_origin_ns_) * per_ns;
    while (!pending_.empty() && static_cast<double>(launched_since_origin_) < allowed) {
      clients_.push_back(std::move(pending_.front()));
      pending_.pop_front();
      clients_.back()->Start();
      ++launched_since_origin_;
    }
    if (pending_.empty()) launch_origin_ns_ = 0, launched_since_origin_ = 0;
  }

  void OnPacer() {
    const uint64_t now = MonotonicNs();
    LaunchDue(now);
    for (auto& c : clients_) c->Tick(now);
    if (++pacer_ticks_ % kSlowEvery != 0) return;
    for (auto& c : clients_) c->SlowTick(now);
    Advance(now);
    if (now - last_progress_ns_ >= 1'000'000'000ULL) {
      Progress(now);
      last_progress_ns_ = now;
    }
  }

  size_t CountReady() const {
    return static_cast<size_t>(
        std::ranges::count_if(clients_, [](const auto& c) { return c->ready() || c->failed(); }));
  }
  size_t CountFailed() const {
    return static_cast<size_t>(
        std::ranges::count_if(clients_, [](const auto& c) { return c->failed(); }));
  }

  void Enter(Phase p, uint64_t now) {
    phase_ = p;
    phase_start_ns_ = now;
  }

  void Advance(uint64_t now) {
    const double in_phase = static_cast<double>(now - phase_start_ns_) / 1e9;
    switch (phase_) {
      case Phase::kConnecting:
        if (pending_.empty() && CountReady() == clients_.size()) {
          connect_s_ = static_cast<double>(now - start_ns_) / 1e9;
          Enter(Phase::kSettling, now);
        } else if (in_phase > config_.connect_timeout_s) {
          timed_out_ = true;
          Enter(Phase::kSettling, now);
        }
        return;
      case Phase::kSettling:
        if (in_phase >= config_.settle_s) {
          BeginWindow(now);
          Enter(Phase::kMeasuring, now);
        }
        return;
      case Phase::kMeasuring: {
        const double length = config_.capacity ? config_.capacity_step_s : config_.duration_s;
        if (in_phase < length) return;
        if (config_.capacity && CapacityStep(now)) return;
        EndWindow(now);
        for (auto& c : clients_) c->StopMedia();
        Enter(Phase::kDraining, now);
        return;
      }
      case Phase::kDraining:
        if (in_phase >= config_.drain_s) Enter(Phase::kDone, now);
        return;
      case Phase::kDone:
        return;
    }
  }

  void BeginWindow(uint64_t now) {
    // In capacity mode every step opens a new window: the final figures
    // describe the last step measured.
    metrics_.measuring = true;
    metrics_.window_latency.Reset();
    metrics_.window_rx_packets = 0;
    metrics_.window_rx_bytes = 0;
    metrics_.window_tx_packets = 0;
    metrics_.window_tx_bytes = 0;
    window_start_ns_ = now;
    if (auto s = SampleProcess(config_.server_pid)) {
      server_start_ = *s;
      step_cpu_ = s->cpu_seconds;
    }
    metrics_.ResetInterval();
    for (auto& c : clients_) {
      if (auto* r = c->receiver()) r->CollectInterval();
    }
    metrics_.ResetInterval();
  }

  void EndWindow(uint64_t now) {
    metrics_.measuring = false;
    window_end_ns_ = now;
    if (auto s = SampleProcess(config_.server_pid)) server_end_ = *s;
  }

  // Capacity mode: judge the step just measured; true when the run goes on
  // (more subscribers were added).
  bool CapacityStep(uint64_t now) {
    for (auto& c : clients_) {
      if (auto* r = c->receiver()) r->CollectInterval();
    }
    const double loss = metrics_.interval_expected == 0
                            ? 0
                            : 100.0 * static_cast<double>(metrics_.interval_lost) /
                                  static_cast<double>(metrics_.interval_expected);
    const double p99 = static_cast<double>(metrics_.interval_latency.Percentile(99)) / 1000.0;
    const double secs = static_cast<double>(now - phase_start_ns_) / 1e9;
    const size_t subs = SubscriberCount();
    json step = {{"subscribers", subs},
                 {"loss_pct", loss},
                 {"p99_ms", p99},
                 {"rx_pps", static_cast<double>(metrics_.interval_rx_packets) / secs},
                 {"failed_clients", CountFailed()}};
    if (auto s = SampleProcess(config_.server_pid)) {
      step["server_cpu_s"] = s->cpu_seconds - step_cpu_;
      step_cpu_ = s->cpu_seconds;
    }
    capacity_steps_.push_back(step);
    const bool breached =
        loss > config_.capacity_loss_pct || p99 > config_.capacity_p99_ms || CountFailed() > 0;
    if (breached) {
      knee_reason_ = loss > config_.capacity_loss_pct ? "loss"
                     : p99 > config_.capacity_p99_ms  ? "p99"
                                                      : "failed_clients";
      return false;
    }
    knee_ = subs;
    if (subs + config_.rooms * config_.capacity_step > config_.capacity_max) {
      knee_reason_ = "capacity_max reached";
      return false;
    }
    for (uint32_t s = 0; s < config_.capacity_step; ++s) {
      for (uint32_t r = 0; r < config_.rooms; ++r) AddClient(ClientRole::kSubscriber, r);
    }
    EndWindow(now);
    Enter(Phase::kConnecting, now);
    return true;
  }

  size_t SubscriberCount() const {
    return static_cast<size_t>(std::ranges::count_if(
        clients_, [](const auto& c) { return c->role() == ClientRole::kSubscriber; }));
  }

  void Progress(uint64_t now) {
    if (!config_.progress) return;
    for (auto& c : clients_) {
      if (auto* r = c->receiver()) r->CollectInterval();
    }
    const double secs = std::max(1e-9, static_cast<double>(now - last_progress_ns_) / 1e9);
    const double loss = metrics_.interval_expected == 0
                            ? 0
                            : 100.0 * static_cast<double>(metrics_.interval_lost) /
                                  static_cast<double>(metrics_.interval_expected);
    std::fprintf(stderr,
                 "[%6.1fs] %-10s clients %zu/%zu ready, %zu failed | tx %.0f pps rx %.0f pps | "
                 "p99 %.2f ms | loss %.2f%%\n",
                 static_cast<double>(now - start_ns_) / 1e9, PhaseName(phase_), CountReady(),
                 clients_.size() + pending_.size(), CountFailed(),
                 static_cast<double>(metrics_.interval_tx_packets) / secs,
                 static_cast<double>(metrics_.interval_rx_packets) / secs,
                 static_cast<double>(metrics_.interval_latency.Percentile(99)) / 1000.0, loss);
    if (!config_.capacity || phase_ != Phase::kMeasuring) metrics_.ResetInterval();
  }

  json BuildResult() {
    json r;
    r["scenario"] = config_.name;
    r["target"] = config_.target;
    r["config"] = {{"rooms", config_.rooms},
                   {"publishers_per_room", config_.publishers},
                   {"subscribers_per_room", config_.subscribers},
                   {"audio", config_.media.audio},
                   {"video", config_.media.video},
                   {"video_kbps", config_.media.video_kbps},
                   {"fps", config_.media.fps},
                   {"keyframe_interval_s", config_.media.keyframe_interval_s},
                   {"duration_s", config_.duration_s},
                   {"ramp_per_s", config_.ramp_per_s},
                   {"capacity", config_.capacity}};
    size_t publishers = 0;
    size_t subscribers = 0;
    std::vector<double> join_first_packet;
    std::vector<double> join_first_keyframe;
    uint64_t lost = 0, expected = 0, received = 0, dups = 0, gaps = 0, late = 0;
    uint64_t missing_streams = 0, srtp_errors = 0;
    double jitter_sum_ms = 0;
    size_t jitter_n = 0;
    std::map<uint32_t, size_t> publishing_tracks_per_room;
    for (auto& c : clients_) {
      if (c->role() == ClientRole::kPublisher && c->publisher() != nullptr &&
          c->publisher()->ever_started()) {
        publishing_tracks_per_room[c->room_id()] +=
            (config_.media.audio ? 1 : 0) + (config_.media.video ? 1 : 0);
      }
    }
    std::map<std::string, std::map<std::string, size_t>> profiles;
    std::vector<std::string> errors;
    for (auto& c : clients_) {
      srtp_errors += c->PeerCounters().srtp_errors;
      for (const auto& [leg, name] : c->SrtpProfiles()) ++profiles[leg][name];
      if (c->failed() && errors.size() < 10) errors.push_back(c->error());
      if (c->role() == ClientRole::kPublisher) {
        ++publishers;
        continue;
      }
      ++subscribers;
      MediaReceiver* rx = c->receiver();
      if (rx == nullptr) {
        missing_streams += publishing_tracks_per_room[c->room_id()];
        continue;
      }
      if (rx->first_packet_ns())
        join_first_packet.push_back(Ms(*rx->first_packet_ns() - rx->join_ns()));
      if (rx->first_keyframe_ns()) {
        join_first_keyframe.push_back(Ms(*rx->first_keyframe_ns() - rx->join_ns()));
      }
      const size_t want = publishing_tracks_per_room[c->room_id()];
      if (rx->streams().size() < want) missing_streams += want - rx->streams().size();
      for (const auto& [id, s] : rx->streams()) {
        const StreamSendState* sent = id < metrics_.streams.size() ? metrics_.streams[id] : nullptr;
        const uint64_t exp = sent != nullptr && sent->next_counter > 0
                                 ? s.stats.ExpectedUpTo(sent->next_counter - 1)
                                 : s.stats.ExpectedSoFar();
        expected += exp;
        received += s.stats.unique_received();
        lost += exp > s.stats.unique_received() ? exp - s.stats.unique_received() : 0;
        dups += s.stats.duplicates();
        gaps += s.stats.gaps();
        late += s.stats.late();
        jitter_sum_ms += s.stats.jitter_units() / (s.video ? 90.0 : 48.0);
        ++jitter_n;
      }
    }
    const double window_s = window_end_ns_ > window_start_ns_
                                ? static_cast<double>(window_end_ns_ - window_start_ns_) / 1e9
                                : 0;
    r["clients"] = {{"publishers", publishers}, {"subscribers", subscribers},
                    {"failed", CountFailed()},  {"connect_timeout", timed_out_},
                    {"connect_s", connect_s_},  {"errors", errors}};
    r["window_s"] = window_s;
    const auto& wl = metrics_.window_latency;
    auto ms = [](uint64_t us) { return static_cast<double>(us) / 1000.0; };
    r["latency_ms"] = {{"samples", wl.count()},        {"p50", ms(wl.Percentile(50))},
                       {"p95", ms(wl.Percentile(95))}, {"p99", ms(wl.Percentile(99))},
                       {"max", ms(wl.max())},          {"mean", wl.Mean() / 1000.0}};
    r["packets"] = {
        {"sent", metrics_.tx_packets},
        {"received", metrics_.rx_packets},
        {"expected", expected},
        {"received_unique", received},
        {"lost", lost},
        {"loss_pct",
         expected == 0 ? 0.0 : 100.0 * static_cast<double>(lost) / static_cast<double>(expected)},
        {"duplicates", dups},
        {"gaps", gaps},
        {"late", late},
        {"missing_streams", missing_streams},
        {"foreign_payloads", metrics_.foreign_payloads},
        {"srtp_errors", srtp_errors},
        {"send_skipped", metrics_.send_skipped},
        {"nacks_sent", metrics_.nacks_sent},
        {"plis_sent", metrics_.plis_sent}};
    const double in_pps =
        window_s > 0 ? static_cast<double>(metrics_.window_tx_packets) / window_s : 0;
    const double out_pps =
        window_s > 0 ? static_cast<double>(metrics_.window_rx_packets) / window_s : 0;
    r["rates"] = {
        {"in_pps", in_pps},
        {"out_pps", out_pps},
        {"in_mbps",
         window_s > 0 ? static_cast<double>(metrics_.window_tx_bytes) * 8 / window_s / 1e6 : 0},
        {"out_mbps",
         window_s > 0 ? static_cast<double>(metrics_.window_rx_bytes) * 8 / window_s / 1e6 : 0}};
    r["jitter_ms_mean"] = jitter_n == 0 ? 0.0 : jitter_sum_ms / static_cast<double>(jitter_n);
    r["join_ms"] = {{"first_packet_p50", NearestRankPercentile(join_first_packet, 50)},
                    {"first_packet_p95", NearestRankPercentile(join_first_packet, 95)},
                    {"first_frame_p50", NearestRankPercentile(join_first_keyframe, 50)},
                    {"first_frame_p95", NearestRankPercentile(join_first_keyframe, 95)},
                    {"subscribers_with_packets", join_first_packet.size()},
                    {"subscribers_with_keyframe", join_first_keyframe.size()}};
    json server = {{"pid", config_.server_pid}};
    if (server_start_ && server_end_) {
      const double cpu = server_end_->cpu_seconds - server_start_->cpu_seconds;
      server["cpu_seconds"] = cpu;
      server["cpu_pct"] = window_s > 0 ? 100.0 * cpu / window_s : 0;
      server["rss_bytes_start"] = server_start_->rss_bytes;
      server["rss_bytes_end"] = server_end_->rss_bytes;
      server["out_pps_per_cpu_second"] = cpu > 0 ? out_pps * window_s / cpu : 0;
      server["total_pps_per_cpu_second"] = cpu > 0 ? (in_pps + out_pps) * window_s / cpu : 0;
    }
    r["server"] = server;
    r["srtp_profiles"] = profiles;
    if (config_.capacity) {
      r["capacity"] = {{"knee_subscribers", knee_},
                       {"stopped_by", knee_reason_},
                       {"loss_limit_pct", config_.capacity_loss_pct},
                       {"p99_limit_ms", config_.capacity_p99_ms},
                       {"steps", capacity_steps_}};
    }
    r["generator"] = {{"pid", static_cast<int>(getpid())}};
    if (auto s = SampleProcess(static_cast<int>(getpid()))) {
      r["generator"]["cpu_seconds"] = s->cpu_seconds;
      r["generator"]["rss_bytes"] = s->rss_bytes;
    }
    return r;
  }

  // Passed by argument.
  ScenarioConfig config_;
  // Allocated by this. The io_context is declared first so it is destroyed
  // last: pending handlers that capture clients are dropped, never run.
  asio::io_context io_;
  asio::ssl::context tls_;
  asio::steady_timer pacer_{io_};
  std::unique_ptr<rtc::DtlsCertificate> certificate_;
  ClientEnvironment env_;
  RunMetrics metrics_;
  std::vector<std::unique_ptr<StreamSendState>> stream_states_;
  std::deque<std::unique_ptr<BenchClient>> pending_;
  std::vector<std::unique_ptr<BenchClient>> clients_;
  std::string run_tag_;
  uint32_t room_base_ = 0;
  Phase phase_ = Phase::kConnecting;
  uint64_t start_ns_ = 0;
  uint64_t phase_start_ns_ = 0;
  uint64_t window_start_ns_ = 0;
  uint64_t window_end_ns_ = 0;
  uint64_t last_progress_ns_ = 0;
  uint64_t launch_origin_ns_ = 0;
  uint64_t launched_since_origin_ = 0;
  uint64_t pacer_ticks_ = 0;
  double connect_s_ = 0;
  bool timed_out_ = false;
  std::optional<ProcessSample> server_start_;
  std::optional<ProcessSample> server_end_;
  double step_cpu_ = 0;
  size_t knee_ = 0;
  std::string knee_reason_;
  json capacity_steps_ = json::array();
};

}  // namespace

Result<json> RunScenario(const ScenarioConfig& config) {
  auto run = std::make_unique<Run>(config);
  AEGIS_RETURN_IF_ERROR(run->Setup());
  return run->Execute();
}

}  // namespace aegis::bench
