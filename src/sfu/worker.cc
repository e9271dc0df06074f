#include "sfu/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "core/flat_map.h"
#include "core/log.h"
#include "core/spsc_ring.h"
#include "crypto/primitives.h"
#include "rtc/byte_io.h"
#include "rtc/demux.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtcp_remb.h"
#include "rtc/rtp/rtcp_report.h"
#include "rtc/rtp/rtcp_transport_cc.h"
#include "rtc/stun/stun_message.h"
#include "sfu/downlink_estimator.h"
#include "sfu/layer_allocator.h"
#include "sfu/nack_generator.h"
#include "sfu/packet_history.h"
#include "sfu/simulcast_rewriter.h"
#include "sfu/tcp_server.h"
#include "sfu/twcc_recorder.h"

namespace aegis::sfu {
namespace {

namespace asio = boost::asio;

constexpr const char* kTag = "worker";
constexpr auto kTick = std::chrono::milliseconds(20);
// Keyframe requests towards one publisher are throttled (RFC 4585 §3.5.4
// leaves the rate to the sender; 300 ms keeps a new subscriber fast).
constexpr int64_t kPliIntervalMs = 300;
constexpr int64_t kReceiverReportIntervalMs = 1000;
// At most this many repairs per received NACK packet, so a forged NACK
// listing thousands of sequence numbers cannot turn into a send flood.
constexpr size_t kMaxRepairsPerNack = 64;
// Sequence numbers per NACK sent to a publisher per tick.
constexpr size_t kMaxNackSeqsPerTick = 64;
// Transport-cc feedback to publishers (libwebrtc receivers send every 50-250 ms).
constexpr int64_t kTwccFeedbackIntervalMs = 100;
// Simulcast: a layer without a packet for this long is not chosen; the
// incoming bitrate per layer is measured over windows of this length.
constexpr int64_t kLayerActiveMs = 1000;
constexpr int64_t kLayerRateWindowMs = 1000;
// A subscriber's REMB older than this no longer limits its layer choice.
constexpr int64_t kRembValidMs = 5000;
// A receiver's REMB grows only about 1.5x above what it receives, so right
// after a switch up it says little: it is not acted on for this long. A cap it
// caused is held this long before the higher layer is tried again.
constexpr int64_t kRembGraceMs = 10'000;
constexpr int64_t kAutoCapHoldMs = 10'000;
// Bytes a packet takes on the wire beyond what the worker writes: SRTP tag
// (AES-GCM, the larger) and UDP/IPv4 headers; counted by the estimator.
constexpr size_t kWireOverhead = 16 + 28;
// Probe padding: RTP padding-only packets on a video consumer's RTX SSRC,
// each kPaddingBytes of padding (RFC 3550 §5.1: the last byte is the count),
// at most kMaxPaddingPerTick per transport per tick.
constexpr size_t kPaddingBytes = 255;
constexpr size_t kMaxPaddingPerTick = 48;
// Video consumers of one subscriber the allocator ranks (more keep their
// lowest layer).
constexpr size_t kMaxAllocated = 32;
// A subscriber's estimate and allocation are logged (debug) this often.
constexpr int64_t kDownlinkLogIntervalMs = 5000;
static_assert(kAllocatorMaxLayers == Worker::kMaxLayers);
// Messages taken from one inbound ring per wakeup before the others (and
// the socket) get a turn.
constexpr size_t kMaxRelayBatch = 256;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "serverUfrag:clientUfrag" → serverUfrag (RFC 8445 §7.2.2).
std::string_view LocalUfragOf(std::string_view username) {
  const size_t colon = username.find(':');
  return colon == std::string_view::npos ? std::string_view{} : username.substr(0, colon);
}

struct Consumer;
struct TransportEntry;

static_assert(std::is_trivially_copyable_v<rtc::SenderInfo>);

// One slot of a ring between two workers. `producer_id` names a producer of
// the receiving worker: the relayed producer (kRtp, kResync, kRestart,
// kSenderReport) or the original one (kKeyFrameRequest, kNack).
struct RelayMessage {
  enum class Type : uint8_t {
    kRtp,              // an accepted packet of one stream (`layer`)
    kKeyFrameRequest,  // a subscriber there needs a keyframe of `layer`
    kResync,           // `layer` changed source (new SSRC): sequence lines restart
    kRestart,          // the producer resumed: consumers continue without a gap
    kSenderReport,     // the publisher's SR for `layer` (bytes: rtc::SenderInfo)
    kNack,             // the relayed copy misses these packets of `layer` (bytes: uint16_t
                       // sequence numbers): a full ring dropped them on the way
  };
  Type type = Type::kRtp;
  uint8_t layer = 0;
  bool force = false;
  uint16_t length = 0;
  uint64_t producer_id = 0;
  int64_t receive_ms = 0;
  std::array<uint8_t, 1500> bytes;  // RTP packet (kRtp), uninitialised beyond `length`
};

// An eventfd that wakes a worker's io_context when another worker queued
// something for it. Shared (shared_ptr) by the worker it wakes and the
// workers that write it, so destruction order does not matter.
class WakeFd {
 public:
  WakeFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~WakeFd() {
    if (fd_ >= 0) close(fd_);
  }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  // Any thread. EAGAIN (counter at its maximum) still leaves it readable.
  void Signal() const {
    const uint64_t one = 1;
    (void)!write(fd_, &one, sizeof(one));
  }
  // The woken worker, before it looks at its rings.
  void Drain() const {
    uint64_t value = 0;
    (void)!read(fd_, &value, sizeof(value));
  }

