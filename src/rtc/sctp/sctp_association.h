// SctpAssociation: one SCTP association of a WebRTC data-channel transport
// (SCTP over DTLS, RFC 8261/8831/8841), terminated here with usrsctp in its
// AF_CONN mode: no kernel socket; the owner feeds DTLS application data to
// HandleIncoming() and sends what OnSctpOutgoing() hands back as DTLS
// application data. It speaks DCEP (RFC 8832) itself: answers OPEN with ACK,
// tracks channels by stream id, and opens channels towards the peer.
// Received bytes are untrusted: usrsctp validates SCTP (CRC32c, verification
// tag, chunk lengths); DCEP and message sizes are checked here.
//
// Threading. usrsctp keeps process-wide state (one timer wheel, one address
// table), initialised once without threads (usrsctp_init_nothreads): nothing
// runs unless called. Every entry into usrsctp from any association holds one
// process-wide mutex, and usrsctp's callbacks only queue events on the
// association they concern. Listener callbacks are then delivered on the
// thread that called HandleIncoming()/Send()/OpenChannel()/OnTick(), outside
// that mutex. So: each association is owned by one event loop (not
// thread-safe), different loops may own different associations, and timer
// work (retransmissions, SACKs, heartbeats) fired by loop X for an association
// of loop Y is delivered when Y next calls OnTick(). The owner must call
// OnTick(now) every few tens of ms. A Listener may call Send(), OpenChannel(),
// CloseChannel() and Close() from a callback but must not destroy the
// association there. The Listener is not owned and must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rtc/sctp/dcep.h"

struct socket;  // usrsctp

namespace aegis::rtc {

// Follows the DTLS role (RFC 8832 §6): the DTLS client opens channels on even
// stream ids, the DTLS server on odd ones. kServer listens for the peer's
// INIT; kClient sends INIT on Start() (tests, load generator).
enum class SctpRole : uint8_t { kClient, kServer };
enum class SctpState : uint8_t { kNew, kConnecting, kConnected, kClosed };

// RFC 8841 default for a=sctp-port.
inline constexpr uint16_t kSctpDefaultPort = 5000;
// Product cap for one room message is 16 KiB of payload; the association
// accepts a little more so the cap is enforced (with a clear error) by the
// room layer, not by SCTP. Advertised as a=max-message-size.
inline constexpr size_t kRoomMessageMaxSize = 16 * 1024;
inline constexpr size_t kSctpDefaultMaxMessageSize = kRoomMessageMaxSize + 1024;
// Largest data packet usrsctp emits with the default SctpConfig::mtu
// (measured by the tests; INIT-ACKs echo the peer's INIT and can be larger).
inline constexpr size_t kSctpMaxPacketSize = 1200;
// Largest SCTP packet accepted from DTLS (one DTLS record holds at most 2^14).
inline constexpr size_t kSctpMaxIncomingPacketSize = 16 * 1024;

struct SctpConfig {
  SctpRole role = SctpRole::kServer;
  uint16_t local_port = kSctpDefaultPort;   // our a=sctp-port
  uint16_t remote_port = kSctpDefaultPort;  // the peer's a=sctp-port (kClient connects there)
  // Largest user message sent or accepted, both directions: Send() refuses
  // more, received messages above it are dropped.
  size_t max_message_size = kSctpDefaultMaxMessageSize;
  // Inbound/outbound streams offered in INIT (channels per direction).
  uint16_t num_streams = 1024;
  // usrsctp's path MTU (SCTP_PEER_ADDR_PARAMS, PMTUD off). usrsctp's own
  // overhead accounting makes data packets up to ~9 bytes larger: Chrome's
  // 1191 yields packets of at most kSctpMaxPacketSize, which DTLS (+~29) and
  // UDP/IPv6 (+48) keep within a 1280-byte path.
  uint32_t mtu = 1191;
  // usrsctp socket send buffer; Send() fails with sctp_buffer_full beyond it.
  uint32_t send_buffer_size = 256 * 1024;
};

// What OnSctpChannelOpen() and channel() report.
struct SctpChannel {
  uint16_t stream_id = 0;
  DcepChannelType type = DcepChannelType::kReliable;
  uint32_t reliability_parameter = 0;
  uint16_t priority = kDcepPriorityNormal;
  std::string label;
  std::string protocol;
  bool opened_locally = false;
  bool acked = false;  // peer's DATA_CHANNEL_ACK received (always true for peer-opened)
};

class SctpAssociation {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One SCTP packet to send as DTLS application data.
    virtual void OnSctpOutgoing(std::span<const uint8_t> packet) = 0;
    // The association is up (COMM_UP); Send()/OpenChannel() work from now on.
    virtual void OnSctpConnected() {}
    // The peer opened a channel (DCEP OPEN, already acknowledged).
    virtual void OnSctpChannelOpen(uint16_t stream_id, std::string_view label,
                                   std::string_view protocol, bool reliable, bool ordered) = 0;
    // The peer reset a channel's stream (RFC 8831 §6.7); we reset ours too.
    virtual void OnSctpChannelClosed(uint16_t /*stream_id*/) {}
    // One complete user message. `ppid` is kString or kBinary; the empty
    // variants (56/57) arrive as those with an empty span.
    virtual void OnSctpMessage(uint16_t stream_id, SctpPpid ppid,
                               std::span<const uint8_t> message) = 0;
    // Terminal, once: the peer aborted or shut down, or the association was
    // lost or never came up. Not called for a local Close().
    virtual void OnSctpClosed(const std::string& reason) = 0;
  };

