#include "rtc/stun/ice_lite.h"

#include <algorithm>
#include <utility>

#include "crypto/primitives.h"
#include "rtc/stun/stun_message.h"

namespace aegis::rtc {
namespace {

constexpr size_t kUfragLength = 8;
constexpr size_t kPwdLength = 32;
// RFC 8839 §5.4 (ice-ufrag 4*256ice-char, ice-pwd 22*256ice-char).
constexpr size_t kMinUfrag = 4;
constexpr size_t kMinPwd = 22;
constexpr size_t kMaxIceToken = 256;
constexpr int64_t kMilliTokensPerToken = 1000;
// Caps the refill arithmetic after long idle periods (no overflow).
constexpr int64_t kMaxRefillElapsedMs = 1'000'000'000;

bool IsIceChars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

std::string_view ReasonPhrase(uint16_t code) {
  switch (code) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 420:
      return "Unknown Attribute";
    case 487:
      return "Role Conflict";
    default:
      return "Error";
  }
}

}  // namespace

IceCredentials IceCredentials::Generate() {
  return IceCredentials{crypto::RandomAlnum(kUfragLength), crypto::RandomAlnum(kPwdLength)};
}

Status IceCredentials::Validate(const IceCredentials& c) {
  if (c.ufrag.size() < kMinUfrag || c.ufrag.size() > kMaxIceToken || !IsIceChars(c.ufrag)) {
    return Status::Error("ice_bad_ufrag", "ice-ufrag must be 4..256 ice-chars");
  }
  if (c.pwd.size() < kMinPwd || c.pwd.size() > kMaxIceToken || !IsIceChars(c.pwd)) {
    return Status::Error("ice_bad_pwd", "ice-pwd must be 22..256 ice-chars");
  }
  return Status::Ok();
}

Result<IceLiteServer> IceLiteServer::Create(IceCredentials local, Options options) {
  AEGIS_RETURN_IF_ERROR(IceCredentials::Validate(local));
  if (options.consent_timeout_ms <= 0) {
    return Status::Error("ice_bad_options", "consent_timeout_ms must be positive");
  }
  // Two tuples at least, so a new path can validate while the selected one is kept.
  options.max_tuples = std::max<size_t>(options.max_tuples, 2);
  options.max_failure_buckets = std::max<size_t>(options.max_failure_buckets, 1);
  return IceLiteServer(std::move(local), options);
}

IceLiteServer::IceLiteServer(IceCredentials local, Options options)
    : local_(std::move(local)), options_(options) {}

Status IceLiteServer::SetRemoteUfrag(std::string_view remote_ufrag) {
  if (remote_ufrag.size() < kMinUfrag || remote_ufrag.size() > kMaxIceToken ||
      !IsIceChars(remote_ufrag)) {
    return Status::Error("ice_bad_ufrag", "remote ice-ufrag must be 4..256 ice-chars");
  }
  remote_ufrag_ = std::string(remote_ufrag);
  return Status::Ok();
}

bool IceLiteServer::UsernameMatches(std::string_view username) const {
  // RFC 8445 §7.2.2: USERNAME is "<receiver ufrag>:<sender ufrag>".
  const std::string_view local = local_.ufrag;
  if (username.size() <= local.size() || username.substr(0, local.size()) != local ||
      username[local.size()] != ':') {
    return false;
  }
  const std::string_view remote = username.substr(local.size() + 1);
  if (remote_ufrag_.empty()) return !remote.empty();
  return remote == remote_ufrag_;
}