 private:
  int fd_;
};

// One direction between two workers. Shared (shared_ptr) by its sender and
// its receiver, either of which may be destroyed first.
struct RelayLink {
  explicit RelayLink(size_t slots, std::shared_ptr<WakeFd> receiver_wake)
      : ring(slots), wake(std::move(receiver_wake)) {}
  core::SpscRing<RelayMessage> ring;
  std::shared_ptr<WakeFd> wake;
};

struct Producer {
  ProducerParams params;
  WebRtcTransport* transport = nullptr;
  std::vector<Consumer*> consumers;
  bool rtx_learning = false;
  // Receive statistics for our receiver reports (RFC 3550 §6.4.1, A.3).
  bool seen = false;
  uint16_t max_seq = 0;
  uint32_t cycles = 0;
  uint32_t base_seq = 0;
  uint64_t received = 0;
  uint64_t expected_prior = 0;
  uint64_t received_prior = 0;
  uint32_t last_sr_ntp_middle = 0;
  int64_t last_sr_ms = 0;
  int64_t last_pli_ms = -1'000'000;
  // Loss recovery (video): history answers subscribers' NACKs; the
  // generator asks the publisher for what we did not receive.
  std::unique_ptr<PacketHistory> history;
  NackGenerator nack;
  // Audio level accumulation over one level interval.
  uint32_t level_sum = 0;
  uint32_t level_count = 0;
  // Simulcast: the producer consumers attach to owns one Producer per layer
  // (lowest first), each with its own SSRC, statistics, history and NACKs.
  std::vector<std::unique_ptr<Producer>> layers;  // empty: one stream
  Producer* parent = nullptr;                     // set on a layer
  int layer = 0;                                  // a layer's index
  // Incoming rate of this stream, for the consumers' layer choice.
  int64_t last_packet_ms = -1'000'000;
  int64_t rate_window_start_ms = 0;
  uint64_t rate_window_bytes = 0;
  uint64_t bitrate_bps = 0;
  // Fan-out (set on the producer consumers attach to): the other workers
  // its packets are handed to, once each.
  struct Relay {
    size_t worker = 0;
    uint64_t relay_id = 0;  // the relayed producer there
  };
  std::vector<Relay> relays;
  // A relayed producer: no transport, fed by worker `source_worker`'s ring,
  // where it is `source_producer_id`.
  bool relayed = false;
  size_t source_worker = 0;
  uint64_t source_producer_id = 0;
};

struct Consumer {
  ConsumerParams params;
  Producer* producer = nullptr;
  WebRtcTransport* transport = nullptr;
  TransportEntry* entry = nullptr;   // the subscriber's transport (stable: map node)
  SimulcastRewriter rewriter{0, 0};  // random start values set by AddConsumer
  uint16_t rtx_next_seq = 0;
  uint32_t packets = 0;
  uint32_t octets = 0;
  // Simulcast layers: the one forwarded (-1: none yet) and the one wanted,
  // switched to at its next keyframe; the subscriber's preference.
  int current_layer = -1;
  int target_layer = 0;
  int preferred_layer = Worker::kLayerAuto;
  bool paused = false;  // the subscriber paused it (invisible tile)
  // `auto` under a REMB: the cap it set and until when; no cap from a REMB
  // before remb_grace_until_ms (after a switch up).
  int auto_cap = 0;
  int64_t auto_cap_until_ms = 0;
  int64_t remb_grace_until_ms = 0;
  // `auto` under the downlink estimator: the allocator's layer (-1: none),
  // and the layers it must not re-enter yet after a drop.
  int alloc_layer = -1;
  RaiseGuard raise_guard;
  // RTX payload type for probe padding (kNoPayloadType: none).
  uint8_t padding_pt = ConsumerParams::kNoPayloadType;
};

struct TransportEntry {
  std::unique_ptr<WebRtcTransport> transport;
  uint32_t rtcp_ssrc = 0;  // our SSRC in RTCP we originate on it
  // Per-packet lookups: open addressing, no allocation (core::FlatMap).
  core::FlatMap<uint32_t, Producer*> producers_by_ssrc;
  std::vector<Producer*> producers;
  core::FlatMap<uint32_t, Consumer*> consumers_by_ssrc;
  std::vector<rtc::Tuple> tuples;
  uint8_t twcc_extension_id = 0;  // 0: no transport-cc from this peer
  TwccRecorder twcc;
  // The subscriber's latest REMB (its downlink estimate), 0: none.
  uint64_t remb_bps = 0;
  int64_t remb_ms = 0;
  // Subscribe side: consumers sent on this transport, and the downlink
  // estimator when the subscriber negotiated transport-cc (its extension id
  // and our next transport-wide sequence number).
  std::vector<Consumer*> consumers;
  uint8_t send_twcc_id = 0;
  uint16_t send_tseq = 0;
  std::unique_ptr<DownlinkEstimator> bwe;
  int64_t bwe_logged_ms = 0;
  uint64_t bwe_desired_bps = 0;  // the last allocation's want, audio and fixed video included
};

// Debug lines built on the worker thread (their fields allocate) only when
// they will be written.
bool DebugLogging() { return Logger::Global().level() == LogLevel::kDebug; }

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class Worker::Impl final : public WebRtcTransport::Listener,
                           public TcpServer::Listener,
                           public DataChannelRouter::Sender {
 public:
  Impl(Worker& owner, std::unique_ptr<UdpSocket> socket, Worker::Listener* listener)
      : owner_(owner),
        listener_(listener),
        data_(owner.options_.data_channels, this),
        socket_(std::move(socket)),
        descriptor_(io_, socket_->fd()),
        wake_(std::make_shared<WakeFd>()),
        wake_descriptor_(io_),
        timer_(io_),
        guard_(asio::make_work_guard(io_)) {}

  ~Impl() override {
    // The descriptors must not close the fds the socket and WakeFd own.
    (void)descriptor_.release();
    if (wake_descriptor_.is_open()) (void)wake_descriptor_.release();
  }

  // Before Run(), on the starting thread. Errors: worker_eventfd.
  Status OpenWake() {
    if (wake_->fd() < 0) {
      return Status::Error("worker_eventfd", std::string("eventfd: ") + std::strerror(errno));
    }
    wake_descriptor_.assign(wake_->fd());
    return Status::Ok();
  }

  const std::shared_ptr<WakeFd>& wake() const { return wake_; }

  // Before Run(), on the starting thread. Errors: net_bad_address, net_bind.
  Result<uint16_t> ListenTcp(const WorkerOptions& options) {
    TcpServer::Options o;
    o.max_connections = options.tcp_max_connections;
    o.unauthenticated_timeout = options.tcp_unauthenticated_timeout;
    auto tcp = TcpServer::Listen(io_, options.listen_ip, options.tcp_port, o, this);
    if (!tcp.ok()) return tcp.status();
    tcp_ = std::move(tcp).value();
    return tcp_->port();
  }

  void Run() {
    ArmRead();
    ArmRelayWait();
    ArmTimer();
    io_.run();
  }

  void Stop() {
    guard_.reset();
    io_.stop();
  }

  // Runs `fn` on the worker thread, then sends what it queued (keyframe
  // requests, DTLS flights) without waiting for the next tick.
  template <typename Fn>
  void Post(Fn&& fn) {
    asio::post(io_, [this, f = std::forward<Fn>(fn)]() mutable {
      f();
      FlushOut();
    });
  }

  void CreateTransport(uint64_t id, rtc::IceCredentials ice) {
    if (transports_.contains(id)) return;
    const std::string ufrag = ice.ufrag;
    auto t = WebRtcTransport::Create(id, std::move(ice), &owner_.certificate(), socket_.get(),
                                     tcp_.get(), this);
    if (!t.ok()) {
      if (listener_ != nullptr) {
        listener_->OnTransportStateChanged(owner_.index(), id, TransportState::kFailed,
                                           t.status().message());
      }
      return;
    }
    TransportEntry entry;
    entry.transport = std::move(t).value();
    entry.rtcp_ssrc = crypto::RandomNonZeroU32();
    by_ufrag_[ufrag] = id;
    transports_.emplace(id, std::move(entry));
    owner_.counters_.transports.store(transports_.size(), std::memory_order_relaxed);
  }

  void SetRemote(uint64_t id, const std::string& ufrag, const std::string& alg,
                 const std::string& value) {
    TransportEntry* e = Find(id);
    if (e == nullptr) return;
    const Status s = e->transport->SetRemoteParameters(ufrag, alg, value);
    if (!s.ok() && listener_ != nullptr) {
      listener_->OnTransportStateChanged(owner_.index(), id, TransportState::kFailed, s.message());
    }
  }

  void CloseTransport(uint64_t id) {
    auto it = transports_.find(id);
    if (it == transports_.end()) return;
    TransportEntry& e = it->second;
    std::vector<uint64_t> producer_ids;
    for (Producer* p : e.producers) producer_ids.push_back(p->params.producer_id);
    for (uint64_t pid : producer_ids) RemoveProducer(pid);
    std::vector<uint64_t> consumer_ids;
    for (auto& [cid, c] : consumers_) {
      if (c->params.transport_id == id) consumer_ids.push_back(cid);
    }
    for (uint64_t cid : consumer_ids) RemoveConsumer(cid);
    for (const rtc::Tuple& t : e.tuples) {
      by_tuple_.erase(t);
      if (t.is_tcp() && tcp_) tcp_->Close(t.connection_id);
    }
    by_ufrag_.erase(e.transport->local_ufrag());
    data_.RemoveRoute(id);
    e.transport->Close();
    transports_.erase(it);
    owner_.counters_.transports.store(transports_.size(), std::memory_order_relaxed);
  }

  void AddProducer(ProducerParams params) {
    TransportEntry* e = Find(params.transport_id);
    if (e == nullptr || producers_.contains(params.producer_id)) return;
    auto p = std::make_unique<Producer>();
    p->params = std::move(params);
    p->transport = e->transport.get();
    if (p->params.kind == MediaKind::kVideo && !p->params.rids.empty()) {
      AddLayers(e, *p);
    } else if (p->params.kind == MediaKind::kVideo) {
      p->history = std::make_unique<PacketHistory>();
    }
    if (p->params.transport_cc_extension_id != 0) {
      e->twcc_extension_id = p->params.transport_cc_extension_id;
    }
    if (p->params.ssrc != 0) e->producers_by_ssrc[p->params.ssrc] = p.get();
    if (p->params.rtx_ssrc != 0) e->producers_by_ssrc[p->params.rtx_ssrc] = p.get();
    e->producers.push_back(p.get());
    producers_.emplace(p->params.producer_id, std::move(p));
    owner_.counters_.producers.store(producers_.size(), std::memory_order_relaxed);
  }

  void SetProducerPaused(uint64_t id, bool paused) {
    auto it = producers_.find(id);
    if (it == producers_.end()) return;
    Producer& p = *it->second;
    if (p.params.paused == paused) return;
    p.params.paused = paused;
    if (!paused) {
      // Subscribers continue without a gap and need a keyframe to decode.
      const int64_t now = NowMs();
      for (Consumer* c : p.consumers) RestartConsumer(*c);
      for (const Producer::Relay& r : p.relays) {
        PushRelay(r.worker, RelayMessage::Type::kRestart, r.relay_id, 0, false, now, {});
      }
      RequestKeyFrame(p, now, /*force=*/true);
      for (auto& layer : p.layers) RequestKeyFrame(*layer, now, /*force=*/true);
    }
  }

  void SetProducerPriority(uint64_t id, uint8_t priority) {
    auto it = producers_.find(id);
    if (it != producers_.end()) it->second->params.priority = priority;
  }

  void SetTransportFeedback(uint64_t id, uint8_t extension_id) {
    TransportEntry* e = Find(id);
    if (e == nullptr || e->send_twcc_id == extension_id) return;
    if (extension_id == 0 || extension_id > 14) {  // one-byte header ids only
      e->send_twcc_id = 0;
      e->bwe.reset();
      for (Consumer* c : e->consumers) c->alloc_layer = -1;
      return;
    }
    e->send_twcc_id = extension_id;
    if (!e->bwe) e->bwe = std::make_unique<DownlinkEstimator>();
  }

  void RemoveProducer(uint64_t id) {
    auto it = producers_.find(id);
    if (it == producers_.end()) return;
    Producer* p = it->second.get();
    std::vector<uint64_t> consumer_ids;
    for (Consumer* c : p->consumers) consumer_ids.push_back(c->params.consumer_id);
    for (uint64_t cid : consumer_ids) RemoveConsumer(cid);
    for (const Producer::Relay& r : p->relays) {
      if (r.worker < peers_.size()) peers_[r.worker]->RemoveProducer(r.relay_id);
    }
    if (TransportEntry* e = p->relayed ? nullptr : Find(p->params.transport_id)) {
      core::erase_if(e->producers_by_ssrc,
                     [p](const auto& kv) { return kv.second == p || kv.second->parent == p; });
      std::erase_if(e->producers, [p](const Producer* q) { return q == p || q->parent == p; });
    }
    producers_.erase(it);
    owner_.counters_.producers.store(producers_.size(), std::memory_order_relaxed);
  }

  void AddConsumer(const ConsumerParams& params) {
    TransportEntry* e = Find(params.transport_id);
    auto pit = producers_.find(params.producer_id);
    if (e == nullptr || pit == producers_.end() || consumers_.contains(params.consumer_id)) return;
    auto c = std::make_unique<Consumer>();
    c->params = params;
    c->producer = pit->second.get();
    c->transport = e->transport.get();
    c->rewriter = SimulcastRewriter(static_cast<uint16_t>(crypto::RandomNonZeroU32()),
                                    crypto::RandomNonZeroU32());
    c->rtx_next_seq = static_cast<uint16_t>(crypto::RandomNonZeroU32());
    c->entry = e;
    if (c->params.rtx_ssrc != 0) {
      for (uint8_t pt : c->params.rtx_payload_map) {
        if (pt != ConsumerParams::kNoPayloadType) {
          c->padding_pt = pt;
          break;
        }
      }
    }
    e->consumers_by_ssrc[params.ssrc] = c.get();
    e->consumers.push_back(c.get());
    pit->second->consumers.push_back(c.get());
    if (pit->second->params.kind == MediaKind::kVideo) {
      const int64_t now = NowMs();
      c->target_layer = ChooseLayer(*c, now);
      RequestConsumerKeyFrame(*c, now, /*force=*/true);
    }
    consumers_.emplace(params.consumer_id, std::move(c));
  }

  void SetConsumerPreferredLayer(uint64_t id, int layer) {
    auto it = consumers_.find(id);
    if (it == consumers_.end()) return;
    Consumer& c = *it->second;
    c.preferred_layer = layer < 0 ? Worker::kLayerAuto : std::min(layer, Worker::kLayerHigh);
    UpdateConsumerLayer(c, NowMs());
  }

  void SetConsumerPaused(uint64_t id, bool paused) {
    auto it = consumers_.find(id);
    if (it == consumers_.end() || it->second->paused == paused) return;
    Consumer& c = *it->second;
    c.paused = paused;
    if (!paused) {
      RestartConsumer(c);
      RequestConsumerKeyFrame(c, NowMs(), /*force=*/true);
    }
  }

  void RemoveConsumer(uint64_t id) {
    auto it = consumers_.find(id);
    if (it == consumers_.end()) return;
    Consumer* c = it->second.get();
    std::erase(c->producer->consumers, c);
    if (TransportEntry* e = Find(c->params.transport_id)) {
      e->consumers_by_ssrc.erase(c->params.ssrc);
      std::erase(e->consumers, c);
    }
    consumers_.erase(it);
  }

  void SetDataRoute(uint64_t id, const std::string& room_key, const std::string& user_id) {
    if (Find(id) == nullptr) return;
    const Status s = data_.SetRoute(id, room_key, user_id);
    if (!s.ok()) LogWarn(kTag, "data route refused", {{"error", s.ToString()}});
  }

  // ---- DataChannelRouter::Sender ----

  void SendApplicationData(uint64_t transport_id, std::span<const uint8_t> packet) override {
    if (TransportEntry* e = Find(transport_id)) (void)e->transport->SendApplicationData(packet);
  }

  // ---- WebRtcTransport::Listener ----

  void OnTransportApplicationData(WebRtcTransport& t, std::span<const uint8_t> data) override {
    data_.OnApplicationData(t.id(), data, NowMs());
  }

  void OnTransportStateChanged(WebRtcTransport& t, TransportState state,
                               const std::string& reason) override {
    if (state == TransportState::kConnected) {
      // Keyframes requested before the subscriber could decrypt were lost.
      if (TransportEntry* e = Find(t.id())) {
        const int64_t now = NowMs();
        for (auto& [ssrc, c] : e->consumers_by_ssrc) {
          if (c->producer->params.kind == MediaKind::kVideo) {
            RequestConsumerKeyFrame(*c, now, /*force=*/true);
          }
        }
      }
    }
    if (listener_ != nullptr) {
      listener_->OnTransportStateChanged(owner_.index(), t.id(), state, reason);
    }
  }

  void OnTransportTupleAdded(WebRtcTransport& t, const rtc::Tuple& tuple) override {
    TransportEntry* e = Find(t.id());
    if (e == nullptr) return;
    if (tuple.is_tcp() && tcp_) tcp_->MarkAuthenticated(tuple.connection_id);
    // A tuple belongs to one transport; a peer reusing it elsewhere moves it.
    if (auto old = by_tuple_.find(tuple); old != by_tuple_.end() && old->second != t.id()) {
      if (TransportEntry* prev = Find(old->second)) std::erase(prev->tuples, tuple);
    }
    by_tuple_[tuple] = t.id();
    if (std::ranges::find(e->tuples, tuple) == e->tuples.end()) {
      // Bounded by IceLiteServer::Options::max_tuples in practice; keep the newest.
      if (e->tuples.size() >= 8) {
        // Evict the oldest tuple that is not the selected path.
        auto victim = e->tuples.begin();
        if (e->transport->selected_tuple() && *victim == *e->transport->selected_tuple()) ++victim;
        const rtc::Tuple evicted = *victim;
        by_tuple_.erase(evicted);
        e->tuples.erase(victim);
        if (evicted.is_tcp() && tcp_) {
          e->transport->RemoveTuple(evicted);
          tcp_->Close(evicted.connection_id);
        }
      }
      e->tuples.push_back(tuple);
    }
  }

  void OnTransportRtp(WebRtcTransport& t, rtc::RtpPacket& packet, int64_t now_ms) override {
    TransportEntry* e = Find(t.id());
    if (e == nullptr) return;
    if (e->twcc_extension_id != 0) {
      // Every packet counts for the publisher's estimate, probes included.
      if (auto tseq = packet.GetTransportSequenceNumber(e->twcc_extension_id)) {
        e->twcc.OnPacket(*tseq, NowUs());
      }
    }
    Producer* p = nullptr;
    if (auto it = e->producers_by_ssrc.find(packet.ssrc()); it != e->producers_by_ssrc.end()) {
      p = it->second;
    } else {
      p = LearnSsrc(*e, packet);
      if (p == nullptr) {
        owner_.counters_.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    if (packet.ssrc() != p->params.ssrc) {
      // RFC 4588 repair (or padding probe) on the RTX SSRC: restore the
      // original packet and carry on as if it had arrived in time.
      const uint8_t apt = RtxApt(*p, packet.payload_type());
      if (apt == ConsumerParams::kNoPayloadType || packet.payload().size() <= 2 ||
          !packet.RtxDecode(apt, p->params.ssrc).ok()) {
        return;
      }
      owner_.counters_.rtx_in.fetch_add(1, std::memory_order_relaxed);
    }
    const uint16_t seq = packet.sequence_number();
    UpdateReceiveStats(*p, seq);
    if (p->params.nack && p->nack.OnPacket(seq, now_ms) == NackGenerator::Arrival::kReset) {
      RequestKeyFrame(*p, now_ms, /*force=*/false);  // too much lost to repair
    }
    // (Audio has no history, so a duplicate never reaches this twice.)
    if (p->params.kind == MediaKind::kAudio && p->params.audio_level_extension_id != 0) {
      const auto level = packet.GetExtension(p->params.audio_level_extension_id);
      if (level && !level->empty()) {
        p->level_sum += (*level)[0] & 0x7F;  // -dBov, RFC 6464 §3
        ++p->level_count;
      }
    }
    Distribute(*p, packet, now_ms, now_ms);
  }

  // The rest of a packet's path once its stream (a producer or a simulcast
  // layer) is known, for a local packet and a relayed one alike: the history
  // drops a second copy (and keeps the packet for NACKs), the stream's rate
  // feeds the layer choice, then — unless the producer is paused — every
  // relay gets it and, unless it is padding only, every consumer.
  // `receive_ms`: when the packet reached the first worker.
  void Distribute(Producer& stream, const rtc::RtpPacket& packet, int64_t receive_ms,
                  int64_t now_ms) {
    Producer& top = stream.parent != nullptr ? *stream.parent : stream;
    // A muted producer's packets are kept nowhere: no NACK, local or from a
    // relayed copy, can bring them out later.
    if (stream.history && !top.params.paused) {
      const auto stored =
          stream.history->Store(packet.data(), packet.sequence_number(), receive_ms);
      if (stored == PacketHistory::StoreResult::kDuplicate) {
        owner_.counters_.duplicates.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    UpdateStreamRate(stream, packet.data().size(), receive_ms);
    if (top.params.paused) return;  // muted
    // Padding too: a relayed copy takes a missing sequence number for a
    // packet its ring dropped.
    for (const Producer::Relay& r : top.relays) {
      PushRelay(r.worker, RelayMessage::Type::kRtp, r.relay_id, stream.layer, false, now_ms,
                packet.data());
    }
    if (packet.payload().empty()) return;  // padding only
    for (Consumer* c : top.consumers) Forward(*c, packet, now_ms, stream);
  }

  // A stream's source changed (a new SSRC): the consumers receiving it
  // continue their lines seamlessly, and its history (other numbering) goes.
  static void ResyncStream(Producer& top, Producer& stream) {
    for (Consumer* c : top.consumers) {
      if (top.layers.empty() || c->current_layer == stream.layer) c->rewriter.Resync();
    }
    if (stream.history) stream.history->Clear();
  }

  void OnTransportRtcp(WebRtcTransport& t, std::span<const uint8_t> compound,
                       int64_t now_ms) override {
    TransportEntry* e = Find(t.id());
    if (e == nullptr) return;
    owner_.counters_.rtcp_in.fetch_add(1, std::memory_order_relaxed);
    for (rtc::RtcpCompoundIterator it(compound); it.Valid(); it.Next()) {
      const rtc::RtcpPacketView& v = it.packet();
      if (v.Is(rtc::RtcpType::kSr)) {
        auto sr = rtc::SenderReport::Parse(v);
        if (sr.ok()) OnSenderReport(*e, sr->sender_info(), now_ms);
      } else if (v.Is(rtc::RtcpType::kPsfb) &&
                 v.count == static_cast<uint8_t>(rtc::PsfbFormat::kPli)) {
        auto pli = rtc::Pli::Parse(v);
        if (pli.ok()) OnKeyFrameRequest(*e, pli->media_ssrc(), now_ms);
      } else if (v.Is(rtc::RtcpType::kPsfb) &&
                 v.count == static_cast<uint8_t>(rtc::PsfbFormat::kFir)) {
        auto fir = rtc::Fir::Parse(v);
        if (fir.ok()) {
          for (size_t i = 0; i < fir->entry_count(); ++i) {
            OnKeyFrameRequest(*e, fir->entry(i).ssrc, now_ms);
          }
        }
      } else if (v.Is(rtc::RtcpType::kRtpfb) &&
                 v.count == static_cast<uint8_t>(rtc::RtpfbFormat::kNack)) {
        auto nack = rtc::GenericNack::Parse(v);
        if (nack.ok()) OnNack(*e, *nack, now_ms);
      } else if (v.Is(rtc::RtcpType::kPsfb) &&
                 v.count == static_cast<uint8_t>(rtc::PsfbFormat::kAfb)) {
        // A subscriber's downlink estimate (goog-remb): caps its layers.
        auto remb = rtc::Remb::Parse(v);
        if (remb.ok()) {
          e->remb_bps = remb->bitrate_bps();
          e->remb_ms = now_ms;
        }
      } else if (e->bwe && v.Is(rtc::RtcpType::kRtpfb) &&
                 v.count == static_cast<uint8_t>(rtc::RtpfbFormat::kTransportCc)) {
        // The subscriber's report on what we sent it: its downlink estimate.
        auto fb = rtc::TransportCcFeedback::Parse(v);
        if (fb.ok()) OnDownlinkFeedback(*e, *fb);
      }
      // Receiver reports end here.
    }
  }

 private:
  TransportEntry* Find(uint64_t id) {
    auto it = transports_.find(id);
    return it == transports_.end() ? nullptr : &it->second;
  }

  // An SSRC the offer did not list: bind it by the MID header extension
  // (RFC 8843 §15) to the producer of that m-section.
  Producer* LearnSsrc(TransportEntry& e, const rtc::RtpPacket& packet) {
    for (Producer* top : e.producers) {
      if (top->parent != nullptr || top->params.mid_extension_id == 0) continue;
      const auto mid = packet.GetMid(top->params.mid_extension_id);
      if (!mid || *mid != top->params.mid) continue;
      Producer* p = top->layers.empty() ? top : LayerByRid(*top, packet);
      if (p == nullptr) return nullptr;
      const bool is_rtx = RtxApt(*p, packet.payload_type()) != ConsumerParams::kNoPayloadType;
      uint32_t& slot = is_rtx ? p->params.rtx_ssrc : p->params.ssrc;
      if (slot != 0) e.producers_by_ssrc.erase(slot);
      slot = packet.ssrc();
      e.producers_by_ssrc[slot] = p;
      if (!is_rtx) {
        // A new source: continue seamlessly.
        ResyncStream(*top, *p);
        p->seen = false;
        p->nack.Reset();
        for (const Producer::Relay& r : top->relays) {
          PushRelay(r.worker, RelayMessage::Type::kResync, r.relay_id, p->layer, false, NowMs(),
                    {});
        }
      }
      return p;
    }
    return nullptr;
  }

  static void UpdateReceiveStats(Producer& p, uint16_t seq) {
    ++p.received;
    if (!p.seen) {
      p.seen = true;
      p.max_seq = seq;
      p.base_seq = seq;
      p.cycles = 0;
      p.received = 1;
      p.expected_prior = 0;
      p.received_prior = 0;
      return;
    }
    const auto delta = static_cast<uint16_t>(seq - p.max_seq);
    if (delta != 0 && delta < 0x8000) {
      if (seq < p.max_seq) p.cycles += 1U << 16;
      p.max_seq = seq;
    }
  }

  // `stream` is the producer itself, or the simulcast layer the packet is on.
  void Forward(Consumer& c, const rtc::RtpPacket& packet, int64_t now_ms, const Producer& stream) {
    if (c.paused) return;
    const uint8_t pt = packet.payload_type();
    const uint8_t out_pt = pt < 128 ? c.params.payload_map[pt] : ConsumerParams::kNoPayloadType;
    if (out_pt == ConsumerParams::kNoPayloadType) return;
    if (c.transport->state() != TransportState::kConnected) return;
    const Producer& top = *c.producer;
    const rtc::VideoCodec codec = CodecOf(top, pt);
    if (!top.layers.empty() && stream.layer != c.current_layer) {
      // Switch only where the new layer decodes on its own: its keyframe
      // (a codec we cannot inspect switches at once and relies on the PLI).
      if (stream.layer != c.target_layer) return;
      if (codec != rtc::VideoCodec::kUnknown && !rtc::IsKeyFrame(codec, packet.payload())) return;
      if (stream.layer > c.current_layer) c.remb_grace_until_ms = now_ms + kRembGraceMs;
      if (c.current_layer >= 0)
        owner_.counters_.layer_switches.fetch_add(1, std::memory_order_relaxed);
      c.current_layer = stream.layer;
      c.rewriter.Resync();
    }
    const uint32_t clock = top.params.kind == MediaKind::kAudio ? 48 : 90;  // per ms
    const auto out =
        c.rewriter.Rewrite(packet.sequence_number(), packet.timestamp(), clock, now_ms);
    if (!out) return;  // from before the current source's first packet
    const std::span<const uint8_t> payload = packet.payload();
    SendRtpTo(c, packet.marker(), out_pt, out->seq, out->ts, c.params.ssrc, std::nullopt, payload,
              codec == rtc::VideoCodec::kVp8);
    ++c.packets;
    c.octets += static_cast<uint32_t>(payload.size());
    owner_.counters_.rtp_out.fetch_add(1, std::memory_order_relaxed);
  }

  // Writes a fresh 12-byte header (RFC 3550 §5.1) and the payload, with the
  // RTX original sequence number first when `osn` is set (RFC 4588 §4).
  // `vp8`: the payload copy in the send slot gets the consumer's continuous
  // PictureID / TL0PICIDX (SimulcastRewriter::RewriteVp8).
  // When the subscriber negotiated transport-cc the header carries the
  // transport-wide sequence number (RFC 8285 one-byte extension) and the
  // packet is recorded for the downlink estimator.
  static void SendRtpTo(Consumer& c, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
                        uint32_t ssrc, std::optional<uint16_t> osn,
                        std::span<const uint8_t> payload, bool vp8 = false) {
    TransportEntry& e = *c.entry;
    c.transport->SendRtp([&](std::span<uint8_t> out) -> size_t {
      rtc::ByteWriter w(out);
      const bool twcc = e.send_twcc_id != 0;
      bool ok = WriteRtpHeader(w, twcc, /*padding=*/false, marker, pt, seq, ts, ssrc, e);
      if (ok && osn) ok = w.WriteU16(*osn);
      const size_t payload_offset = w.size();
      ok = ok && w.WriteBytes(payload);
      if (ok && vp8) c.rewriter.RewriteVp8(out.subspan(payload_offset, payload.size()));
      if (!ok) return 0;
      if (twcc) e.bwe->OnPacketSent(e.send_tseq++, w.size() + kWireOverhead, NowUs());
      return w.size();
    });
  }

  // RFC 3550 §5.1 fixed header, plus the transport-wide sequence number
  // (one-byte header extension, RFC 8285 §4.2: 0xBEDE, one word) when `twcc`.
  static bool WriteRtpHeader(rtc::ByteWriter& w, bool twcc, bool padding, bool marker, uint8_t pt,
                             uint16_t seq, uint32_t ts, uint32_t ssrc, const TransportEntry& e) {
    const auto first = static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | (twcc ? 0x10 : 0));
    bool ok = w.WriteU8(first) && w.WriteU8(static_cast<uint8_t>((marker ? 0x80 : 0) | pt)) &&
              w.WriteU16(seq) && w.WriteU32(ts) && w.WriteU32(ssrc);
    if (ok && twcc) {
      ok = w.WriteU16(0xBEDE) && w.WriteU16(1) &&
           w.WriteU8(static_cast<uint8_t>((e.send_twcc_id << 4) | 1)) && w.WriteU16(e.send_tseq) &&
           w.WriteU8(0);
    }
    return ok;
  }

  // Probe padding (docs/MEDIA.md): `bytes` worth of padding-only packets on
  // the RTX SSRC of one of the transport's connected video consumers.
  void SendProbePadding(TransportEntry& e, size_t bytes) {
    Consumer* carrier = nullptr;
    for (Consumer* c : e.consumers) {
      if (c->padding_pt != ConsumerParams::kNoPayloadType && c->rewriter.started()) {
        carrier = c;
        break;
      }
    }
    if (carrier == nullptr || e.transport->state() != TransportState::kConnected) return;
    Consumer& c = *carrier;
    for (size_t n = 0; bytes > 0 && n < kMaxPaddingPerTick; ++n) {
      const uint16_t seq = c.rtx_next_seq++;
      size_t wire = 0;  // what this packet takes on the wire; 0: not sent
      c.transport->SendRtp([&](std::span<uint8_t> out) -> size_t {
        rtc::ByteWriter w(out);
        bool ok = WriteRtpHeader(w, /*twcc=*/true, /*padding=*/true, false, c.padding_pt, seq,
                                 c.rewriter.last_ts(), c.params.rtx_ssrc, e);
        for (size_t i = 1; ok && i < kPaddingBytes; ++i) ok = w.WriteU8(0);
        ok = ok && w.WriteU8(static_cast<uint8_t>(kPaddingBytes));
        if (!ok) return 0;
        wire = w.size() + kWireOverhead;
        e.bwe->OnPacketSent(e.send_tseq++, wire, NowUs());
        return w.size();
      });
      if (wire == 0) break;
      bytes -= std::min(bytes, wire);
    }
  }

  // ---- Simulcast ----

  // One Producer per rid (lowest first), sharing the parent's parameters.
  // `e`: the publishing transport (null for a relayed producer).
  void AddLayers(TransportEntry* e, Producer& p) {
    const size_t n = std::min(p.params.rids.size(), Worker::kMaxLayers);
    for (size_t i = 0; i < n; ++i) {
      auto layer = std::make_unique<Producer>();
      layer->params = p.params;
      layer->params.ssrc = 0;
      layer->params.rtx_ssrc = 0;
      layer->params.rids.clear();
      layer->transport = p.transport;
      layer->parent = &p;
      layer->layer = static_cast<int>(i);
      layer->history = std::make_unique<PacketHistory>();
      if (e != nullptr) e->producers.push_back(layer.get());
      p.layers.push_back(std::move(layer));
    }
  }

  // The layer a packet's RID (or, on RTX, repaired RID) names (RFC 8852).
  static Producer* LayerByRid(Producer& top, const rtc::RtpPacket& packet) {
    std::optional<std::string_view> rid;
    if (top.params.rid_extension_id != 0) rid = packet.GetRid(top.params.rid_extension_id);
    if (!rid && top.params.repaired_rid_extension_id != 0) {
      rid = packet.GetRid(top.params.repaired_rid_extension_id);
    }
    if (!rid) return nullptr;
    for (size_t i = 0; i < top.layers.size(); ++i) {
      if (top.params.rids[i] == *rid) return top.layers[i].get();
    }
    return nullptr;
  }

  // The stream a consumer currently receives; null when a simulcast consumer
  // has none yet.
  static Producer* StreamOf(Producer& top, int layer) {
    if (top.layers.empty()) return &top;
    if (layer < 0 || static_cast<size_t>(layer) >= top.layers.size()) return nullptr;
    return top.layers[static_cast<size_t>(layer)].get();
  }

  static rtc::VideoCodec CodecOf(const Producer& top, uint8_t payload_type) {
    for (const ProducerParams::VideoCodecInfo& v : top.params.video_codecs) {
      if (v.payload_type == payload_type) return v.codec;
    }
    return rtc::VideoCodec::kUnknown;
  }

  static void UpdateStreamRate(Producer& p, size_t bytes, int64_t now_ms) {
    p.last_packet_ms = now_ms;
    p.rate_window_bytes += bytes;
    const int64_t elapsed = now_ms - p.rate_window_start_ms;
    if (elapsed >= kLayerRateWindowMs) {
      p.bitrate_bps = p.rate_window_bytes * 8 * 1000 / static_cast<uint64_t>(elapsed);
      p.rate_window_bytes = 0;
      p.rate_window_start_ms = now_ms;
    }
  }

  // The layer a consumer should receive: its preference (auto: the highest,
  // capped for a while when the layer being sent exceeds the subscriber's
  // REMB; docs/MEDIA.md), moved to the nearest layer the publisher sends.
  int ChooseLayer(Consumer& c, int64_t now_ms) {
    const Producer& top = *c.producer;
    if (top.layers.empty()) return 0;
    const int n = static_cast<int>(top.layers.size());
    const auto active = [&](int i) {
      return now_ms - top.layers[static_cast<size_t>(i)]->last_packet_ms < kLayerActiveMs;
    };
    int want = n - 1;
    if (c.preferred_layer != Worker::kLayerAuto) {
      want = std::min(c.preferred_layer, n - 1);
    } else if (c.alloc_layer >= 0) {
      return c.alloc_layer;  // the downlink estimator's share (AllocateDownlink)
    } else {
      const TransportEntry* e = Find(c.params.transport_id);
      const bool remb = e != nullptr && e->remb_bps > 0 && now_ms - e->remb_ms < kRembValidMs;
      // The layer being sent does not fit the subscriber's estimate: cap at
      // the highest layer that does.
      if (remb && now_ms >= c.remb_grace_until_ms && c.current_layer > 0 &&
          top.layers[static_cast<size_t>(c.current_layer)]->bitrate_bps > e->remb_bps) {
        c.auto_cap = 0;
        for (int i = 1; i < c.current_layer; ++i) {
          if (active(i) && top.layers[static_cast<size_t>(i)]->bitrate_bps <= e->remb_bps) {
            c.auto_cap = i;
          }
        }
        c.auto_cap_until_ms = now_ms + kAutoCapHoldMs;
      }
      if (now_ms < c.auto_cap_until_ms) want = std::min(want, c.auto_cap);
    }
    for (int i = want; i >= 0; --i) {
      if (active(i)) return i;
    }
    for (int i = want + 1; i < n; ++i) {
      if (active(i)) return i;
    }
    return want;  // nothing received yet: wait for it
  }

  // Re-chooses the target; while it differs from what is forwarded, asks for
  // its keyframe (throttled per layer, so requests of many subscribers merge).
  void UpdateConsumerLayer(Consumer& c, int64_t now_ms) {
    if (c.producer->layers.empty() || c.paused) return;
    c.target_layer = ChooseLayer(c, now_ms);
    // (Until the subscriber is connected its keyframe would be lost; the
    // transport's kConnected asks for one then.)
    if (c.target_layer != c.current_layer && c.transport->state() == TransportState::kConnected) {
      RequestConsumerKeyFrame(c, now_ms, /*force=*/false);
    }
  }

  void UpdateConsumerLayers(int64_t now_ms) {
    for (auto& [id, c] : consumers_) UpdateConsumerLayer(*c, now_ms);
  }

  // ---- Downlink estimation and allocation (docs/MEDIA.md) ----

  void OnDownlinkFeedback(TransportEntry& e, const rtc::TransportCcFeedback& fb) {
    DownlinkEstimator& bwe = *e.bwe;
    const uint32_t ok = bwe.probes_succeeded();
    const uint32_t failed = bwe.probes_failed();
    bwe.OnFeedback(fb, NowUs());
    if (bwe.probes_succeeded() == ok && bwe.probes_failed() == failed) return;
    owner_.counters_.probes_ok.fetch_add(bwe.probes_succeeded() - ok, std::memory_order_relaxed);
    owner_.counters_.probes_failed.fetch_add(bwe.probes_failed() - failed,
                                             std::memory_order_relaxed);
    const DownlinkEstimator::ProbeResult& r = bwe.last_probe();
    if (bwe.probes_succeeded() != ok) EndRaiseHolds(e, std::min(r.send_bps, r.recv_bps));
    if (!DebugLogging()) return;
    LogDebug(kTag, "downlink probe",
             {{"result", bwe.probes_succeeded() != ok ? "ok" : "failed"},
              {"target_kbps", std::to_string(r.target_bps / 1000)},
              {"sent_kbps", std::to_string(r.send_bps / 1000)},
              {"received_kbps", std::to_string(r.recv_bps / 1000)},
              {"loss_pct", std::to_string(static_cast<int>(r.loss * 100))},
              {"max_queue_ms", std::to_string(r.max_queue_us / 1000)},
              {"estimate_kbps", std::to_string(bwe.estimate_bps() / 1000)}});
  }

  // A probe proved `proven_bps`: when that covers what the consumers want,
  // their held layers may be entered again (RaiseGuard).
  static void EndRaiseHolds(TransportEntry& e, uint64_t proven_bps) {
    for (Consumer* c : e.consumers) c->raise_guard.OnProbeSucceeded(proven_bps, e.bwe_desired_bps);
  }

  // Every tick, for each subscriber with an estimate: what audio and fixed
  // (explicitly chosen, or single-stream) video take comes first; the rest
  // is shared between its `auto` simulcast consumers by priority. A probe
  // starts when they would take more than the estimate.
  void AllocateDownlink(TransportEntry& e, int64_t now_ms) {
    DownlinkEstimator& bwe = *e.bwe;
    const int64_t now_us = NowUs();
    std::array<LayerDemand, kMaxAllocated> demands{};
    std::array<Consumer*, kMaxAllocated> ranked{};
    std::array<int, kMaxAllocated> layers{};
    size_t n = 0;
    uint64_t fixed_bps = 0;
    for (Consumer* c : e.consumers) {
      if (c->paused) continue;
      Producer& top = *c->producer;
      if (top.params.paused) continue;
      const bool simulcast = !top.layers.empty();
      if (!simulcast || c->preferred_layer != Worker::kLayerAuto || n == kMaxAllocated) {
        const Producer* stream = StreamOf(top, simulcast ? std::max(c->current_layer, 0) : 0);
        if (stream != nullptr) fixed_bps += stream->bitrate_bps;
        c->alloc_layer = -1;
        continue;
      }
      LayerDemand& d = demands[n];
      d.priority = top.params.priority;
      d.max_layer = static_cast<int>(top.layers.size()) - 1;
      d.current_layer = c->current_layer;
      d.raise_limit = c->raise_guard.Limit(now_ms);
      d.layer_count = top.layers.size();
      for (size_t i = 0; i < top.layers.size(); ++i) {
        const Producer& layer = *top.layers[i];
        // A layer sending but not yet measured counts as nearly free.
        d.layer_bps[i] = now_ms - layer.last_packet_ms >= kLayerActiveMs ? 0
                         : layer.bitrate_bps == 0                        ? 1
                                                                         : layer.bitrate_bps;
      }
      ranked[n++] = c;
    }
    if (!bwe.has_feedback()) {
      for (size_t i = 0; i < n; ++i) ranked[i]->alloc_layer = -1;  // too early: as before
      return;
    }
    const uint64_t estimate = bwe.estimate_bps();
    const uint64_t budget = estimate > fixed_bps ? estimate - fixed_bps : 0;
    const AllocationResult r =
        AllocateLayers(std::span(demands.data(), n), budget, std::span(layers.data(), n));
    for (size_t i = 0; i < n; ++i) {
      Consumer& c = *ranked[i];
      const LayerDemand& d = demands[i];
      if (c.alloc_layer != layers[i] && layers[i] >= 0 && DebugLogging()) {
        LogDebug(kTag, "downlink allocation",
                 {{"consumer", std::to_string(c.params.consumer_id)},
                  {"layer", std::to_string(layers[i])},
                  {"raise_limit", std::to_string(d.raise_limit)},
                  {"estimate_kbps", std::to_string(estimate / 1000)},
                  {"queue_ms", std::to_string(bwe.queue_delay_us() / 1000)},
                  {"loss_pct", std::to_string(static_cast<int>(bwe.loss() * 100))}});
      }
      // (A drop from a layer still sent holds the layers above back.)
      const int from = c.alloc_layer;
      const bool from_sent = from >= 0 && static_cast<size_t>(from) < d.layer_count &&
                             d.layer_bps[static_cast<size_t>(from)] > 0;
      c.raise_guard.OnAllocated(from, layers[i], from_sent, now_ms);
      c.alloc_layer = layers[i];
    }
    e.bwe_desired_bps = r.desired_bps + fixed_bps;
    if (DebugLogging() && now_ms - e.bwe_logged_ms >= kDownlinkLogIntervalMs) {
      e.bwe_logged_ms = now_ms;
      LogDebug(kTag, "downlink state",
               {{"transport", std::to_string(e.transport->id())},
                {"estimate_kbps", std::to_string(estimate / 1000)},
                {"received_kbps", std::to_string(bwe.received_bps() / 1000)},
                {"fixed_kbps", std::to_string(fixed_bps / 1000)},
                {"desired_kbps", std::to_string(r.desired_bps / 1000)},
                {"allocated_kbps", std::to_string(r.allocated_bps / 1000)},
                {"queue_ms", std::to_string(bwe.queue_delay_us() / 1000)},
                {"loss_pct", std::to_string(static_cast<int>(bwe.loss() * 100))},
                {"probing", bwe.probing() ? "yes" : "no"}});
    }
    // Probe only when a consumer could get a better layer than it has.
    if (r.desired_bps > r.allocated_bps) bwe.SetDesired(r.desired_bps + fixed_bps, now_us);
    if (const size_t padding = bwe.ProbePaddingDue(now_us); padding > 0) {
      SendProbePadding(e, padding);
    }
  }

  // Keyframe of what the consumer needs: its target layer, or the producer.
  void RequestConsumerKeyFrame(Consumer& c, int64_t now_ms, bool force) {
    Producer* stream = StreamOf(*c.producer, c.producer->layers.empty() ? 0 : c.target_layer);
    if (stream != nullptr) RequestKeyFrame(*stream, now_ms, force);
  }

  // The consumer's source restarts (resume): continue its lines without a
  // gap; a simulcast consumer waits for its target layer's keyframe.
  static void RestartConsumer(Consumer& c) {
    c.rewriter.Resync();
    if (!c.producer->layers.empty()) c.current_layer = -1;
  }

  static uint8_t RtxApt(const Producer& p, uint8_t payload_type) {
    for (const ProducerParams::RtxCodec& r : p.params.rtx_codecs) {
      if (r.payload_type == payload_type) return r.apt;
    }
    return ConsumerParams::kNoPayloadType;
  }

  // A subscriber's generic NACK (RFC 4585 §6.2.1) in its own sequence
  // space: answered from the producer's history, over RTX when negotiated.
  void OnNack(TransportEntry& e, const rtc::GenericNack& nack, int64_t now_ms) {
    auto it = e.consumers_by_ssrc.find(nack.media_ssrc());
    if (it == e.consumers_by_ssrc.end()) return;
    Consumer& c = *it->second;
    Producer* stream = StreamOf(*c.producer, c.current_layer);
    if (stream == nullptr) return;
    Producer& p = *stream;
    if (!p.history || !c.rewriter.synced() || c.transport->state() != TransportState::kConnected) {
      return;
    }
    size_t budget = kMaxRepairsPerNack;
    nack.ForEachLost([&](uint16_t out_seq) {
      owner_.counters_.nack_in.fetch_add(1, std::memory_order_relaxed);
      // Only what was sent with the current offsets maps back to the source.
      const auto mapped = c.rewriter.SourceSeq(out_seq);
      if (budget == 0 || !mapped) return;
      const uint16_t source_seq = *mapped;
      auto stored = rtc::RtpPacket::Parse(p.history->Get(source_seq, now_ms));
      if (!stored.ok() || stored->sequence_number() != source_seq) return;
      const uint8_t pt = stored->payload_type();
      const uint8_t out_pt = c.params.payload_map[pt];
      if (out_pt == ConsumerParams::kNoPayloadType) return;
      --budget;
      const uint32_t out_ts = stored->timestamp() + c.rewriter.ts_offset();
      const uint8_t rtx_pt = c.params.rtx_payload_map[out_pt];
      const bool vp8 = CodecOf(*c.producer, pt) == rtc::VideoCodec::kVp8;
      if (c.params.rtx_ssrc != 0 && rtx_pt != ConsumerParams::kNoPayloadType) {
        SendRtpTo(c, stored->marker(), rtx_pt, c.rtx_next_seq++, out_ts, c.params.rtx_ssrc, out_seq,
                  stored->payload(), vp8);
      } else {
        SendRtpTo(c, stored->marker(), out_pt, out_seq, out_ts, c.params.ssrc, std::nullopt,
                  stored->payload(), vp8);
      }
      owner_.counters_.retransmitted.fetch_add(1, std::memory_order_relaxed);
    });
  }

  // Asks each publisher for the packets its NackGenerator says are due.
  void SendPublisherNacks(int64_t now_ms) {
    for (auto& [id, top] : producers_) {
      if (top->layers.empty()) {
        SendPublisherNack(*top, now_ms);
      } else {
        for (auto& layer : top->layers) SendPublisherNack(*layer, now_ms);
      }
    }
  }

  // One stream (a producer or a simulcast layer): its due NACK, if any, to
  // the publisher, or for a relayed copy to the source worker (kNack).
  void SendPublisherNack(Producer& p, int64_t now_ms) {
    const Producer& top = p.parent != nullptr ? *p.parent : p;
    if (p.nack.missing() == 0) return;
    if (!top.relayed && (!p.params.nack || p.params.ssrc == 0 ||
                         p.transport->state() != TransportState::kConnected)) {
      return;
    }
    std::array<uint16_t, kMaxNackSeqsPerTick> lost{};
    const size_t n = p.nack.CollectDue(now_ms, lost);
    if (n == 0) return;
    if (top.relayed) {
      std::array<uint8_t, sizeof(lost)> bytes{};
      std::memcpy(bytes.data(), lost.data(), n * sizeof(uint16_t));
      PushRelay(top.source_worker, RelayMessage::Type::kNack, top.source_producer_id, p.layer,
                false, now_ms, std::span(bytes.data(), n * sizeof(uint16_t)));
      return;
    }
    TransportEntry* e = Find(p.params.transport_id);
    if (e == nullptr) return;
    const uint32_t sender = e->rtcp_ssrc;
    const uint32_t media = p.params.ssrc;
    p.transport->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
      rtc::ByteWriter w(buf);
      return rtc::WriteGenericNack(w, sender, media, std::span(lost.data(), n)).ok() ? w.size() : 0;
    });
    owner_.counters_.nack_out.fetch_add(n, std::memory_order_relaxed);
  }

  // Transport-cc feedback for what each publishing transport received.
  void SendTransportFeedback() {
    for (auto& [id, e] : transports_) {
      if (!e.twcc.pending() || e.producers.empty()) continue;
      if (e.transport->state() != TransportState::kConnected) continue;
      WebRtcTransport& transport = *e.transport;
      e.twcc.Flush(e.rtcp_ssrc, e.producers.front()->params.ssrc,
                   [&transport](const rtc::TransportCcFeedbackBuilder& b) {
                     transport.SendRtcp([&b](std::span<uint8_t> buf) -> size_t {
                       rtc::ByteWriter w(buf);
                       return b.Write(w).ok() ? w.size() : 0;
                     });
                   });
    }
  }

  // Every kAudioLevelIntervalMs: the producers above the silence threshold.
  void ReportAudioLevels() {
    levels_.clear();
    for (auto& [id, p] : producers_) {
      if (p->level_count == 0) continue;
      const uint32_t dbov = p->level_sum / p->level_count;
      p->level_sum = 0;
      p->level_count = 0;
      if (p->params.paused) continue;
      const auto volume = static_cast<uint8_t>((127 - std::min<uint32_t>(dbov, 127)) * 100 / 127);
      if (volume >= Worker::kSilenceVolume) levels_.push_back(AudioLevel{id, volume});
    }
    if (!levels_.empty() && listener_ != nullptr) {
      listener_->OnAudioLevels(owner_.index(), levels_);
    }
  }

  void OnSenderReport(TransportEntry& e, const rtc::SenderInfo& info, int64_t now_ms) {
    auto it = e.producers_by_ssrc.find(info.ssrc);
    if (it == e.producers_by_ssrc.end() || it->second->params.ssrc != info.ssrc) return;
    Producer& p = *it->second;
    p.last_sr_ntp_middle = static_cast<uint32_t>(info.ntp_timestamp >> 16);
    p.last_sr_ms = now_ms;
    const Producer& top = p.parent != nullptr ? *p.parent : p;
    for (const Producer::Relay& r : top.relays) {
      PushRelay(r.worker, RelayMessage::Type::kSenderReport, r.relay_id, p.layer, false, now_ms,
                std::span(reinterpret_cast<const uint8_t*>(&info), sizeof(info)));
    }
    TranslateSenderReport(top, p.layer, info);
  }

  // Sends `info` (from the publisher of `top`'s stream `layer`) to each
  // subscriber: its SSRC, its timestamp line, its counts.
  static void TranslateSenderReport(const Producer& top, int layer, const rtc::SenderInfo& info) {
    for (Consumer* c : top.consumers) {
      if (!c->rewriter.synced()) continue;
      if (!top.layers.empty() && c->current_layer != layer) continue;
      rtc::SenderInfo out = info;
      out.ssrc = c->params.ssrc;
      out.rtp_timestamp = info.rtp_timestamp + c->rewriter.ts_offset();
      out.packet_count = c->packets;
      out.octet_count = c->octets;
      c->transport->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
        rtc::ByteWriter w(buf);
        return rtc::WriteSenderReport(w, out, {}).ok() ? w.size() : 0;
      });
    }
  }

