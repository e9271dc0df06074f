#include "rtc/sctp/sctp_association.h"

#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_set>
#include <utility>

#include "core/log.h"

namespace aegis::rtc {
namespace {

constexpr std::string_view kTag = "sctp";

uint32_t ToHostPpid(uint32_t network) { return ntohl(network); }

bool IsUserPpid(uint32_t ppid) {
  switch (static_cast<SctpPpid>(ppid)) {
    case SctpPpid::kString:
    case SctpPpid::kBinary:
    case SctpPpid::kStringEmpty:
    case SctpPpid::kBinaryEmpty:
      return true;
    case SctpPpid::kDcep:
      return false;
  }
  return false;
}

}  // namespace

// Process-wide usrsctp state. usrsctp is initialised once, without threads, on
// first use and never finished (it would have to outlive every association).
// `mu` serialises every call into usrsctp; its callbacks run with `mu` held,
// so they may touch `live` and an association's `pending_` without locking.
class SctpRuntime {
 public:
  static SctpRuntime& Get() {
    static SctpRuntime* runtime = new SctpRuntime();  // never destroyed, see above
    return *runtime;
  }

  std::mutex mu;
  std::unordered_set<const SctpAssociation*> live;         // guarded by mu
  int64_t clock_ms = std::numeric_limits<int64_t>::min();  // guarded by mu

  // usrsctp conn_output: one packet for the association registered as `addr`.
  static int OnConnOutput(void* addr, void* buffer, size_t length, uint8_t /*tos*/,
                          uint8_t /*set_df*/) {
    auto* self = static_cast<SctpAssociation*>(addr);
    if (Get().live.count(self) == 0) return 0;  // destroyed (or never registered): drop
    SctpAssociation::Event event;
    event.kind = SctpAssociation::Event::Kind::kOutgoing;
    const auto* bytes = static_cast<const uint8_t*>(buffer);
    event.bytes.assign(bytes, bytes + length);
    self->pending_.push_back(std::move(event));
    return 0;
  }

  // usrsctp receive callback: a user message (piece) or a notification. We
  // own `data` (allocated by usrsctp with malloc).
  static int OnReceive(struct socket* sock, union sctp_sockstore /*addr*/, void* data,
                       size_t length, struct sctp_rcvinfo info, int flags, void* ulp_info) {
    auto* self = static_cast<SctpAssociation*>(ulp_info);
    if (data == nullptr) return 1;
    if (Get().live.count(self) == 0 || self->socket_ != sock) {
      std::free(data);
      return 1;
    }
    SctpAssociation::Event event;
    const auto* bytes = static_cast<const uint8_t*>(data);
    event.bytes.assign(bytes, bytes + length);
    std::free(data);
    if ((flags & MSG_NOTIFICATION) != 0) {
      event.kind = SctpAssociation::Event::Kind::kNotification;
    } else {
      event.kind = SctpAssociation::Event::Kind::kData;
      event.stream_id = info.rcv_sid;
      event.ppid = ToHostPpid(info.rcv_ppid);
      event.end_of_record = (flags & MSG_EOR) != 0;
    }
    self->pending_.push_back(std::move(event));
    return 1;
  }

