#include "shard.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "janus_client.h"
#include "media.h"
#include "server_probe.h"

namespace aegis::bench {
namespace {

namespace asio = boost::asio;

constexpr auto kPacerInterval = std::chrono::milliseconds(5);
constexpr uint32_t kSlowEvery = 20;  // 20 x 5 ms = 100 ms
constexpr size_t kMaxErrors = 10;
// Stream ids: a publisher's global index times this, plus 0 (audio) or
// 1 + layer (video), so ids are unique over every process of the run.
constexpr uint64_t kStreamsPerPublisher = 1 + kMaxSimulcastLayers;

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

Shard::Shard(const ScenarioConfig& config, uint32_t index, uint32_t count)
    : config_(config),
      index_(index),
      count_(std::max<uint32_t>(count, 1)),
      tls_(asio::ssl::context::tls_client) {}

Shard::~Shard() = default;

Status Shard::Setup() {
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
  env_.arrival_at_socket = config_.arrival_at_socket;
  // Publishers of every room first, then subscribers, round-robin over rooms.
  for (uint32_t r = 0; r < config_.rooms; ++r) {
    for (uint32_t p = 0; p < config_.publishers; ++p) AddClient(ClientRole::kPublisher, r);
  }
  AddSubscriberRounds(config_.capacity ? config_.capacity_step : config_.subscribers);
  return Status::Ok();
}

void Shard::AddSubscriberRounds(uint32_t rounds) {
  for (uint32_t s = 0; s < rounds; ++s) {
    for (uint32_t r = 0; r < config_.rooms; ++r) AddClient(ClientRole::kSubscriber, r);
  }
}

void Shard::AddClient(ClientRole role, uint32_t room) {
  // Every shard walks the same global sequence and keeps its share.
  const uint64_t index = next_global_index_++;
  if (index % count_ != index_) return;
  ClientConfig cc;
  cc.role = role;
  cc.user_id =
      "b" + config_.run_tag + (role == ClientRole::kPublisher ? "p" : "s") + std::to_string(index);
  cc.room_id = config_.room_base + room;
  cc.sdkappid = config_.sdkappid;
  cc.app_key = config_.app_key;
  cc.media = config_.media;
  cc.ws.host = config_.host;
  cc.ws.sni = config_.sni;
  if (config_.source_ips > 0 && config_.host.rfind("127.", 0) == 0) {
    const uint64_t slot = index % std::min<uint32_t>(config_.source_ips, 250 * 250);
    cc.ws.bind_ip =
        "127.0." + std::to_string(1 + slot / 250) + "." + std::to_string(1 + slot % 250);
  }
  if (role == ClientRole::kPublisher) {
    // Publishers come first in the global order, so their index is small.
    const auto base = static_cast<uint16_t>(index * kStreamsPerPublisher);
    const uint32_t layers =
        std::clamp<uint32_t>(config_.media.simulcast_layers, 1, kMaxSimulcastLayers);
    for (uint32_t k = 0; k <= layers; ++k) {
      auto st = std::make_unique<StreamSendState>();
      st->stream_id = static_cast<uint16_t>(base + k);
      st->video = k > 0;
      st->layer = k > 0 && layers > 1 ? static_cast<int>(k - 1) : -1;
      st->group = k == 0 ? base : static_cast<uint16_t>(base + 1);
      if (k == 0) {
        cc.audio_stream = st.get();
      } else {
        cc.video_streams.push_back(st.get());
      }
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

void Shard::StartPacer(std::function<void(uint64_t)> every_100ms) {
  every_100ms_ = std::move(every_100ms);
  ArmPacer();
}

void Shard::Stop() {
  stopped_ = true;
  pacer_.cancel();
  io_.stop();
}

void Shard::ArmPacer() {
  pacer_.expires_after(kPacerInterval);
  pacer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    OnPacer();
    if (!stopped_) ArmPacer();
  });
}

void Shard::LaunchDue(uint64_t now) {
  if (pending_.empty()) return;
  // The ramp rate is the run's: each of the N processes starts 1/N of it.
  const double rate = config_.ramp_per_s / static_cast<double>(count_);
  const double per_ns = rate <= 0 ? 1e9 : rate / 1e9;
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

void Shard::OnPacer() {
  const uint64_t now = MonotonicNs();
  LaunchDue(now);
  for (auto& c : clients_) c->Tick(now);
  if (++pacer_ticks_ % kSlowEvery != 0) return;
  for (auto& c : clients_) c->SlowTick(now);
  if (every_100ms_) every_100ms_(now);
}

FleetCounts Shard::Counts() const {
  FleetCounts n;
  n.clients = clients_.size() + pending_.size();
  n.pending = pending_.size();
  for (const auto& c : clients_) {
    if (c->ready() || c->failed()) ++n.ready;
    if (c->failed()) ++n.failed;
    if (c->role() == ClientRole::kSubscriber) ++n.subscribers;
  }
  for (const auto& c : pending_) {
    if (c->role() == ClientRole::kSubscriber) ++n.subscribers;
  }
  return n;
}

void Shard::BeginWindow() {
  metrics_.measuring = true;
  metrics_.window_latency.Reset();
  metrics_.window_rx_packets = 0;
  metrics_.window_rx_bytes = 0;
  metrics_.window_tx_packets = 0;
  metrics_.window_tx_bytes = 0;
  window_start_ns_ = MonotonicNs();
  // Interval figures start afresh at the window: the receivers' bases move
  // to now and what they add is dropped.
  metrics_.ResetInterval();
  for (auto& c : clients_) {
    if (auto* r = c->receiver()) r->CollectInterval();
  }
  metrics_.ResetInterval();
}

void Shard::EndWindow() {
  metrics_.measuring = false;
  window_end_ns_ = MonotonicNs();
}

void Shard::StopMedia() {
  for (auto& c : clients_) c->StopMedia();
}

IntervalFigures Shard::CollectInterval() {
  for (auto& c : clients_) {
    if (auto* r = c->receiver()) r->CollectInterval();
  }
  IntervalFigures f;
  f.latency = metrics_.interval_latency;
  f.rx_packets = metrics_.interval_rx_packets;
  f.tx_packets = metrics_.interval_tx_packets;
  f.lost = metrics_.interval_lost;
  f.expected = metrics_.interval_expected;
  metrics_.ResetInterval();
  return f;
}

ShardResult Shard::Finish() {
  for (auto& c : clients_) c->Close();
  // Let close frames and leave requests go out (bounded).
  io_.restart();
  io_.run_for(std::chrono::milliseconds(300));

  ShardResult r;
  r.index = index_;
  r.pid = static_cast<int>(getpid());
  for (auto& c : clients_) {
    r.srtp_errors += c->PeerCounters().srtp_errors;
    for (const auto& [leg, name] : c->SrtpProfiles()) ++r.srtp_profiles[leg][name];
    if (c->failed()) {
      ++r.failed;
      if (r.errors.size() < kMaxErrors) r.errors.push_back(c->error());
    }
    if (c->role() == ClientRole::kPublisher) {
      r.publishers.push_back(
          {c->room_id(), c->publisher() != nullptr && c->publisher()->ever_started()});
      continue;
    }
    SubscriberResult sub;
    sub.room = c->room_id();
    MediaReceiver* rx = c->receiver();
    sub.receiving = rx != nullptr;
    if (rx != nullptr) {
      if (rx->first_packet_ns()) sub.first_packet_ms = Ms(*rx->first_packet_ns() - rx->join_ns());
      if (rx->first_keyframe_ns()) {
        sub.first_keyframe_ms = Ms(*rx->first_keyframe_ns() - rx->join_ns());
      }
      for (const auto& [id, s] : rx->streams()) {
        ReceivedStream rs;
        rs.id = id;
        rs.first = s.stats.first_counter();
        rs.highest = s.stats.highest_counter();
        rs.unique = s.stats.unique_received();
        rs.duplicates = s.stats.duplicates();
        rs.gaps = s.stats.gaps();
        rs.late = s.stats.late();
        rs.jitter_ms = s.stats.jitter_units() / (s.video ? 90.0 : 48.0);
        rs.last_ns = s.last_ns;
        sub.streams.push_back(rs);
      }
    }
    r.subscribers.push_back(std::move(sub));
  }
  // Clients still waiting for their turn in the ramp count as subscribers or
  // publishers that never connected.
  for (auto& c : pending_) {
    if (c->role() == ClientRole::kPublisher) {
      r.publishers.push_back({c->room_id(), false});
    } else {
      r.subscribers.push_back({c->room_id(), false, std::nullopt, std::nullopt, {}});
    }
  }
  for (const auto& st : stream_states_) {
    r.sent.push_back({st->stream_id, st->video, st->layer, st->group, st->next_counter, st->packets,
                      st->keyframes, st->plis_received, st->nacks_received});
  }
  r.window_latency = metrics_.window_latency;
  r.window_s = window_end_ns_ > window_start_ns_
                   ? static_cast<double>(window_end_ns_ - window_start_ns_) / 1e9
                   : 0;
  r.window_rx_packets = metrics_.window_rx_packets;
  r.window_rx_bytes = metrics_.window_rx_bytes;
  r.window_tx_packets = metrics_.window_tx_packets;
  r.window_tx_bytes = metrics_.window_tx_bytes;
  r.tx_packets = metrics_.tx_packets;
  r.rx_packets = metrics_.rx_packets;
  r.foreign_payloads = metrics_.foreign_payloads;
  r.send_skipped = metrics_.send_skipped;
  r.nacks_sent = metrics_.nacks_sent;
  r.plis_sent = metrics_.plis_sent;
  if (auto s = SampleProcess(static_cast<int>(getpid()))) {
    r.cpu_seconds = s->cpu_seconds;
    r.rss_bytes = s->rss_bytes;
  }
  return r;
}

}  // namespace aegis::bench