  void OnKeyFrameRequest(TransportEntry& e, uint32_t media_ssrc, int64_t now_ms) {
    auto it = e.consumers_by_ssrc.find(media_ssrc);
    if (it == e.consumers_by_ssrc.end()) return;
    RequestConsumerKeyFrame(*it->second, now_ms, /*force=*/false);
  }

  void RequestKeyFrame(Producer& p, int64_t now_ms, bool force) {
    const Producer& top = p.parent != nullptr ? *p.parent : p;
    if (top.relayed && p.params.kind == MediaKind::kVideo) {
      // The publisher is on the source worker, which throttles again.
      if (!force && now_ms - p.last_pli_ms < kPliIntervalMs) return;
      p.last_pli_ms = now_ms;
      PushRelay(top.source_worker, RelayMessage::Type::kKeyFrameRequest, top.source_producer_id,
                p.layer, force, now_ms, {});
      return;
    }
    if (p.params.kind != MediaKind::kVideo || p.params.ssrc == 0) return;
    if (!force && now_ms - p.last_pli_ms < kPliIntervalMs) return;
    TransportEntry* e = Find(p.params.transport_id);
    if (e == nullptr) return;
    p.last_pli_ms = now_ms;
    const uint32_t sender = e->rtcp_ssrc;
    p.transport->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
      rtc::ByteWriter w(buf);
      return rtc::WritePli(w, sender, p.params.ssrc).ok() ? w.size() : 0;
    });
  }

  // RFC 3550 §6.4.2 receiver reports to each publisher (loss, LSR/DLSR so
  // the publisher can compute its RTT).
  void SendReceiverReports(int64_t now_ms) {
    for (auto& [id, e] : transports_) {
      if (e.producers.empty() || e.transport->state() != TransportState::kConnected) continue;
      std::array<rtc::ReportBlock, 16> blocks{};
      size_t n = 0;
      for (Producer* p : e.producers) {
        if (!p->seen || n == blocks.size()) continue;
        rtc::ReportBlock& b = blocks[n++];
        const uint32_t ext_max = p->cycles + p->max_seq;
        const uint64_t expected = uint64_t{ext_max} - p->base_seq + 1;
        const int64_t lost = static_cast<int64_t>(expected) - static_cast<int64_t>(p->received);
        const uint64_t expected_interval = expected - p->expected_prior;
        const uint64_t received_interval = p->received - p->received_prior;
        p->expected_prior = expected;
        p->received_prior = p->received;
        const int64_t lost_interval =
            static_cast<int64_t>(expected_interval) - static_cast<int64_t>(received_interval);
        b.ssrc = p->params.ssrc;
        b.fraction_lost = expected_interval == 0 || lost_interval <= 0
                              ? 0
                              : static_cast<uint8_t>((lost_interval << 8) /
                                                     static_cast<int64_t>(expected_interval));
        b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
        b.extended_highest_sequence = ext_max;
        b.last_sr = p->last_sr_ntp_middle;
        b.delay_since_last_sr =
            p->last_sr_ms == 0 ? 0 : static_cast<uint32_t>((now_ms - p->last_sr_ms) * 65536 / 1000);
      }
      if (n == 0) continue;
      const uint32_t sender = e.rtcp_ssrc;
      e.transport->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
        rtc::ByteWriter w(buf);
        return rtc::WriteReceiverReport(w, sender, std::span(blocks.data(), n)).ok() ? w.size() : 0;
      });
    }
  }

  void ArmRead() {
    descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                             if (ec) return;
                             OnReadable();
                             ArmRead();
                           });
  }

  void OnReadable() {
    const int64_t now = NowMs();
    // Bounded: at most 8 batches per wakeup so timers and posts get a turn.
    for (int round = 0; round < 8; ++round) {
      const size_t n = socket_->Receive();
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) HandleDatagram(socket_->received(i), socket_->sender(i), now);
      if (n < UdpSocket::kBatch) break;
    }
    FlushOut();
  }

  // Sends the queued datagrams and wakes the workers this one relayed more
  // to after their early wake (PushRelay); at most two eventfd writes per
  // target and flush.
  void FlushOut() {
    socket_->Flush();
    const UdpSocket::Stats& s = socket_->stats();
    owner_.counters_.udp_sent.store(s.sent, std::memory_order_relaxed);
    owner_.counters_.udp_send_syscalls.store(s.send_syscalls, std::memory_order_relaxed);
    owner_.counters_.udp_gso_segments.store(s.gso_segments, std::memory_order_relaxed);
    owner_.counters_.udp_send_dropped.store(s.send_dropped, std::memory_order_relaxed);
    for (size_t i = 0; i < wake_pending_.size(); ++i) {
      if (!pending_control_[i].empty()) RetryPendingControl(i, NowMs());
      if (wake_pending_[i] == kPushedSinceWake) outbound_[i]->wake->Signal();
      wake_pending_[i] = kNotWoken;
    }
  }

 public:
  // ---- Fan-out across workers ----

  void SetPeers(std::vector<Worker*> peers, std::vector<std::shared_ptr<RelayLink>> inbound,
                std::vector<std::shared_ptr<RelayLink>> outbound) {
    peers_ = std::move(peers);
    inbound_ = std::move(inbound);
    outbound_ = std::move(outbound);
    wake_pending_.assign(outbound_.size(), kNotWoken);
    pending_control_.assign(outbound_.size(), {});
    for (auto& pending : pending_control_) pending.reserve(kMaxPendingControl);
    wake_->Signal();  // anything queued before the rings were known here
  }

  void AddRelay(uint64_t producer_id, size_t target, uint64_t relay_id) {
    auto it = producers_.find(producer_id);
    if (it == producers_.end() || it->second->relayed || target >= outbound_.size() ||
        !outbound_[target]) {
      return;
    }
    std::vector<Producer::Relay>& relays = it->second->relays;
    std::erase_if(relays, [target](const Producer::Relay& r) { return r.worker == target; });
    relays.push_back(Producer::Relay{target, relay_id});
  }

  void RemoveRelay(uint64_t producer_id, size_t target) {
    auto it = producers_.find(producer_id);
    if (it == producers_.end()) return;
    std::erase_if(it->second->relays,
                  [target](const Producer::Relay& r) { return r.worker == target; });
  }

  void AddRelayedProducer(ProducerParams params, size_t source, uint64_t source_producer_id) {
    if (producers_.contains(params.producer_id) || source == owner_.index()) return;
    auto p = std::make_unique<Producer>();
    p->params = std::move(params);
    // What a transport does stays on the source worker.
    p->params.transport_id = 0;
    p->params.nack = false;
    p->params.transport_cc_extension_id = 0;
    p->params.audio_level_extension_id = 0;
    p->relayed = true;
    p->source_worker = source;
    p->source_producer_id = source_producer_id;
    if (p->params.kind == MediaKind::kVideo && !p->params.rids.empty()) {
      AddLayers(nullptr, *p);
    } else if (p->params.kind == MediaKind::kVideo) {
      p->history = std::make_unique<PacketHistory>();
    }
    producers_.emplace(p->params.producer_id, std::move(p));
    owner_.counters_.producers.store(producers_.size(), std::memory_order_relaxed);
  }

  // Queues one message for worker `target`; returns whether it is in the
  // ring. A full ring drops it (counted), except a source change or a resume
  // (`MustArrive`): those wait in pending_control_ and go first once the ring
  // has room (RetryPendingControl, at each flush), and until then the
  // target's other messages are dropped, so none overtakes them (a dropped
  // packet is repaired: kNack).
  bool PushRelay(size_t target, RelayMessage::Type type, uint64_t producer_id, int layer,
                 bool force, int64_t now_ms, std::span<const uint8_t> bytes) {
    if (target >= outbound_.size() || !outbound_[target]) return false;
    if ((pending_control_[target].empty() || RetryPendingControl(target, now_ms)) &&
        TryPushRelay(target, type, producer_id, layer, force, now_ms, bytes)) {
      return true;
    }
    if (MustArrive(type)) {
      std::vector<PendingControl>& pending = pending_control_[target];
      const PendingControl c{type, static_cast<uint8_t>(layer), producer_id};
      if (std::ranges::find(pending, c) != pending.end()) return false;  // once is enough
      if (pending.size() < kMaxPendingControl) {
        pending.push_back(c);  // within the capacity reserved in SetPeers
        return false;
      }
    }
    owner_.counters_.relay_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  static bool MustArrive(RelayMessage::Type type) {
    return type == RelayMessage::Type::kResync || type == RelayMessage::Type::kRestart;
  }

  // Moves what waits for `target` into its ring, in order, while there is
  // room; returns whether nothing waits any more.
  bool RetryPendingControl(size_t target, int64_t now_ms) {
    std::vector<PendingControl>& pending = pending_control_[target];
    size_t sent = 0;
    while (sent < pending.size() &&
           TryPushRelay(target, pending[sent].type, pending[sent].producer_id, pending[sent].layer,
                        false, now_ms, {})) {
      ++sent;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(sent));
    return pending.empty();
  }

  // One message into `target`'s ring, if it has room.
  bool TryPushRelay(size_t target, RelayMessage::Type type, uint64_t producer_id, int layer,
                    bool force, int64_t now_ms, std::span<const uint8_t> bytes) {
    RelayMessage* m = outbound_[target]->ring.TryBeginPush();
    if (m == nullptr || bytes.size() > m->bytes.size()) return false;
    m->type = type;
    m->layer = static_cast<uint8_t>(layer);
    m->force = force;
    m->length = static_cast<uint16_t>(bytes.size());
    m->producer_id = producer_id;
    m->receive_ms = now_ms;
    if (!bytes.empty()) std::memcpy(m->bytes.data(), bytes.data(), bytes.size());
    outbound_[target]->ring.CommitPush();
    // The first message since the last wake wakes the target at once, so it
    // fans its share out while this worker does its own (waking it only at
    // the flush, after this worker's whole fan-out, made the two serial).
    // Later ones are picked up by the target's drain loop or woken at the flush.
    if (wake_pending_[target] == kNotWoken) {
      outbound_[target]->wake->Signal();
      wake_pending_[target] = kWokenEarly;
    } else {
      wake_pending_[target] = kPushedSinceWake;
    }
    owner_.counters_.relay_out.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void ArmRelayWait() {
    if (!wake_descriptor_.is_open()) return;
    wake_descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                                [this](const boost::system::error_code& ec) {
                                  if (ec) return;
                                  OnRelayReadable();
                                  ArmRelayWait();
                                });
  }

  void OnRelayReadable() {
    // Reset before reading the rings: a push after this wakes again.
    wake_->Drain();
    const int64_t now = NowMs();
    bool more = false;
    for (size_t from = 0; from < inbound_.size(); ++from) {
      const std::shared_ptr<RelayLink>& link = inbound_[from];
      if (!link) continue;
      for (size_t i = 0; i < kMaxRelayBatch; ++i) {
        RelayMessage* m = link->ring.Front();
        if (m == nullptr) break;
        HandleRelayMessage(*m, from, now);
        link->ring.Pop();
      }
      if (link->ring.Front() != nullptr) more = true;
    }
    if (more) wake_->Signal();  // the rest after the socket and timers had a turn
    FlushOut();
  }

  // Answers a relayed copy's kNack from `stream`'s history: each packet
  // still there goes through the ring again, as the original did.
  void ResendToRelay(const Producer& top, Producer& stream, size_t from_worker,
                     const RelayMessage& m, int64_t now_ms) {
    if (!stream.history || top.params.paused) return;  // nothing of a muted producer
    const auto relay = std::ranges::find_if(
        top.relays, [from_worker](const Producer::Relay& r) { return r.worker == from_worker; });
    if (relay == top.relays.end()) return;  // that worker's copy went meanwhile
    for (size_t i = 0; i + sizeof(uint16_t) <= m.length; i += sizeof(uint16_t)) {
      uint16_t seq = 0;
      std::memcpy(&seq, m.bytes.data() + i, sizeof(seq));  // same process: copied as is
      const std::span<uint8_t> stored = stream.history->Get(seq, now_ms);
      auto packet = rtc::RtpPacket::Parse(stored);
      if (!packet.ok() || packet->sequence_number() != seq) continue;
      if (PushRelay(relay->worker, RelayMessage::Type::kRtp, relay->relay_id, stream.layer, false,
                    now_ms, stored)) {
        owner_.counters_.relay_repaired.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  void HandleRelayMessage(RelayMessage& m, size_t from_worker, int64_t now_ms) {
    auto it = producers_.find(m.producer_id);
    if (it == producers_.end()) return;  // removed meanwhile
    Producer& top = *it->second;
    Producer* stream = StreamOf(top, top.layers.empty() ? 0 : m.layer);
    if (stream == nullptr) return;
    switch (m.type) {
      case RelayMessage::Type::kRtp: {
        if (!top.relayed) return;
        auto packet = rtc::RtpPacket::Parse(std::span(m.bytes.data(), m.length));
        if (!packet.ok()) return;
        owner_.counters_.relay_in.fetch_add(1, std::memory_order_relaxed);
        // The ring itself loses nothing but what a full ring dropped: gaps
        // are asked for again from the source's history (SendPublisherNack).
        if (stream->history && stream->nack.OnPacket(packet->sequence_number(), now_ms) ==
                                   NackGenerator::Arrival::kReset) {
          RequestKeyFrame(*stream, now_ms, /*force=*/false);  // too much lost to repair
        }
        // The same path a local packet takes after the SSRC lookup (this
        // worker's history answers its subscribers' NACKs).
        Distribute(*stream, *packet, m.receive_ms, now_ms);
        return;
      }
      case RelayMessage::Type::kKeyFrameRequest:
        if (!top.relayed) RequestKeyFrame(*stream, now_ms, m.force);
        return;
      case RelayMessage::Type::kNack:
        if (!top.relayed) ResendToRelay(top, *stream, from_worker, m, now_ms);
        return;
      case RelayMessage::Type::kResync:
        if (!top.relayed) return;
        ResyncStream(top, *stream);
        stream->nack.Reset();
        return;
      case RelayMessage::Type::kRestart:
        if (!top.relayed) return;
        for (Consumer* c : top.consumers) RestartConsumer(*c);
        // What the source did not relay while paused is not missing.
        top.nack.Reset();
        for (auto& layer : top.layers) layer->nack.Reset();
        return;
      case RelayMessage::Type::kSenderReport: {
        rtc::SenderInfo info;
        if (!top.relayed || m.length != sizeof(info)) return;
        std::memcpy(&info, m.bytes.data(), sizeof(info));  // same process: copied as is
        TranslateSenderReport(top, stream->layer, info);
        return;
      }
    }
  }

 private:
  // ---- TcpServer::Listener ----

  void OnTcpFrame(std::span<uint8_t> frame, const rtc::Tuple& from) override {
    HandleDatagram(frame, from, NowMs());
  }

  void OnTcpReadDone() override { FlushOut(); }

  void OnTcpClosed(const rtc::Tuple& tuple) override {
    auto it = by_tuple_.find(tuple);
    if (it == by_tuple_.end()) return;
    if (TransportEntry* e = Find(it->second)) {
      std::erase(e->tuples, tuple);
      e->transport->RemoveTuple(tuple);
    }
    by_tuple_.erase(tuple);
  }

  void HandleDatagram(std::span<uint8_t> data, const rtc::Tuple& from, int64_t now_ms) {
    const rtc::PacketKind kind = rtc::Classify(data);
    if (kind == rtc::PacketKind::kDrop) {
      owner_.counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (kind == rtc::PacketKind::kRtp)
      owner_.counters_.rtp_in.fetch_add(1, std::memory_order_relaxed);
    uint64_t id = 0;
    if (auto it = by_tuple_.find(from); it != by_tuple_.end()) {
      id = it->second;
    } else if (kind == rtc::PacketKind::kStun) {
      // A check from a new tuple: find the transport by our ufrag in USERNAME.
      auto msg = rtc::StunMessage::Parse(data);
      const auto username = msg.ok() ? msg->username() : std::nullopt;
      auto u = username ? by_ufrag_.find(std::string(LocalUfragOf(*username))) : by_ufrag_.end();
      if (u == by_ufrag_.end()) {
        owner_.counters_.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      id = u->second;
    } else {
      owner_.counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    TransportEntry* e = Find(id);
    if (e != nullptr) e->transport->ReceiveDatagram(kind, data, from, now_ms);
  }

  void ArmTimer() {
    timer_.expires_after(kTick);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      OnTick();
      ArmTimer();
    });
  }

  void OnTick() {
    const int64_t now = NowMs();
    for (auto& [id, e] : transports_) e.transport->OnTimer(now);
    data_.OnTick(now);
    if (now - last_rr_ms_ >= kReceiverReportIntervalMs) {
      last_rr_ms_ = now;
      SendReceiverReports(now);
    }
    SendPublisherNacks(now);
    for (auto& [id, e] : transports_) {
      if (e.bwe) AllocateDownlink(e, now);
    }
    UpdateConsumerLayers(now);
    if (now - last_twcc_ms_ >= kTwccFeedbackIntervalMs) {
      last_twcc_ms_ = now;
      SendTransportFeedback();
    }
    if (now - last_level_ms_ >= Worker::kAudioLevelIntervalMs) {
      last_level_ms_ = now;
      ReportAudioLevels();
    }
    FlushOut();
  }

  // Passed by argument.
  Worker& owner_;
  Worker::Listener* listener_;
  // Allocated by this.
  DataChannelRouter data_;  // room messages (sends through the transports)
  asio::io_context io_{1};
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<TcpServer> tcp_;  // null: ICE-TCP disabled
  asio::posix::stream_descriptor descriptor_;
  std::shared_ptr<WakeFd> wake_;  // shared with the workers that relay to this one
  asio::posix::stream_descriptor wake_descriptor_;
  asio::steady_timer timer_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unordered_map<uint64_t, TransportEntry> transports_;
  std::unordered_map<std::string, uint64_t> by_ufrag_;
  core::FlatMap<rtc::Tuple, uint64_t, rtc::TupleHash> by_tuple_;  // per datagram
  std::unordered_map<uint64_t, std::unique_ptr<Producer>> producers_;
  std::unordered_map<uint64_t, std::unique_ptr<Consumer>> consumers_;
  int64_t last_rr_ms_ = 0;
  int64_t last_level_ms_ = 0;
  int64_t last_twcc_ms_ = 0;
  std::vector<AudioLevel> levels_;  // reused every level interval
  // Fan-out (ConnectPeers), by worker index; null at this worker's own index.
  std::vector<Worker*> peers_;                        // not owned
  std::vector<std::shared_ptr<RelayLink>> inbound_;   // rings other workers fill
  std::vector<std::shared_ptr<RelayLink>> outbound_;  // rings this worker fills
  // By target: kNotWoken (nothing pushed since the last flush), kWokenEarly
  // (woken at its first push), kPushedSinceWake (more pushed after that).
  static constexpr uint8_t kNotWoken = 0;
  static constexpr uint8_t kWokenEarly = 1;
  static constexpr uint8_t kPushedSinceWake = 2;
  std::vector<uint8_t> wake_pending_;
  // By target: kResync / kRestart messages its full ring refused, oldest
  // first (PushRelay). Each entry once; capacity reserved in SetPeers.
  struct PendingControl {
    RelayMessage::Type type;
    uint8_t layer;
    uint64_t producer_id;
    bool operator==(const PendingControl&) const = default;
  };
  static constexpr size_t kMaxPendingControl = 256;
  std::vector<std::vector<PendingControl>> pending_control_;
};

Result<std::unique_ptr<Worker>> Worker::Start(const WorkerOptions& options, Listener* listener) {
  auto cert = rtc::DtlsCertificate::Generate();
  if (!cert.ok()) return cert.status();
  UdpSocketOptions socket_options;
  socket_options.send_queue = options.send_queue;
  auto socket = UdpSocket::Bind(options.listen_ip, options.port, socket_options);
  if (!socket.ok()) return socket.status();
  std::unique_ptr<Worker> w(
      new Worker(options, std::move(cert).value(), std::move(socket).value(), listener));
  Impl* impl = w->impl_.get();
  if (Status s = impl->OpenWake(); !s.ok()) return s;
  if (options.tcp_enabled) {
    auto tcp_port = impl->ListenTcp(options);
    if (!tcp_port.ok()) return tcp_port.status();
    w->tcp_port_ = *tcp_port;
  }
  w->thread_ = std::thread([impl] { impl->Run(); });
  LogInfo(kTag, "media worker started",
          {{"worker", std::to_string(options.index)},
           {"udp_port", std::to_string(w->port_)},
           {"tcp_port", std::to_string(w->tcp_port_)}});
  return w;
}

Worker::Worker(WorkerOptions options, std::unique_ptr<rtc::DtlsCertificate> certificate,
               std::unique_ptr<UdpSocket> socket, Listener* listener)
    : options_(std::move(options)),
      certificate_(std::move(certificate)),
      port_(socket->port()),
      impl_(std::make_unique<Impl>(*this, std::move(socket), listener)) {}

Worker::~Worker() { Stop(); }

void Worker::Stop() {
  if (!thread_.joinable()) return;
  impl_->Stop();
  thread_.join();
}

void Worker::CreateTransport(uint64_t transport_id, rtc::IceCredentials local_ice) {
  impl_->Post([impl = impl_.get(), transport_id, ice = std::move(local_ice)]() mutable {
    impl->CreateTransport(transport_id, std::move(ice));
  });
}

void Worker::SetRemoteParameters(uint64_t transport_id, std::string ice_ufrag,
                                 std::string fp_algorithm, std::string fp_value) {
  impl_->Post([impl = impl_.get(), transport_id, u = std::move(ice_ufrag),
               a = std::move(fp_algorithm),
               v = std::move(fp_value)] { impl->SetRemote(transport_id, u, a, v); });
}

void Worker::CloseTransport(uint64_t transport_id) {
  impl_->Post([impl = impl_.get(), transport_id] { impl->CloseTransport(transport_id); });
}

void Worker::AddProducer(ProducerParams params) {
  impl_->Post(
      [impl = impl_.get(), p = std::move(params)]() mutable { impl->AddProducer(std::move(p)); });
}

void Worker::SetProducerPaused(uint64_t producer_id, bool paused) {
  impl_->Post(
      [impl = impl_.get(), producer_id, paused] { impl->SetProducerPaused(producer_id, paused); });
}

void Worker::SetProducerPriority(uint64_t producer_id, uint8_t priority) {
  impl_->Post([impl = impl_.get(), producer_id, priority] {
    impl->SetProducerPriority(producer_id, priority);
  });
}

void Worker::SetTransportFeedback(uint64_t transport_id, uint8_t extension_id) {
  impl_->Post([impl = impl_.get(), transport_id, extension_id] {
    impl->SetTransportFeedback(transport_id, extension_id);
  });
}

void Worker::RemoveProducer(uint64_t producer_id) {
  impl_->Post([impl = impl_.get(), producer_id] { impl->RemoveProducer(producer_id); });
}

void Worker::AddConsumer(ConsumerParams params) {
  impl_->Post([impl = impl_.get(), params] { impl->AddConsumer(params); });
}

void Worker::RemoveConsumer(uint64_t consumer_id) {
  impl_->Post([impl = impl_.get(), consumer_id] { impl->RemoveConsumer(consumer_id); });
}

void Worker::SetDataRoute(uint64_t transport_id, std::string room_key, std::string user_id) {
  impl_->Post([impl = impl_.get(), transport_id, r = std::move(room_key), u = std::move(user_id)] {
    impl->SetDataRoute(transport_id, r, u);
  });
}

void Worker::SetConsumerPreferredLayer(uint64_t consumer_id, int layer) {
  impl_->Post([impl = impl_.get(), consumer_id, layer] {
    impl->SetConsumerPreferredLayer(consumer_id, layer);
  });
}

void Worker::SetConsumerPaused(uint64_t consumer_id, bool paused) {
  impl_->Post(
      [impl = impl_.get(), consumer_id, paused] { impl->SetConsumerPaused(consumer_id, paused); });
}

void Worker::Post(std::function<void()> fn) { impl_->Post(std::move(fn)); }

void Worker::ConnectPeers(std::span<Worker* const> workers) {
  const size_t n = workers.size();
  std::vector<std::vector<std::shared_ptr<RelayLink>>> in(n), out(n);
  for (size_t i = 0; i < n; ++i) {
    assert(workers[i]->index() == i);
    in[i].resize(n);
    out[i].resize(n);
  }
  for (size_t from = 0; from < n; ++from) {
    for (size_t to = 0; to < n; ++to) {
      if (from == to) continue;
      auto link = std::make_shared<RelayLink>(workers[to]->options_.relay_ring_slots,
                                              workers[to]->impl_->wake());
      out[from][to] = link;
      in[to][from] = std::move(link);
    }
  }
  std::vector<Worker*> peers(workers.begin(), workers.end());
  for (size_t i = 0; i < n; ++i) {
    workers[i]->impl_->Post([impl = workers[i]->impl_.get(), peers, i_in = std::move(in[i]),
                             i_out = std::move(out[i])]() mutable {
      impl->SetPeers(std::move(peers), std::move(i_in), std::move(i_out));
    });
  }
}

void Worker::AddRelay(uint64_t producer_id, size_t target_worker, uint64_t relay_id) {
  impl_->Post([impl = impl_.get(), producer_id, target_worker, relay_id] {
    impl->AddRelay(producer_id, target_worker, relay_id);
  });
}

void Worker::RemoveRelay(uint64_t producer_id, size_t target_worker) {
  impl_->Post([impl = impl_.get(), producer_id, target_worker] {
    impl->RemoveRelay(producer_id, target_worker);
  });
}

void Worker::AddRelayedProducer(ProducerParams params, size_t source_worker,
                                uint64_t source_producer_id) {
  impl_->Post(
      [impl = impl_.get(), p = std::move(params), source_worker, source_producer_id]() mutable {
        impl->AddRelayedProducer(std::move(p), source_worker, source_producer_id);
      });
}

size_t PlaceRoom(uint32_t sdkappid, std::string_view room_key, size_t workers) {
  if (workers <= 1) return 0;
  // FNV-1a: stable across runs, so a room's worker is predictable in logs.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ULL;
  };
  for (int shift = 24; shift >= 0; shift -= 8) mix(static_cast<uint8_t>(sdkappid >> shift));
  for (char ch : room_key) mix(static_cast<uint8_t>(ch));
  return static_cast<size_t>(h % workers);
}

}  // namespace aegis::sfu
