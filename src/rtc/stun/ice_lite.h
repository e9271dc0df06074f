// ICE-lite server side (RFC 8445 §2.5, RFC 7675) for one transport: answers
// STUN Binding requests from the controlling peer (response matrix STUN-02),
// tracks which remote endpoints have authenticated (validated tuples), which one
// is selected/nominated, and consent freshness. Requests are untrusted input.
// Time is passed in (ms, any monotonic origin). Owned by one event loop; not
// thread-safe. The optional Listener is not owned and must outlive the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "rtc/endpoint.h"
#include "rtc/tuple.h"

namespace aegis::rtc {

struct IceCredentials {
  std::string ufrag;
  std::string pwd;

  // Fresh local credentials from the CSPRNG: 8-char ufrag, 32-char pwd over
  // [A-Za-z0-9] (a subset of ice-char): ~190 bits of entropy (STUN-05).
  static IceCredentials Generate();
  // RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 ice-chars (ALPHA/DIGIT/+/).
  static Status Validate(const IceCredentials& credentials);
};

enum class IceAction : uint8_t {
  kSuccessResponse,  // `response` holds a Binding success response
  kErrorResponse,    // `response` holds a Binding error response (`error_code`)
  kDrop,             // send nothing (`drop_reason`)
};

enum class IceDropReason : uint8_t {
  kNone,
  kMalformed,           // not a parseable STUN message
  kNotRequest,          // indication or response: an ICE-lite agent sends no requests
  kBadFingerprint,      // FINGERPRINT present but wrong
  kRateLimited,         // too many failed authentications from this tuple (STUN-05)
  kResponseBufferSmall  // caller buffer cannot hold the response
};

struct [[nodiscard]] IceResult {
  IceAction action = IceAction::kDrop;
  std::span<const uint8_t> response;  // view into the caller's response buffer
  uint16_t error_code = 0;            // STUN error code for kErrorResponse
  IceDropReason drop_reason = IceDropReason::kNone;
  bool selected_tuple_changed = false;
};

class IceLiteServer {
 public:
  // Tells the owning transport about path changes (mediasoup IceServer::Listener).
  class Listener {
   public:
    virtual ~Listener() = default;
    // A new remote tuple is now the one to send media to.
    virtual void OnSelectedTupleChanged(const Tuple& tuple) = 0;
  };

  struct Options {
    // RFC 7675 §5.1: consent expires 30 s after the last successful check.
    int64_t consent_timeout_ms = 30'000;
    // Failed authentications per tuple: token bucket (STUN-05).
    uint32_t failed_auth_per_s = 10;
    uint32_t failed_auth_burst = 10;
    // Bounds on per-transport state a peer can make us keep.
    size_t max_tuples = 8;
    size_t max_failure_buckets = 256;
  };

  struct Stats {
    uint64_t requests = 0;
    uint64_t success_responses = 0;
    uint64_t error_responses = 0;
    uint64_t auth_failures = 0;
    uint64_t dropped = 0;
    uint64_t rate_limited = 0;
  };

  // Rejects credentials that fail IceCredentials::Validate().
  static Result<IceLiteServer> Create(IceCredentials local, Options options);
  static Result<IceLiteServer> Create(IceCredentials local) { return Create(std::move(local), {}); }

  // Empty until the remote SDP arrives; while empty any non-empty remote ufrag
  // in USERNAME is accepted (the HMAC with the local pwd still authenticates).
  Status SetRemoteUfrag(std::string_view remote_ufrag);
  void set_listener(Listener* listener) { listener_ = listener; }

  // Handles one datagram already classified as STUN, received from `from` at
  // `now_ms`; any response is written into `response_buf` (>= 128 bytes is
  // always enough) and must be sent back to `from`.
  // A UDP peer is passed as its Endpoint; an ICE-TCP connection is its own
  // tuple (RFC 6544 §7.1), distinct from a UDP peer at the same address.
  IceResult HandleRequest(std::span<const uint8_t> request, const Tuple& from, int64_t now_ms,
                          std::span<uint8_t> response_buf);

  // The endpoint media goes to: the last nominated (USE-CANDIDATE) tuple, or the
  // first validated one until the peer nominates.
  std::optional<Tuple> selected_tuple() const;
  bool nominated() const { return selected_nominated_; }
  // RFC 7675: true while the selected tuple had a valid check in the last 30 s.
  bool IsConsentFresh(int64_t now_ms) const;
  // MX-03: `endpoint` passed an authenticated check and consent has not expired.
  bool IsValidTuple(const Tuple& tuple, int64_t now_ms) const;
  // Forgets a tuple whose path is gone (a closed TCP connection); if it was
  // the selected one, the next valid check selects a new path.
  void RemoveTuple(const Tuple& tuple);

  const IceCredentials& local_credentials() const { return local_; }
  const std::string& remote_ufrag() const { return remote_ufrag_; }
  const Stats& stats() const { return stats_; }

 private:
  struct ValidTuple {
    Tuple tuple;
    int64_t last_valid_ms = 0;
  };
  struct FailureBucket {
    Tuple tuple;
    int64_t last_refill_ms = 0;
    int64_t milli_tokens = 0;  // 1000 per token
  };

  IceLiteServer(IceCredentials local, Options options);

  bool UsernameMatches(std::string_view username) const;
  ValidTuple* FindTuple(const Tuple& tuple);
  const ValidTuple* FindTuple(const Tuple& tuple) const;
  bool OnValidRequest(const Tuple& from, int64_t now_ms, bool use_candidate);
  // Returns the refilled bucket for `endpoint`, creating it if there is room;
  // nullptr when the table is full of non-idle buckets (fail closed).
  FailureBucket* Bucket(const Tuple& tuple, int64_t now_ms);
  bool HasFailureTokens(const Tuple& tuple, int64_t now_ms);
  bool TakeFailureToken(const Tuple& tuple, int64_t now_ms);

  IceResult Drop(IceDropReason reason);
  IceResult Error(std::span<const uint8_t, 12> tid, uint16_t code, bool authenticated,
                  std::span<const uint16_t> unknown, std::span<uint8_t> out);

  // Passed by argument.
  IceCredentials local_;
  Options options_;
  Listener* listener_ = nullptr;
  // Allocated by this (bounded by options_).
  std::string remote_ufrag_;
  std::vector<ValidTuple> tuples_;
  std::vector<FailureBucket> buckets_;
  std::optional<Tuple> selected_;
  bool selected_nominated_ = false;
  Stats stats_;
};

}  // namespace aegis::rtc