 private:
  SctpRuntime() {
    // Port 0: no UDP encapsulation thread; nothreads: no timer thread, timers
    // advance only through AdvanceClock().
    usrsctp_init_nothreads(0, &SctpRuntime::OnConnOutput, nullptr);
    // No ECN over DTLS; partial reliability for DCEP's PR channel types.
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_pr_enable(1);
  }
};

namespace {

// usrsctp option helper; returns false (and logs) on failure.
template <typename T>
bool SetOption(struct socket* sock, int level, int name, const T& value, std::string_view what) {
  if (usrsctp_setsockopt(sock, level, name, &value, sizeof(value)) != 0) {
    LogWarn(kTag, "usrsctp_setsockopt failed", {{"option", std::string(what)}, {"errno", errno}});
    return false;
  }
  return true;
}

struct sockaddr_conn ConnAddress(void* addr, uint16_t port) {
  struct sockaddr_conn sconn;
  std::memset(&sconn, 0, sizeof(sconn));
  sconn.sconn_family = AF_CONN;
  sconn.sconn_port = htons(port);
  sconn.sconn_addr = addr;
  return sconn;
}

}  // namespace

Result<std::unique_ptr<SctpAssociation>> SctpAssociation::Create(const SctpConfig& config,
                                                                 Listener* listener) {
  if (listener == nullptr) return Status::Error("sctp_config", "no listener");
  if (config.local_port == 0 || config.remote_port == 0) {
    return Status::Error("sctp_config", "port 0");
  }
  if (config.max_message_size == 0 || config.max_message_size > config.send_buffer_size) {
    return Status::Error("sctp_config", "max_message_size out of range");
  }
  if (config.num_streams == 0 || config.mtu < 576) {
    return Status::Error("sctp_config", "streams or mtu out of range");
  }
  std::unique_ptr<SctpAssociation> association(new SctpAssociation(config, listener));
  AEGIS_RETURN_IF_ERROR(association->Init());
  return association;
}

SctpAssociation::SctpAssociation(const SctpConfig& config, Listener* listener)
    : config_(config), listener_(listener) {}

Status SctpAssociation::Init() {
  SctpRuntime& runtime = SctpRuntime::Get();
  std::lock_guard<std::mutex> lock(runtime.mu);
  usrsctp_register_address(this);
  runtime.live.insert(this);
  // One-to-many style: a listening socket accepts the peer's association
  // without accept(), and the same code path serves the client role.
  socket_ = usrsctp_socket(AF_CONN, SOCK_SEQPACKET, IPPROTO_SCTP, &SctpRuntime::OnReceive, nullptr,
                           0, this);
  if (socket_ == nullptr) return Status::Error("sctp_init", "usrsctp_socket failed");
  if (usrsctp_set_non_blocking(socket_, 1) != 0) {
    return Status::Error("sctp_init", "non-blocking mode failed");
  }
  bool ok = true;
  // Closing aborts at once (no lingering SHUTDOWN that would call back later).
  struct linger linger_opt {};
  linger_opt.l_onoff = 1;
  linger_opt.l_linger = 0;
  ok &= SetOption(socket_, SOL_SOCKET, SO_LINGER, linger_opt, "SO_LINGER");
  const int send_buffer = static_cast<int>(config_.send_buffer_size);
  ok &= SetOption(socket_, SOL_SOCKET, SO_SNDBUF, send_buffer, "SO_SNDBUF");
  const int on = 1;
  ok &= SetOption(socket_, IPPROTO_SCTP, SCTP_NODELAY, on, "SCTP_NODELAY");
  ok &= SetOption(socket_, IPPROTO_SCTP, SCTP_RECVRCVINFO, on, "SCTP_RECVRCVINFO");
  struct sctp_assoc_value reset {};
  reset.assoc_id = SCTP_FUTURE_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  ok &= SetOption(socket_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset, "STREAM_RESET");
  struct sctp_initmsg init {};
  init.sinit_num_ostreams = config_.num_streams;
  init.sinit_max_instreams = config_.num_streams;
  ok &= SetOption(socket_, IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG");
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT, SCTP_STREAM_RESET_EVENT}) {
    struct sctp_event event {};
    event.se_assoc_id = SCTP_FUTURE_ASSOC;
    event.se_type = type;
    event.se_on = 1;
    ok &= SetOption(socket_, IPPROTO_SCTP, SCTP_EVENT, event, "SCTP_EVENT");
  }
  if (!ok) return Status::Error("sctp_init", "socket options failed");
  struct sockaddr_conn local = ConnAddress(this, config_.local_port);
  if (usrsctp_bind(socket_, reinterpret_cast<struct sockaddr*>(&local), sizeof(local)) != 0) {
    return Status::Error("sctp_init", "bind failed");
  }
  return Status::Ok();
}

SctpAssociation::~SctpAssociation() {
  SctpRuntime& runtime = SctpRuntime::Get();
  std::lock_guard<std::mutex> lock(runtime.mu);
  // Out of `live` first: the ABORT usrsctp_close() emits is dropped, and any
  // later callback naming this address or socket finds nothing.
  runtime.live.erase(this);
  if (socket_ != nullptr) usrsctp_close(socket_);
  socket_ = nullptr;
  usrsctp_deregister_address(this);
}

