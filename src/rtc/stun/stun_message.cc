#include "rtc/stun/stun_message.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/primitives.h"

namespace aegis::rtc {
namespace {

constexpr size_t kAttrHeaderSize = 4;
constexpr size_t kMessageIntegritySize = 20;
constexpr size_t kFingerprintSize = 4;
// RFC 8489 §14.6: MESSAGE-INTEGRITY-SHA256 is 16..32 bytes, a multiple of 4.
constexpr size_t kMiSha256MinSize = 16;
constexpr size_t kMiSha256MaxSize = 32;
// RFC 8489 §14.8/§14.14: reason phrase and SOFTWARE are < 128 characters,
// which is at most 763 bytes of UTF-8.
constexpr size_t kMaxUtf8TextSize = 763;
constexpr size_t kMaxBuilderReasonSize = 127;
// CheckIntegrity() copies the covered prefix to rewrite the length field; a
// datagram-sized prefix stays on the stack, larger (TCP-framed) ones allocate.
constexpr size_t kIntegrityStackCopy = 1536;

Status HeaderError(const char* code, const char* what, size_t value) {
  char msg[160];
  (void)std::snprintf(msg, sizeof(msg), "%s (got %zu)", what, value);
  return Status::Error(code, msg);
}

Status AttrError(const char* code, const char* what, uint16_t type, size_t length) {
  char msg[160];
  (void)std::snprintf(msg, sizeof(msg), "%s (attribute 0x%04x, length %zu)", what, type, length);
  return Status::Error(code, msg);
}

constexpr size_t Padded(size_t n) { return (n + 3) & ~size_t{3}; }

uint16_t EncodeType(uint16_t method, StunClass cls) {
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>(((method & 0x0F80) << 2) | ((method & 0x0070) << 1) |
                               (method & 0x000F) | ((c & 0x2) << 7) | ((c & 0x1) << 4));
}

uint32_t Crc32(std::span<const uint8_t> data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // STUN messages are < 64 KiB, so one call with a uInt length suffices.
  crc = crc32(crc, data.data(), static_cast<uInt>(data.size()));
  return static_cast<uint32_t>(crc);
}

uint32_t ReadBe32(std::span<const uint8_t> v) {
  ByteReader r(v);
  uint32_t out = 0;
  return r.ReadU32(&out) ? out : 0;
}

uint64_t ReadBe64(std::span<const uint8_t> v) {
  ByteReader r(v);
  uint32_t hi = 0, lo = 0;
  if (!r.ReadU32(&hi) || !r.ReadU32(&lo)) return 0;
  return (uint64_t{hi} << 32) | lo;
}

// Checks a (XOR-)MAPPED-ADDRESS value: reserved byte, family, size.
bool ValidAddressValue(std::span<const uint8_t> v) {
  if (v.size() < 4) return false;
  if (v[1] == 0x01) return v.size() == 8;
  if (v[1] == 0x02) return v.size() == 20;
  return false;
}

}  // namespace

bool IsStun(std::span<const uint8_t> data) {
  if (data.size() < kStunHeaderSize) return false;
  if (data[0] > 3) return false;
  return ReadBe32(data.subspan(4, 4)) == kStunMagicCookie;
}

Result<StunMessage> StunMessage::Parse(std::span<const uint8_t> data) {
  if (data.size() < kStunHeaderSize) {
    return HeaderError("stun_truncated_header", "message shorter than the 20-byte header",
                       data.size());
  }
  ByteReader r(data);
  uint16_t type = 0, length = 0;
  uint32_t cookie = 0;
  if (!r.ReadU16(&type) || !r.ReadU16(&length) || !r.ReadU32(&cookie) ||
      !r.Skip(kStunTransactionIdSize)) {
    return HeaderError("stun_truncated_header", "header", data.size());
  }
  if ((type & 0xC000) != 0) {
    return HeaderError("stun_bad_type", "top two bits of the message type are not 0", type);
  }
  if (cookie != kStunMagicCookie) {
    return HeaderError("stun_bad_cookie", "magic cookie is not 0x2112A442", cookie);
  }
  if (length % 4 != 0) {
    return HeaderError("stun_bad_length", "message length is not a multiple of 4", length);
  }
  if (length != r.remaining()) {
    return HeaderError("stun_bad_length", "message length does not match the datagram", length);
  }

  StunMessage m;
  m.data_ = data;
  m.method_ =
      static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  m.class_ = static_cast<StunClass>(((type & 0x0100) >> 7) | ((type & 0x0010) >> 4));

  bool after_mi = false;
  bool after_mi_sha256 = false;
  size_t total_attributes = 0;
  while (!r.empty()) {
    const size_t attr_start = r.position();
    uint16_t atype = 0, alen = 0;
    if (!r.ReadU16(&atype) || !r.ReadU16(&alen)) {
      return HeaderError("stun_attr_truncated", "attribute header runs past the message end",
                         r.remaining());
    }
    if (++total_attributes > kMaxAttributes) {
      return AttrError("stun_too_many_attributes", "more attributes than allowed", atype,
                       total_attributes);
    }
    // RFC 5389 §15.5: FINGERPRINT MUST be the last attribute.
    if (m.fp_offset_ != 0) {
      return AttrError("stun_fingerprint_not_last", "attribute after FINGERPRINT", atype, alen);
    }
    std::span<const uint8_t> value;
    if (!r.ReadBytes(alen, &value)) {
      return AttrError("stun_attr_length", "attribute length runs past the message end", atype,
                       alen);
    }
    if (!r.Skip(Padded(alen) - alen)) {
      return AttrError("stun_attr_padding", "attribute padding runs past the message end", atype,
                       alen);
    }
    // RFC 8489 §14.5/§14.6: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256
    // and FINGERPRINT count; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT.
    // Ignored attributes were still bounds-checked above.
    if (after_mi_sha256 && atype != stun_attr::kFingerprint) continue;
    if (after_mi && atype != stun_attr::kMessageIntegritySha256 &&
        atype != stun_attr::kFingerprint) {
      continue;
    }

    bool ok = true;
    switch (atype) {
      case stun_attr::kMessageIntegrity:
        if (alen != kMessageIntegritySize) {
          return AttrError("stun_bad_message_integrity", "MESSAGE-INTEGRITY must be 20 bytes",
                           atype, alen);
        }
        m.mi_offset_ = attr_start;
        after_mi = true;
        break;
      case stun_attr::kMessageIntegritySha256:
        if (alen < kMiSha256MinSize || alen > kMiSha256MaxSize || alen % 4 != 0) {
          return AttrError("stun_bad_message_integrity",
                           "MESSAGE-INTEGRITY-SHA256 must be 16..32 bytes, multiple of 4", atype,
                           alen);
        }
        after_mi_sha256 = true;
        break;
      case stun_attr::kFingerprint:
        if (alen != kFingerprintSize) {
          return AttrError("stun_bad_fingerprint", "FINGERPRINT must be 4 bytes", atype, alen);
        }
        m.fp_offset_ = attr_start;
        break;
      case stun_attr::kUsername:
        ok = alen <= kMaxUsernameSize;
        break;
      case stun_attr::kPriority:
        ok = alen == 4;
        break;
      case stun_attr::kUseCandidate:
        ok = alen == 0;
        break;
      case stun_attr::kIceControlled:
      case stun_attr::kIceControlling:
        ok = alen == 8;
        break;
      case stun_attr::kXorMappedAddress:
      case stun_attr::kMappedAddress:
        ok = ValidAddressValue(value);
        break;
      case stun_attr::kErrorCode:
        ok = alen >= 4 && alen <= 4 + kMaxUtf8TextSize && (value[2] & 0x07) >= 3 &&
             (value[2] & 0x07) <= 6 && value[3] < 100;
        break;
      case stun_attr::kUnknownAttributes:
        ok = alen % 2 == 0;
        break;
      case stun_attr::kSoftware:
        ok = alen <= kMaxUtf8TextSize;
        break;
      case stun_attr::kRealm:
      case stun_attr::kNonce:
      case stun_attr::kPasswordAlgorithm:
      case stun_attr::kUserhash:
        break;  // recognised (long-term credentials); not interpreted here
      default:
        // RFC 5389 §15: 0x0000-0x7FFF are comprehension-required.
        if (atype < 0x8000 && m.unknown_required_count_ < kMaxUnknownRequired) {
          m.unknown_required_[m.unknown_required_count_++] = atype;
        }
        break;
    }
    if (!ok) {
      return AttrError("stun_bad_attr_value", "attribute value has an invalid size or content",
                       atype, alen);
    }
    m.attrs_[m.attr_count_++] =
        Attribute{atype, alen, static_cast<uint32_t>(attr_start + kAttrHeaderSize)};
  }
  return m;
}

const StunMessage::Attribute* StunMessage::Find(uint16_t type) const {
  for (size_t i = 0; i < attr_count_; ++i) {
    if (attrs_[i].type == type) return &attrs_[i];
  }
  return nullptr;
}

std::optional<std::string_view> StunMessage::username() const {
  const Attribute* a = Find(stun_attr::kUsername);
  if (a == nullptr) return std::nullopt;
  return crypto::AsString(Value(*a));
}

std::optional<std::string_view> StunMessage::software() const {
  const Attribute* a = Find(stun_attr::kSoftware);
  if (a == nullptr) return std::nullopt;
  return crypto::AsString(Value(*a));
}

std::optional<uint32_t> StunMessage::priority() const {
  const Attribute* a = Find(stun_attr::kPriority);
  if (a == nullptr) return std::nullopt;
  return ReadBe32(Value(*a));
}

std::optional<uint64_t> StunMessage::ice_controlled() const {
  const Attribute* a = Find(stun_attr::kIceControlled);
  if (a == nullptr) return std::nullopt;
  return ReadBe64(Value(*a));
}

std::optional<uint64_t> StunMessage::ice_controlling() const {
  const Attribute* a = Find(stun_attr::kIceControlling);
  if (a == nullptr) return std::nullopt;
  return ReadBe64(Value(*a));
}

std::optional<Endpoint> StunMessage::xor_mapped_address() const {
  const Attribute* a = Find(stun_attr::kXorMappedAddress);
  if (a == nullptr) return std::nullopt;
  const std::span<const uint8_t> v = Value(*a);  // size validated by Parse
  const uint16_t port = static_cast<uint16_t>(((v[2] << 8) | v[3]) ^ (kStunMagicCookie >> 16));
  // XOR key: magic cookie followed by the transaction id (RFC 5389 §15.2).
  std::array<uint8_t, 16> key{};
  for (size_t i = 0; i < 16; ++i) key[i] = data_[4 + i];
  if (v[1] == 0x01) {
    std::array<uint8_t, 4> addr{};
    for (size_t i = 0; i < 4; ++i) addr[i] = v[4 + i] ^ key[i];
    return Endpoint::V4(addr, port);
  }
  std::array<uint8_t, 16> addr{};
  for (size_t i = 0; i < 16; ++i) addr[i] = v[4 + i] ^ key[i];
  return Endpoint::V6(addr, port);
}

std::optional<StunMessage::ErrorCode> StunMessage::error_code() const {
  const Attribute* a = Find(stun_attr::kErrorCode);
  if (a == nullptr) return std::nullopt;
  const std::span<const uint8_t> v = Value(*a);
  ErrorCode ec;
  ec.code = static_cast<uint16_t>((v[2] & 0x07) * 100 + v[3]);
  ec.reason = crypto::AsString(v.subspan(4));
  return ec;
}

std::span<const uint8_t> StunMessage::unknown_attributes() const {
  const Attribute* a = Find(stun_attr::kUnknownAttributes);
  if (a == nullptr) return {};
  return Value(*a);
}

bool StunMessage::CheckIntegrity(std::span<const uint8_t> key) const {
  if (mi_offset_ == 0 || key.empty()) return false;
  const size_t covered = mi_offset_;
  // The length field as if MESSAGE-INTEGRITY were the last attribute.
  const size_t adjusted = covered + kAttrHeaderSize + kMessageIntegritySize - kStunHeaderSize;
  std::array<uint8_t, 20> mac{};
  auto compute = [&](std::span<uint8_t> copy) {
    std::memcpy(copy.data(), data_.data(), covered);
    copy[2] = static_cast<uint8_t>(adjusted >> 8);
    copy[3] = static_cast<uint8_t>(adjusted);
    mac = crypto::HmacSha1(key, copy);
  };
  if (covered <= kIntegrityStackCopy) {
    std::array<uint8_t, kIntegrityStackCopy> copy;
    compute(std::span<uint8_t>(copy).first(covered));
  } else {
    std::vector<uint8_t> copy(covered);
    compute(copy);
  }
  return crypto::ConstantTimeEqual(
      mac, data_.subspan(mi_offset_ + kAttrHeaderSize, kMessageIntegritySize));
}

bool StunMessage::CheckIntegrity(std::string_view password) const {
  return CheckIntegrity(crypto::AsBytes(password));
}

bool StunMessage::CheckFingerprint() const {
  if (fp_offset_ == 0) return false;
  const uint32_t expected = Crc32(data_.first(fp_offset_)) ^ kStunFingerprintXor;
  return ReadBe32(data_.subspan(fp_offset_ + kAttrHeaderSize, kFingerprintSize)) == expected;
}

// --- Builder

StunMessageBuilder::StunMessageBuilder(
    std::span<uint8_t> out, uint16_t method, StunClass cls,
    std::span<const uint8_t, kStunTransactionIdSize> transaction_id)
    : out_(out), writer_(out) {
  if (method > 0x0FFF) {
    error_ = Status::Error("stun_builder_value", "method does not fit in 12 bits");
    return;
  }
  if (!writer_.WriteU16(EncodeType(method, cls)) || !writer_.WriteU16(0) ||
      !writer_.WriteU32(kStunMagicCookie) || !writer_.WriteBytes(transaction_id)) {
    error_ = Status::Error("stun_buffer_too_small", "no room for the STUN header");
  }
}

Status StunMessageBuilder::Fail(Status s) {
  if (error_.ok()) error_ = s;
  return s;
}

Status StunMessageBuilder::Add(uint16_t type, std::span<const uint8_t> value) {
  if (!error_.ok()) return error_;
  if (has_fp_ || (has_mi_ && type != stun_attr::kFingerprint)) {
    return Fail(Status::Error("stun_builder_order", "attribute after MESSAGE-INTEGRITY"));
  }
  if (value.size() > 0xFFFF) {
    return Fail(Status::Error("stun_builder_value", "attribute value too long"));
  }
  const size_t padded = Padded(value.size());
  if (writer_.remaining() < kAttrHeaderSize + padded ||
      writer_.size() + kAttrHeaderSize + padded - kStunHeaderSize > 0xFFFF) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for the attribute"));
  }
  if (!writer_.WriteU16(type) || !writer_.WriteU16(static_cast<uint16_t>(value.size())) ||
      !writer_.WriteBytes(value) || !writer_.WriteZeros(padded - value.size()) ||
      !writer_.PatchU16(2, static_cast<uint16_t>(writer_.size() - kStunHeaderSize))) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for the attribute"));
  }
  return Status::Ok();
}