IceResult IceLiteServer::HandleRequest(std::span<const uint8_t> request, const Tuple& from,
                                       int64_t now_ms, std::span<uint8_t> response_buf) {
  ++stats_.requests;
  Result<StunMessage> parsed = StunMessage::Parse(request);
  if (!parsed.ok()) return Drop(IceDropReason::kMalformed);
  const StunMessage& msg = *parsed;
  if (msg.message_class() != StunClass::kRequest) return Drop(IceDropReason::kNotRequest);
  // A wrong FINGERPRINT means corruption or not-STUN: silently discard (RFC 8489 §7.3).
  if (msg.has_fingerprint() && !msg.CheckFingerprint()) {
    return Drop(IceDropReason::kBadFingerprint);
  }
  const auto tid = msg.transaction_id();
  if (msg.method() != kStunMethodBinding) return Error(tid, 400, false, {}, response_buf);
  // RFC 8489 §9.1.3: no USERNAME or no MESSAGE-INTEGRITY is a Bad Request.
  if (!msg.username().has_value() || !msg.has_message_integrity()) {
    return Error(tid, 400, false, {}, response_buf);
  }
  // RFC 8445 §7.3: connectivity checks carry FINGERPRINT.
  if (!msg.has_fingerprint()) return Error(tid, 400, false, {}, response_buf);

  // STUN-05: an unvalidated tuple that has used up its failure budget is not
  // even checked, so a ufrag/pwd cannot be probed faster than the bucket allows.
  const bool known_tuple = FindTuple(from) != nullptr;
  if (!known_tuple && !HasFailureTokens(from, now_ms)) {
    ++stats_.rate_limited;
    return Drop(IceDropReason::kRateLimited);
  }
  if (!UsernameMatches(*msg.username()) || !msg.CheckIntegrity(local_.pwd)) {
    ++stats_.auth_failures;
    if (!TakeFailureToken(from, now_ms)) {
      ++stats_.rate_limited;
      return Drop(IceDropReason::kRateLimited);
    }
    return Error(tid, 401, false, {}, response_buf);
  }

  // An ICE-lite agent is always controlled; a peer claiming controlled too is a
  // role conflict.
  if (msg.ice_controlled().has_value()) return Error(tid, 487, true, {}, response_buf);
  if (!msg.priority().has_value()) return Error(tid, 400, true, {}, response_buf);
  // RFC 8489 §6.3.1: unknown comprehension-required attributes, after auth.
  if (!msg.unknown_comprehension_required().empty()) {
    return Error(tid, 420, true, msg.unknown_comprehension_required(), response_buf);
  }

  StunMessageBuilder b(response_buf, kStunMethodBinding, StunClass::kSuccessResponse, tid);
  (void)b.AddXorMappedAddress(from.endpoint);
  (void)b.AddMessageIntegrity(local_.pwd);
  (void)b.AddFingerprint();
  Result<std::span<const uint8_t>> built = b.Finish();  // first error, if any, lands here
  if (!built.ok()) return Drop(IceDropReason::kResponseBufferSmall);

  IceResult result;
  result.action = IceAction::kSuccessResponse;
  result.response = *built;
  result.selected_tuple_changed = OnValidRequest(from, now_ms, msg.use_candidate());
  ++stats_.success_responses;
  return result;
}

IceResult IceLiteServer::Drop(IceDropReason reason) {
  ++stats_.dropped;
  IceResult r;
  r.action = IceAction::kDrop;
  r.drop_reason = reason;
  return r;
}

IceResult IceLiteServer::Error(std::span<const uint8_t, 12> tid, uint16_t code, bool authenticated,
                               std::span<const uint16_t> unknown, std::span<uint8_t> out) {
  StunMessageBuilder b(out, kStunMethodBinding, StunClass::kErrorResponse, tid);
  (void)b.AddErrorCode(code, ReasonPhrase(code));
  if (!unknown.empty()) (void)b.AddUnknownAttributes(unknown);
  // RFC 8489 §9.1.3: 400/401 for unauthenticated requests carry no MI; once the
  // request authenticated, the response is protected with the same password.
  if (authenticated) (void)b.AddMessageIntegrity(local_.pwd);
  (void)b.AddFingerprint();
  Result<std::span<const uint8_t>> built = b.Finish();
  if (!built.ok()) return Drop(IceDropReason::kResponseBufferSmall);
  ++stats_.error_responses;
  IceResult r;
  r.action = IceAction::kErrorResponse;
  r.response = *built;
  r.error_code = code;
  return r;
}

IceLiteServer::ValidTuple* IceLiteServer::FindTuple(const Tuple& tuple) {
  for (ValidTuple& t : tuples_) {
    if (t.tuple == tuple) return &t;
  }
  return nullptr;
}

const IceLiteServer::ValidTuple* IceLiteServer::FindTuple(const Tuple& tuple) const {
  for (const ValidTuple& t : tuples_) {
    if (t.tuple == tuple) return &t;
  }
  return nullptr;
}