Status SctpAssociation::Start() {
  if (state_ != SctpState::kNew) return Status::Error("sctp_state", "already started");
  {
    std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
    if (config_.role == SctpRole::kServer) {
      if (usrsctp_listen(socket_, 1) != 0) return Status::Error("sctp_init", "listen failed");
    } else {
      struct sockaddr_conn remote = ConnAddress(this, config_.remote_port);
      const int rc =
          usrsctp_connect(socket_, reinterpret_cast<struct sockaddr*>(&remote), sizeof(remote));
      if (rc != 0 && errno != EINPROGRESS) {
        return Status::Error("sctp_init", "connect failed");
      }
    }
    state_ = SctpState::kConnecting;
  }
  DeliverPending();  // the client's INIT
  return Status::Ok();
}

void SctpAssociation::HandleIncoming(std::span<const uint8_t> packet) {
  if (packet.empty() || packet.size() > kSctpMaxIncomingPacketSize) return;
  if (state_ != SctpState::kConnecting && state_ != SctpState::kConnected) return;
  {
    std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
    usrsctp_conninput(this, packet.data(), packet.size(), 0);
  }
  DeliverPending();
}

void SctpAssociation::AdvanceClock(int64_t now_ms) {
  SctpRuntime& runtime = SctpRuntime::Get();
  std::lock_guard<std::mutex> lock(runtime.mu);
  if (runtime.clock_ms == std::numeric_limits<int64_t>::min() || now_ms < runtime.clock_ms) {
    // First call, or a caller on a different clock origin: start from here.
    runtime.clock_ms = now_ms;
    return;
  }
  const int64_t elapsed = now_ms - runtime.clock_ms;
  if (elapsed == 0) return;
  runtime.clock_ms = now_ms;
  usrsctp_handle_timers(
      static_cast<uint32_t>(std::min<int64_t>(elapsed, std::numeric_limits<uint32_t>::max())));
}

void SctpAssociation::OnTick(int64_t now_ms) {
  AdvanceClock(now_ms);
  DeliverPending();
}

const SctpChannel* SctpAssociation::channel(uint16_t stream_id) const {
  auto it = channels_.find(stream_id);
  return it == channels_.end() ? nullptr : &it->second;
}

Status SctpAssociation::Send(uint16_t stream_id, SctpPpid ppid, std::span<const uint8_t> message) {
  if (state_ != SctpState::kConnected) return Status::Error("sctp_not_connected", "not connected");
  if (!IsUserPpid(static_cast<uint32_t>(ppid)))
    return Status::Error("sctp_ppid", "not a user ppid");
  auto it = channels_.find(stream_id);
  if (it == channels_.end()) return Status::Error("sctp_no_channel", "no channel on stream");
  if (message.size() > config_.max_message_size) {
    return Status::Error("sctp_message_too_big", "above max message size");
  }
  const bool empty_variant = ppid == SctpPpid::kStringEmpty || ppid == SctpPpid::kBinaryEmpty;
  if (empty_variant && !message.empty()) {
    return Status::Error("sctp_ppid", "empty ppid with data");
  }
  // RFC 8831 §6.6: an empty message goes out as one byte with PPID 56/57.
  static constexpr uint8_t kEmptyByte[1] = {0};
  if (message.empty()) {
    ppid = (ppid == SctpPpid::kString || ppid == SctpPpid::kStringEmpty) ? SctpPpid::kStringEmpty
                                                                         : SctpPpid::kBinaryEmpty;
    message = kEmptyByte;
  }
  const SctpChannel& channel = it->second;
  // RFC 8832 §6: ordered until the peer's ACK arrives.
  const bool unordered = !DcepIsOrdered(channel.type) && channel.acked;
  Status status = SendRaw(stream_id, static_cast<uint32_t>(ppid), message, unordered, channel.type,
                          channel.reliability_parameter);
  DeliverPending();
  return status;
}