Status StunMessageBuilder::AddUsername(std::string_view username) {
  if (username.size() > StunMessage::kMaxUsernameSize) {
    return Fail(Status::Error("stun_builder_value", "USERNAME longer than 512 bytes"));
  }
  return Add(stun_attr::kUsername, crypto::AsBytes(username));
}

Status StunMessageBuilder::AddPriority(uint32_t priority) {
  std::array<uint8_t, 4> v{};
  ByteWriter w(v);
  (void)w.WriteU32(priority);  // fits by construction
  return Add(stun_attr::kPriority, v);
}

Status StunMessageBuilder::AddUseCandidate() { return Add(stun_attr::kUseCandidate, {}); }

Status StunMessageBuilder::AddIceControlled(uint64_t tie_breaker) {
  std::array<uint8_t, 8> v{};
  ByteWriter w(v);
  (void)w.WriteU32(static_cast<uint32_t>(tie_breaker >> 32));
  (void)w.WriteU32(static_cast<uint32_t>(tie_breaker));
  return Add(stun_attr::kIceControlled, v);
}

Status StunMessageBuilder::AddIceControlling(uint64_t tie_breaker) {
  std::array<uint8_t, 8> v{};
  ByteWriter w(v);
  (void)w.WriteU32(static_cast<uint32_t>(tie_breaker >> 32));
  (void)w.WriteU32(static_cast<uint32_t>(tie_breaker));
  return Add(stun_attr::kIceControlling, v);
}

