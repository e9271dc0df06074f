// STUN message (RFC 5389 / RFC 8489) as used by ICE: a cheap IsStun()
// classifier, StunMessage::Parse() over untrusted bytes, and a builder that
// writes into a caller buffer. StunMessage holds views into the parsed buffer:
// the caller keeps that buffer alive and unchanged. Parse() does not allocate
// (fixed attribute table) except for the Status on its error path. Value types,
// owned by one event loop; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/endpoint.h"

namespace aegis::rtc {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr size_t kStunHeaderSize = 20;
inline constexpr size_t kStunTransactionIdSize = 12;
inline constexpr uint16_t kStunMethodBinding = 0x001;
// RFC 5389 §15.5
inline constexpr uint32_t kStunFingerprintXor = 0x5354554e;

using StunTransactionId = std::array<uint8_t, kStunTransactionIdSize>;

enum class StunClass : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

// Attribute types this module understands (RFC 5389, RFC 8489, RFC 8445).
namespace stun_attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kUserhash = 0x001E;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace stun_attr

// RFC 7983 / mediasoup IsStun(): first byte 0..3, at least a full header, magic
// cookie at bytes 4..7. Reads nothing past data.size().
bool IsStun(std::span<const uint8_t> data);

class StunMessage {
 public:
  // Attributes per message, counting ignored ones. Browsers send fewer than 12;
  // anything above this is rejected ("stun_too_many_attributes").
  static constexpr size_t kMaxAttributes = 32;
  // Unknown comprehension-required types remembered for a 420 response.
  static constexpr size_t kMaxUnknownRequired = 4;
  // RFC 5389 §15.3: USERNAME MUST be < 513 bytes.
  static constexpr size_t kMaxUsernameSize = 512;

  struct ErrorCode {
    uint16_t code = 0;        // 300..699
    std::string_view reason;  // UTF-8, a view into the message
  };

  // Validates header and every attribute length before use; every error names
  // the offending field. The returned message views `data`.
  static Result<StunMessage> Parse(std::span<const uint8_t> data);

  // --- Header
  uint16_t method() const { return method_; }
  StunClass message_class() const { return class_; }
  std::span<const uint8_t, kStunTransactionIdSize> transaction_id() const {
    return data_.subspan<8, kStunTransactionIdSize>();
  }
  std::span<const uint8_t> data() const { return data_; }

  // --- Attributes (first occurrence wins; values validated by Parse)
  std::optional<std::string_view> username() const;
  std::optional<uint32_t> priority() const;
  bool use_candidate() const { return Find(stun_attr::kUseCandidate) != nullptr; }
  std::optional<uint64_t> ice_controlled() const;   // tie-breaker
  std::optional<uint64_t> ice_controlling() const;  // tie-breaker
  std::optional<Endpoint> xor_mapped_address() const;
  std::optional<ErrorCode> error_code() const;
  std::optional<std::string_view> software() const;
  // UNKNOWN-ATTRIBUTES value (pairs of big-endian types); empty when absent.
  std::span<const uint8_t> unknown_attributes() const;
  bool has_message_integrity() const { return mi_offset_ != 0; }
  bool has_message_integrity_sha256() const {
    return Find(stun_attr::kMessageIntegritySha256) != nullptr;
  }
  bool has_fingerprint() const { return fp_offset_ != 0; }

  // Comprehension-required (type < 0x8000) attributes this parser does not know,
  // in order, before MESSAGE-INTEGRITY; at most kMaxUnknownRequired are kept.
  std::span<const uint16_t> unknown_comprehension_required() const {
    return std::span<const uint16_t>(unknown_required_.data(), unknown_required_count_);
  }
  size_t attribute_count() const { return attr_count_; }

  // RFC 5389 §15.4: HMAC-SHA1 with `key` over the message up to
  // MESSAGE-INTEGRITY, the length field rewritten to end at that attribute;
  // constant-time comparison (STUN-03). False when there is no MI. For
  // short-term credentials (ICE) the key is the password itself.
  bool CheckIntegrity(std::span<const uint8_t> key) const;
  bool CheckIntegrity(std::string_view password) const;
  // RFC 5389 §15.5: CRC-32 of everything before FINGERPRINT, xor 0x5354554e.
  // False when there is no FINGERPRINT.
  bool CheckFingerprint() const;

 private:
  struct Attribute {
    uint16_t type = 0;
    uint16_t length = 0;
    uint32_t offset = 0;  // of the value, from the start of the message
  };

  StunMessage() = default;
  const Attribute* Find(uint16_t type) const;
  std::span<const uint8_t> Value(const Attribute& a) const {
    return data_.subspan(a.offset, a.length);
  }

  std::span<const uint8_t> data_;
  uint16_t method_ = 0;
  StunClass class_ = StunClass::kRequest;
  // Offsets of the attribute *headers*; 0 means absent (the header occupies 0).
  size_t mi_offset_ = 0;
  size_t fp_offset_ = 0;
  std::array<Attribute, kMaxAttributes> attrs_{};
  size_t attr_count_ = 0;  // stored (not ignored) attributes
  std::array<uint16_t, kMaxUnknownRequired> unknown_required_{};
  size_t unknown_required_count_ = 0;
};

// Writes one STUN message into a caller-owned buffer. Call order: constructor,
// then attributes, then optionally AddMessageIntegrity(), then optionally
// AddFingerprint(), then Finish(). Attributes after MI (other than FINGERPRINT)
// and anything after FINGERPRINT are refused. Errors: "stun_buffer_too_small",
// "stun_builder_order", "stun_builder_value". The buffer must outlive the span
// returned by Finish(). Not thread-safe.
class StunMessageBuilder {
 public:
  StunMessageBuilder(std::span<uint8_t> out, uint16_t method, StunClass cls,
                     std::span<const uint8_t, kStunTransactionIdSize> transaction_id);

  Status AddUsername(std::string_view username);
  Status AddPriority(uint32_t priority);
  Status AddUseCandidate();
  Status AddIceControlled(uint64_t tie_breaker);
  Status AddIceControlling(uint64_t tie_breaker);
  Status AddSoftware(std::string_view software);
  Status AddXorMappedAddress(const Endpoint& endpoint);
  // code 300..699; reason phrase at most 127 bytes.
  Status AddErrorCode(uint16_t code, std::string_view reason);
  Status AddUnknownAttributes(std::span<const uint16_t> types);
  // Any attribute (for tests and fuzz seeds); value padded with zeros.
  Status AddRaw(uint16_t type, std::span<const uint8_t> value);
  Status AddMessageIntegrity(std::span<const uint8_t> key);
  Status AddMessageIntegrity(std::string_view password);
  Status AddFingerprint();

  // The finished message, or the first error met while building.
  Result<std::span<const uint8_t>> Finish();

 private:
  Status Add(uint16_t type, std::span<const uint8_t> value);
  Status Fail(Status s);

  std::span<uint8_t> out_;
  ByteWriter writer_;
  bool has_mi_ = false;
  bool has_fp_ = false;
  Status error_;  // first error; later calls are no-ops
};

}  // namespace aegis::rtc