Status SctpAssociation::SendRaw(uint16_t stream_id, uint32_t ppid, std::span<const uint8_t> data,
                                bool unordered, DcepChannelType type,
                                uint32_t reliability_parameter) {
  struct sctp_sendv_spa spa;
  std::memset(&spa, 0, sizeof(spa));
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream_id;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_assoc_id = assoc_id_;
  if (unordered) spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
  if (!DcepIsReliable(type)) {
    const uint8_t base = static_cast<uint8_t>(type) & 0x7F;
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy =
        base == static_cast<uint8_t>(DcepChannelType::kPartialReliableRexmit) ? SCTP_PR_SCTP_RTX
                                                                              : SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = reliability_parameter;
  }
  std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
  if (socket_ == nullptr) return Status::Error("sctp_not_connected", "closed");
  const ssize_t sent = usrsctp_sendv(socket_, data.data(), data.size(), nullptr, 0, &spa,
                                     sizeof(spa), SCTP_SENDV_SPA, 0);
  if (sent >= 0) return Status::Ok();
  const int error = errno;
  if (error == EWOULDBLOCK || error == EAGAIN || error == ENOBUFS) {
    return Status::Error("sctp_buffer_full", "send buffer full");
  }
  if (error == EMSGSIZE) return Status::Error("sctp_message_too_big", "rejected by usrsctp");
  return Status::Error("sctp_send", "usrsctp_sendv failed: " + std::to_string(error));
}

Result<uint16_t> SctpAssociation::OpenChannel(const DcepOpen& params) {
  if (state_ != SctpState::kConnected) return Status::Error("sctp_not_connected", "not connected");
  // RFC 8832 §6: the DTLS server uses odd stream ids, the client even ones.
  const uint32_t first = config_.role == SctpRole::kServer ? 1 : 0;
  uint32_t stream = first;
  while (stream < outbound_streams_ &&
         (channels_.count(static_cast<uint16_t>(stream)) != 0 ||
          closing_streams_.count(static_cast<uint16_t>(stream)) != 0)) {
    stream += 2;
  }
  if (stream >= outbound_streams_) return Status::Error("sctp_no_stream", "no free stream id");
  Result<std::vector<uint8_t>> open = BuildDcepOpen(params);
  if (!open.ok()) return open.status();
  const auto id = static_cast<uint16_t>(stream);
  Status status = SendRaw(id, static_cast<uint32_t>(SctpPpid::kDcep), *open, false,
                          DcepChannelType::kReliable, 0);
  if (!status.ok()) return status;
  SctpChannel channel;
  channel.stream_id = id;
  channel.type = params.channel_type;
  channel.reliability_parameter = params.reliability_parameter;
  channel.priority = params.priority;
  channel.label = std::string(params.label);
  channel.protocol = std::string(params.protocol);
  channel.opened_locally = true;
  channels_.emplace(id, std::move(channel));
  DeliverPending();
  return id;
}

Status SctpAssociation::CloseChannel(uint16_t stream_id) {
  if (state_ != SctpState::kConnected) return Status::Error("sctp_not_connected", "not connected");
  if (channels_.erase(stream_id) == 0) return Status::Error("sctp_no_channel", "no channel");
  // Reusable only once the peer has reset its side too (RFC 8831 §6.7).
  closing_streams_.insert(stream_id);
  Status status = ResetOutgoingStream(stream_id);
  DeliverPending();
  return status;
}

Status SctpAssociation::ResetOutgoingStream(uint16_t stream_id) {
  // sctp_reset_streams ends in a flexible array: room for one stream id.
  constexpr size_t kSize = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
  alignas(struct sctp_reset_streams) uint8_t storage[kSize] = {};
  auto* reset = reinterpret_cast<struct sctp_reset_streams*>(storage);
  reset->srs_assoc_id = assoc_id_;
  reset->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  reset->srs_number_streams = 1;
  reset->srs_stream_list[0] = stream_id;
  std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
  if (socket_ == nullptr) return Status::Error("sctp_not_connected", "closed");
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, reset, kSize) != 0) {
    return Status::Error("sctp_send", "stream reset failed: " + std::to_string(errno));
  }
  return Status::Ok();
}

void SctpAssociation::Close() {
  if (state_ == SctpState::kClosed) return;
  state_ = SctpState::kClosed;
  {
    std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
    // SO_LINGER 0: usrsctp sends ABORT and frees the association now.
    if (socket_ != nullptr) usrsctp_close(socket_);
    socket_ = nullptr;
  }
  DeliverPending();  // the ABORT
}