Status StunMessageBuilder::AddSoftware(std::string_view software) {
  if (software.size() > kMaxUtf8TextSize) {
    return Fail(Status::Error("stun_builder_value", "SOFTWARE too long"));
  }
  return Add(stun_attr::kSoftware, crypto::AsBytes(software));
}

Status StunMessageBuilder::AddXorMappedAddress(const Endpoint& endpoint) {
  if (!error_.ok()) return error_;
  // XOR key: magic cookie followed by the transaction id, already in the header.
  const std::span<const uint8_t> key = std::span<const uint8_t>(out_).subspan(4, 16);
  std::array<uint8_t, 20> v{};
  v[1] = endpoint.is_v4() ? 0x01 : 0x02;
  const uint16_t xport = endpoint.port() ^ static_cast<uint16_t>(kStunMagicCookie >> 16);
  v[2] = static_cast<uint8_t>(xport >> 8);
  v[3] = static_cast<uint8_t>(xport);
  const size_t n = endpoint.address_size();
  for (size_t i = 0; i < n; ++i) v[4 + i] = endpoint.address()[i] ^ key[i];
  return Add(stun_attr::kXorMappedAddress, std::span<const uint8_t>(v).first(4 + n));
}

Status StunMessageBuilder::AddErrorCode(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kMaxBuilderReasonSize) {
    return Fail(Status::Error("stun_builder_value", "ERROR-CODE out of range"));
  }
  std::array<uint8_t, 4 + kMaxBuilderReasonSize> v{};
  v[2] = static_cast<uint8_t>(code / 100);
  v[3] = static_cast<uint8_t>(code % 100);
  if (!reason.empty()) std::memcpy(v.data() + 4, reason.data(), reason.size());
  return Add(stun_attr::kErrorCode, std::span<const uint8_t>(v).first(4 + reason.size()));
}