void IceLiteServer::RemoveTuple(const Tuple& tuple) {
  std::erase_if(tuples_, [&](const ValidTuple& t) { return t.tuple == tuple; });
  std::erase_if(buckets_, [&](const FailureBucket& b) { return b.tuple == tuple; });
  if (selected_.has_value() && *selected_ == tuple) {
    selected_.reset();
    selected_nominated_ = false;
  }
}

bool IceLiteServer::OnValidRequest(const Tuple& from, int64_t now_ms, bool use_candidate) {
  ValidTuple* tuple = FindTuple(from);
  if (tuple == nullptr) {
    if (tuples_.size() >= options_.max_tuples) {
      // Evict the least recently validated tuple that is not the selected one.
      auto victim = tuples_.end();
      for (auto it = tuples_.begin(); it != tuples_.end(); ++it) {
        if (selected_.has_value() && it->tuple == *selected_) continue;
        if (victim == tuples_.end() || it->last_valid_ms < victim->last_valid_ms) victim = it;
      }
      if (victim != tuples_.end()) tuples_.erase(victim);
    }
    tuples_.push_back(ValidTuple{from, now_ms});
    tuple = &tuples_.back();
  }
  tuple->last_valid_ms = now_ms;

  bool changed = false;
  if (use_candidate) {
    // The controlling peer nominated this pair: media moves here (address change).
    changed = !selected_.has_value() || *selected_ != from;
    selected_ = from;
    selected_nominated_ = true;
  } else if (!selected_.has_value() || (*selected_ != from && !IsConsentFresh(now_ms))) {
    // First validated path, or the selected one lost consent while this one is
    // alive: media goes here until the peer nominates.
    changed = true;
    selected_ = from;
    selected_nominated_ = false;
  }
  if (changed && listener_ != nullptr) listener_->OnSelectedTupleChanged(from);
  return changed;
}

std::optional<Tuple> IceLiteServer::selected_tuple() const { return selected_; }

bool IceLiteServer::IsConsentFresh(int64_t now_ms) const {
  return selected_.has_value() && IsValidTuple(*selected_, now_ms);
}

bool IceLiteServer::IsValidTuple(const Tuple& tuple, int64_t now_ms) const {
  const ValidTuple* t = FindTuple(tuple);
  return t != nullptr && now_ms - t->last_valid_ms < options_.consent_timeout_ms;
}

IceLiteServer::FailureBucket* IceLiteServer::Bucket(const Tuple& tuple, int64_t now_ms) {
  const int64_t capacity = int64_t{options_.failed_auth_burst} * kMilliTokensPerToken;
  auto refill = [&](FailureBucket& b) {
    const int64_t elapsed = std::clamp<int64_t>(now_ms - b.last_refill_ms, 0, kMaxRefillElapsedMs);
    // failed_auth_per_s tokens per second == failed_auth_per_s milli-tokens per ms.
    b.milli_tokens = std::min(capacity, b.milli_tokens + elapsed * options_.failed_auth_per_s);
    b.last_refill_ms = std::max(b.last_refill_ms, now_ms);
  };
  for (FailureBucket& b : buckets_) {
    if (b.tuple == tuple) {
      refill(b);
      return &b;
    }
  }
  if (buckets_.size() < options_.max_failure_buckets) {
    buckets_.push_back(FailureBucket{tuple, now_ms, capacity});
    return &buckets_.back();
  }
  // Table full: a bucket that has refilled completely is the same as no bucket,
  // so it can be reused. Otherwise fail closed (a legitimate peer never fails).
  for (FailureBucket& b : buckets_) {
    refill(b);
    if (b.milli_tokens >= capacity) {
      b = FailureBucket{tuple, now_ms, capacity};
      return &b;
    }
  }
  return nullptr;
}

bool IceLiteServer::HasFailureTokens(const Tuple& tuple, int64_t now_ms) {
  for (const FailureBucket& b : buckets_) {
    if (b.tuple == tuple) {
      FailureBucket* refilled = Bucket(tuple, now_ms);
      return refilled != nullptr && refilled->milli_tokens >= kMilliTokensPerToken;
    }
  }
  return true;  // never failed: a full bucket
}

bool IceLiteServer::TakeFailureToken(const Tuple& tuple, int64_t now_ms) {
  FailureBucket* b = Bucket(tuple, now_ms);
  if (b == nullptr || b->milli_tokens < kMilliTokensPerToken) return false;
  b->milli_tokens -= kMilliTokensPerToken;
  return true;
}

}  // namespace aegis::rtc