void SctpAssociation::DeliverPending() {
  // A Listener calling back into us from a callback: the outer loop delivers.
  if (delivering_) return;
  delivering_ = true;
  for (;;) {
    std::deque<Event> batch;
    {
      std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
      batch.swap(pending_);
    }
    if (batch.empty()) break;
    for (Event& event : batch) Dispatch(event);
  }
  delivering_ = false;
}

void SctpAssociation::Dispatch(Event& event) {
  if (event.kind == Event::Kind::kOutgoing) {
    listener_->OnSctpOutgoing(event.bytes);
    return;
  }
  if (state_ == SctpState::kClosed) return;  // nothing reaches the owner after the end
  if (event.kind == Event::Kind::kNotification) {
    HandleNotification(event.bytes);
    return;
  }
  // kData: reassemble pieces of a partially delivered message.
  if (!event.end_of_record || !reassembly_.empty() || reassembly_oversize_) {
    if (!reassembly_oversize_) {
      if (reassembly_.size() + event.bytes.size() > config_.max_message_size) {
        reassembly_oversize_ = true;
        reassembly_.clear();
      } else {
        reassembly_.insert(reassembly_.end(), event.bytes.begin(), event.bytes.end());
      }
    }
    if (!event.end_of_record) return;
    const bool oversize = reassembly_oversize_;
    std::vector<uint8_t> whole;
    whole.swap(reassembly_);
    reassembly_oversize_ = false;
    if (oversize) {
      ++dropped_messages_;
      return;
    }
    HandleMessage(event.stream_id, event.ppid, whole);
    return;
  }
  HandleMessage(event.stream_id, event.ppid, event.bytes);
}

void SctpAssociation::HandleMessage(uint16_t stream_id, uint32_t ppid,
                                    std::span<const uint8_t> message) {
  if (message.size() > config_.max_message_size) {
    ++dropped_messages_;
    return;
  }
  if (ppid == static_cast<uint32_t>(SctpPpid::kDcep)) {
    HandleDcep(stream_id, message);
    return;
  }
  if (!IsUserPpid(ppid) || channels_.count(stream_id) == 0) {
    ++dropped_messages_;
    return;
  }
  switch (static_cast<SctpPpid>(ppid)) {
    case SctpPpid::kStringEmpty:
      listener_->OnSctpMessage(stream_id, SctpPpid::kString, {});
      return;
    case SctpPpid::kBinaryEmpty:
      listener_->OnSctpMessage(stream_id, SctpPpid::kBinary, {});
      return;
    default:
      listener_->OnSctpMessage(stream_id, static_cast<SctpPpid>(ppid), message);
      return;
  }
}

void SctpAssociation::HandleDcep(uint16_t stream_id, std::span<const uint8_t> message) {
  Result<DcepMessageType> type = PeekDcepType(message);
  if (!type.ok()) {
    LogDebug(kTag, "dcep dropped", {{"error", type.status().code()}});
    return;
  }
  if (*type == DcepMessageType::kAck) {
    auto it = channels_.find(stream_id);
    if (ParseDcepAck(message).ok() && it != channels_.end()) it->second.acked = true;
    return;
  }
  Result<DcepOpen> open = ParseDcepOpen(message);
  if (!open.ok()) {
    LogDebug(kTag, "dcep open rejected", {{"error", open.status().code()}});
    return;
  }
  // RFC 8832 §6: the peer opens on the other parity than ours.
  const bool peer_is_dtls_client = config_.role == SctpRole::kServer;
  if ((stream_id % 2 == 0) != peer_is_dtls_client || channels_.count(stream_id) != 0 ||
      closing_streams_.count(stream_id) != 0) {
    LogDebug(kTag, "dcep open on unusable stream", {{"stream", stream_id}});
    return;
  }
  SctpChannel channel;
  channel.stream_id = stream_id;
  channel.type = open->channel_type;
  channel.reliability_parameter = open->reliability_parameter;
  channel.priority = open->priority;
  channel.label = std::string(open->label);
  channel.protocol = std::string(open->protocol);
  channel.acked = true;
  const std::vector<uint8_t> ack = BuildDcepAck();
  Status status = SendRaw(stream_id, static_cast<uint32_t>(SctpPpid::kDcep), ack, false,
                          DcepChannelType::kReliable, 0);
  if (!status.ok()) {
    LogDebug(kTag, "dcep ack not sent", {{"error", status.code()}});
    return;
  }
  const SctpChannel& stored = channels_.emplace(stream_id, std::move(channel)).first->second;
  listener_->OnSctpChannelOpen(stream_id, stored.label, stored.protocol,
                               DcepIsReliable(stored.type), DcepIsOrdered(stored.type));
}