Status StunMessageBuilder::AddUnknownAttributes(std::span<const uint16_t> types) {
  std::array<uint8_t, 2 * StunMessage::kMaxUnknownRequired> v{};
  if (types.size() > StunMessage::kMaxUnknownRequired) {
    return Fail(Status::Error("stun_builder_value", "too many UNKNOWN-ATTRIBUTES"));
  }
  for (size_t i = 0; i < types.size(); ++i) {
    v[2 * i] = static_cast<uint8_t>(types[i] >> 8);
    v[2 * i + 1] = static_cast<uint8_t>(types[i]);
  }
  return Add(stun_attr::kUnknownAttributes, std::span<const uint8_t>(v).first(2 * types.size()));
}

Status StunMessageBuilder::AddRaw(uint16_t type, std::span<const uint8_t> value) {
  return Add(type, value);
}

Status StunMessageBuilder::AddMessageIntegrity(std::span<const uint8_t> key) {
  if (!error_.ok()) return error_;
  if (has_mi_ || has_fp_) {
    return Fail(
        Status::Error("stun_builder_order", "MESSAGE-INTEGRITY twice or after FINGERPRINT"));
  }
  if (key.empty()) return Fail(Status::Error("stun_builder_value", "empty integrity key"));
  const size_t start = writer_.size();
  if (writer_.remaining() < kAttrHeaderSize + kMessageIntegritySize ||
      start + kAttrHeaderSize + kMessageIntegritySize - kStunHeaderSize > 0xFFFF) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for MESSAGE-INTEGRITY"));
  }
  const auto length =
      static_cast<uint16_t>(start + kAttrHeaderSize + kMessageIntegritySize - kStunHeaderSize);
  // The HMAC covers the header with the length already counting MI (§15.4).
  if (!writer_.PatchU16(2, length) || !writer_.WriteU16(stun_attr::kMessageIntegrity) ||
      !writer_.WriteU16(kMessageIntegritySize)) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for MESSAGE-INTEGRITY"));
  }
  const std::array<uint8_t, 20> mac =
      crypto::HmacSha1(key, std::span<const uint8_t>(out_).first(start));
  if (!writer_.WriteBytes(mac)) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for MESSAGE-INTEGRITY"));
  }
  has_mi_ = true;
  return Status::Ok();
}