  // Error codes: sctp_config (bad ports, sizes or streams), sctp_init
  // (usrsctp socket setup failed).
  static Result<std::unique_ptr<SctpAssociation>> Create(const SctpConfig& config,
                                                         Listener* listener);
  // Aborts the association if still up (the ABORT is not delivered) and
  // unregisters from usrsctp; no callback reaches this object afterwards.
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  // kNew -> kConnecting: kServer starts listening, kClient sends INIT. Call
  // once DTLS is connected; packets received before are ignored.
  // Error code: sctp_state, sctp_init.
  Status Start();

  // One SCTP packet from DTLS. Ignored when empty, too large, or not in
  // kConnecting/kConnected.
  void HandleIncoming(std::span<const uint8_t> packet);

  // One user message on an open channel. `ppid` is kString/kBinary (an empty
  // message is sent as the RFC 8831 §6.6 empty variant) or the empty variants
  // themselves with an empty span. Ordered/reliability follow the channel.
  // Error codes: sctp_not_connected, sctp_no_channel, sctp_ppid,
  // sctp_message_too_big, sctp_buffer_full, sctp_send.
  Status Send(uint16_t stream_id, SctpPpid ppid, std::span<const uint8_t> message);

  // Opens a channel towards the peer (DCEP OPEN) on the next free stream id
  // of our parity; usable at once (ordered until the ACK, RFC 8832 §6).
  // Error codes: sctp_not_connected, sctp_no_stream, dcep_* (label/protocol
  // too long), sctp_send.
  Result<uint16_t> OpenChannel(const DcepOpen& params);

  // Resets our outgoing stream of a channel (RFC 8831 §6.7) and forgets it;
  // the stream id is reused only after the peer has reset its side too.
  // Error codes: sctp_not_connected, sctp_no_channel, sctp_send.
  Status CloseChannel(uint16_t stream_id);

  // Aborts the association (the ABORT goes out through OnSctpOutgoing) and
  // moves to kClosed. Unsent messages are dropped. No OnSctpClosed.
  void Close();

  // Advances the process-wide SCTP clock to `now_ms` (monotonic ms, any
  // origin shared by all callers) and delivers this association's pending
  // events, including those produced by timers fired on other threads.
  // Feed the real monotonic clock: usrsctp also stamps chunks with wall-clock
  // time (RTT, and T3 resends only chunks older than the RTO by that clock),
  // so under a simulated clock timers fire but T3 retransmits nothing.
  void OnTick(int64_t now_ms);
  // The clock half of OnTick() alone, for a loop that ticks once per round.
  static void AdvanceClock(int64_t now_ms);

  SctpState state() const { return state_; }
  SctpRole role() const { return config_.role; }
  const SctpConfig& config() const { return config_; }
  // nullptr when no channel uses the stream.
  const SctpChannel* channel(uint16_t stream_id) const;
  size_t channel_count() const { return channels_.size(); }
  // Outbound streams negotiated at COMM_UP (0 before).
  uint16_t outbound_streams() const { return outbound_streams_; }
  // Received messages dropped for size or missing channel (diagnostics).
  uint64_t dropped_messages() const { return dropped_messages_; }

 private:
  friend class SctpRuntime;

  // Queued by usrsctp callbacks under the runtime mutex, delivered by
  // DeliverPending() on the owner's thread.
  struct Event {
    enum class Kind : uint8_t { kOutgoing, kData, kNotification };
    Kind kind = Kind::kOutgoing;
    uint16_t stream_id = 0;
    uint32_t ppid = 0;  // host order
    bool end_of_record = true;
    std::vector<uint8_t> bytes;
  };

  SctpAssociation(const SctpConfig& config, Listener* listener);
  Status Init();
  void DeliverPending();
  void Dispatch(Event& event);
  void HandleNotification(std::span<const uint8_t> bytes);
  void HandleStreamReset(std::span<const uint8_t> bytes);
  void HandleMessage(uint16_t stream_id, uint32_t ppid, std::span<const uint8_t> message);
  void HandleDcep(uint16_t stream_id, std::span<const uint8_t> message);
  void SetClosed(const std::string& reason);
  // Raw send on a stream; `unordered`/PR from the caller. Holds the runtime mutex.
  Status SendRaw(uint16_t stream_id, uint32_t ppid, std::span<const uint8_t> data, bool unordered,
                 DcepChannelType type, uint32_t reliability_parameter);
  Status ResetOutgoingStream(uint16_t stream_id);
  void ApplyPathMtu();

  // Passed by argument.
  SctpConfig config_;
  Listener* listener_;
  // Allocated by this (usrsctp socket; closed in Close() or the destructor).
  struct socket* socket_ = nullptr;
  // Guarded by the runtime mutex (written by usrsctp callbacks).
  std::deque<Event> pending_;
  // Owner-thread state.
  SctpState state_ = SctpState::kNew;
  uint32_t assoc_id_ = 0;
  uint16_t outbound_streams_ = 0;
  uint16_t inbound_streams_ = 0;
  std::map<uint16_t, SctpChannel> channels_;
  // Closed locally, waiting for the peer's reset of its side (not reusable yet).
  std::set<uint16_t> closing_streams_;
  // Partial delivery (a message larger than usrsctp's delivery point arrives
  // in pieces; without I-DATA pieces of different messages never interleave).
  std::vector<uint8_t> reassembly_;
  bool reassembly_oversize_ = false;
  bool delivering_ = false;
  uint64_t dropped_messages_ = 0;
};

}  // namespace aegis::rtc