void SctpAssociation::HandleNotification(std::span<const uint8_t> bytes) {
  // Local memory written by usrsctp, not wire data; copied into the aligned
  // union before reading.
  union sctp_notification notification;
  if (bytes.size() < sizeof(notification.sn_header)) return;
  std::memset(&notification, 0, sizeof(notification));
  std::memcpy(&notification, bytes.data(), std::min(bytes.size(), sizeof(notification)));
  switch (notification.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      const struct sctp_assoc_change& change = notification.sn_assoc_change;
      switch (change.sac_state) {
        case SCTP_COMM_UP:
          if (state_ != SctpState::kConnecting) return;
          assoc_id_ = change.sac_assoc_id;
          outbound_streams_ = change.sac_outbound_streams;
          inbound_streams_ = change.sac_inbound_streams;
          state_ = SctpState::kConnected;
          ApplyPathMtu();
          listener_->OnSctpConnected();
          return;
        case SCTP_COMM_LOST:
          SetClosed("comm_lost");
          return;
        case SCTP_SHUTDOWN_COMP:
          SetClosed("shutdown_complete");
          return;
        case SCTP_CANT_STR_ASSOC:
          SetClosed("cant_start");
          return;
        default:
          return;
      }
    }
    case SCTP_SHUTDOWN_EVENT:
      SetClosed("peer_shutdown");
      return;
    case SCTP_STREAM_RESET_EVENT:
      HandleStreamReset(bytes);
      return;
    default:
      return;
  }
}

void SctpAssociation::HandleStreamReset(std::span<const uint8_t> bytes) {
  constexpr size_t kHeader = offsetof(struct sctp_stream_reset_event, strreset_stream_list);
  if (bytes.size() < kHeader) return;
  struct sctp_stream_reset_event header;
  std::memcpy(&header, bytes.data(), kHeader);
  if ((header.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) == 0 ||
      (header.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0) {
    return;
  }
  const size_t length = std::min<size_t>(header.strreset_length, bytes.size());
  for (size_t offset = kHeader; offset + sizeof(uint16_t) <= length; offset += sizeof(uint16_t)) {
    uint16_t stream_id = 0;
    std::memcpy(&stream_id, bytes.data() + offset, sizeof(stream_id));
    // Our CloseChannel() completed: both directions are reset now.
    if (closing_streams_.erase(stream_id) != 0) continue;
    // RFC 8831 §6.7: the peer closed its side; close ours, then report.
    if (channels_.erase(stream_id) == 0) continue;
    Status status = ResetOutgoingStream(stream_id);
    if (!status.ok()) LogDebug(kTag, "stream reset failed", {{"error", status.code()}});
    listener_->OnSctpChannelClosed(stream_id);
    if (state_ == SctpState::kClosed) return;
  }
}

void SctpAssociation::ApplyPathMtu() {
  struct sctp_paddrparams params;
  std::memset(&params, 0, sizeof(params));
  params.spp_assoc_id = assoc_id_;
  struct sockaddr_conn remote = ConnAddress(this, config_.remote_port);
  std::memcpy(&params.spp_address, &remote, sizeof(remote));
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = config_.mtu;
  std::lock_guard<std::mutex> lock(SctpRuntime::Get().mu);
  if (socket_ == nullptr) return;
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof(params)) !=
      0) {
    LogWarn(kTag, "path mtu not set", {{"errno", errno}});
  }
}

void SctpAssociation::SetClosed(const std::string& reason) {
  if (state_ == SctpState::kClosed) return;
  state_ = SctpState::kClosed;
  channels_.clear();
  closing_streams_.clear();
  listener_->OnSctpClosed(reason);
}

}  // namespace aegis::rtc