Status StunMessageBuilder::AddMessageIntegrity(std::string_view password) {
  return AddMessageIntegrity(crypto::AsBytes(password));
}

Status StunMessageBuilder::AddFingerprint() {
  if (!error_.ok()) return error_;
  if (has_fp_) return Fail(Status::Error("stun_builder_order", "FINGERPRINT twice"));
  const size_t start = writer_.size();
  if (writer_.remaining() < kAttrHeaderSize + kFingerprintSize ||
      start + kAttrHeaderSize + kFingerprintSize - kStunHeaderSize > 0xFFFF) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for FINGERPRINT"));
  }
  const auto length =
      static_cast<uint16_t>(start + kAttrHeaderSize + kFingerprintSize - kStunHeaderSize);
  if (!writer_.PatchU16(2, length) || !writer_.WriteU16(stun_attr::kFingerprint) ||
      !writer_.WriteU16(kFingerprintSize)) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for FINGERPRINT"));
  }
  const uint32_t crc = Crc32(std::span<const uint8_t>(out_).first(start)) ^ kStunFingerprintXor;
  if (!writer_.WriteU32(crc)) {
    return Fail(Status::Error("stun_buffer_too_small", "no room for FINGERPRINT"));
  }
  has_fp_ = true;
  return Status::Ok();
}

Result<std::span<const uint8_t>> StunMessageBuilder::Finish() {
  if (!error_.ok()) return error_;
  return std::span<const uint8_t>(writer_.Written());
}

}  // namespace aegis::rtc
