// SrtpSession on OpenSSL 3 EVP (DESIGN.md "SRTP"): AES-CM + HMAC-SHA1-80
// (RFC 3711 §4.1.1, §4.2.1) and AEAD AES-128/256-GCM (RFC 7714 §8-§10),
// session keys from the RFC 3711 §4.3 KDF. Cipher contexts and HMAC pad
// states are built once in Create(); per packet the only work is an IV
// reseed, the cipher pass and the tag, with no allocation (the SSRC table
// grows only when a new SSRC arrives beyond its reserved capacity).
// Inbound: every length is checked before any read, the replay window is
// consulted before any crypto and updated only after authentication.
#include "rtc/srtp/evp_srtp_session.h"

#include <openssl/crypto.h>

#include <array>
#include <cstring>
#include <string>

#include "rtc/srtp/srtp_crypto.h"
#include "rtc/srtp/srtp_replay.h"

namespace aegis::rtc {
namespace {

using srtp_internal::AesCtr;
using srtp_internal::AesGcm;
using srtp_internal::EstimateRtpIndex;
using srtp_internal::HmacSha1;
using srtp_internal::ReplayVerdict;
using srtp_internal::ReplayWindow;
using srtp_internal::SsrcTable;

// Inbound RTP replay window: the same 1024 the libsrtp oracle is configured
// with (RFC 3711 §3.3.2's 64 is too small once NACK and simulcast reorder
// video). Outbound, protecting an index this far behind the newest one is
// refused: it can only be a rewriting bug and would reuse a keystream.
constexpr uint64_t kRtpWindow = 1024;
constexpr size_t kRtcpWindow = 128;  // libsrtp's SRTCP window
// A transport normally carries 1-6 SSRCs; a subscriber's outbound session
// carries one per consumed track. Evicting a live stream would lose its ROC
// and SRTCP index, so the table grows on a new SSRC rather than evict early.
constexpr size_t kReservedStreams = 8;
constexpr size_t kMaxStreams = 1024;
constexpr uint32_t kMaxSrtcpIndex = 0x7FFFFFFF;  // 31 bits (RFC 3711 §3.4)
constexpr uint32_t kEFlag = 0x80000000;
constexpr size_t kEsrtcpWordSize = 4;
constexpr size_t kCmTagSize = 10;  // HMAC-SHA1 truncated to 80 bits
constexpr size_t kCmSaltSize = 14;
constexpr size_t kGcmSaltSize = 12;
constexpr size_t kHmacKeySize = 20;

struct InboundStream {
  ReplayWindow<kRtpWindow> rtp;
  ReplayWindow<kRtcpWindow> rtcp;
};
struct OutboundStream {
  uint64_t rtp_highest = 0;  // highest 48-bit index protected so far
  uint32_t rtcp_index = 0;   // last SRTCP index sent; the first one is 1, as in libsrtp
};

// The state of an SSRC not seen yet (RFC 3711 §3.3.1: ROC 0).
constexpr ReplayWindow<kRtpWindow> kFreshRtpWindow{};
constexpr ReplayWindow<kRtcpWindow> kFreshRtcpWindow{};

uint16_t Read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Read32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void Write32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

bool IsKnownProfile(SrtpProfile p) {
  return p == SrtpProfile::kAes128CmHmacSha1_80 || p == SrtpProfile::kAeadAes128Gcm ||
         p == SrtpProfile::kAeadAes256Gcm;
}

// Keys and contexts for one of SRTP and SRTCP.
struct Transform {
  AesCtr ctr;     // AES-CM profile
  HmacSha1 hmac;  // AES-CM profile
  AesGcm gcm;     // AEAD profiles
  std::array<uint8_t, kCmSaltSize> salt{};
  size_t salt_size = 0;

  // The IV of RFC 3711 §4.1.1 (16 bytes, the last two the block counter) or
  // RFC 7714 §8.1/§9.1 (12 bytes): the salt XOR SSRC XOR a 48-bit value
  // (ROC || SEQ, or the SRTCP index) aligned to the salt's end.
  std::array<uint8_t, AesCtr::kIvSize> Iv(uint32_t ssrc, uint64_t value48) const {
    std::array<uint8_t, AesCtr::kIvSize> iv{};
    std::memcpy(iv.data(), salt.data(), salt_size);
    const size_t value_at = salt_size - 6;
    const size_t ssrc_at = value_at - 4;
    for (size_t i = 0; i < 4; ++i) iv[ssrc_at + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    for (size_t i = 0; i < 6; ++i) {
      iv[value_at + i] ^= static_cast<uint8_t>(value48 >> (40 - 8 * i));
    }
    return iv;
  }
};

class EvpSrtpSession final : public SrtpSession {
 public:
  EvpSrtpSession(SrtpProfile profile, Direction direction)
      : profile_(profile),
        direction_(direction),
        aead_(profile != SrtpProfile::kAes128CmHmacSha1_80),
        tag_size_(SrtpTagLength(profile)),
        in_streams_(direction == Direction::kInbound ? kReservedStreams : 0, kMaxStreams),
        out_streams_(direction == Direction::kOutbound ? kReservedStreams : 0, kMaxStreams) {}

  ~EvpSrtpSession() override {
    OPENSSL_cleanse(rtp_.salt.data(), rtp_.salt.size());
    OPENSSL_cleanse(rtcp_.salt.data(), rtcp_.salt.size());
  }

  Status Init(const SrtpSessionKeys& rtp, const SrtpSessionKeys& rtcp) {
    AEGIS_RETURN_IF_ERROR(InitTransform(rtp, "rtp", &rtp_));
    return InitTransform(rtcp, "rtcp", &rtcp_);
  }

  Status ProtectRtp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kOutbound, buffer, len, "protect rtp"));
    const size_t header = SrtpRtpHeaderLength(buffer, *len);
    if (header == 0) return Status::Error(kBadLength, "protect rtp: header does not fit");
    if (buffer.size() - *len < tag_size_) {
      return Status::Error(kNoRoom, "protect rtp: no room for the SRTP tag");
    }
    uint8_t* p = buffer.data();
    const uint16_t seq = Read16(p + 2);
    const uint32_t ssrc = Read32(p + 8);
    OutboundStream* stream = out_streams_.Find(ssrc);
    if (stream == nullptr) stream = &out_streams_.Insert(ssrc);
    const uint64_t index = EstimateRtpIndex(stream->rtp_highest, seq);
    if (index + kRtpWindow <= stream->rtp_highest) {
      return Status::Error(kReplay, "protect rtp: sequence number 1024 or more behind the newest");
    }
    const std::span<uint8_t> payload = buffer.subspan(header, *len - header);
    const auto iv = rtp_.Iv(ssrc, index);
    if (aead_) {
      if (!rtp_.gcm.Seal(std::span(iv).first<AesGcm::kIvSize>(), buffer.first(header), {}, payload,
                         buffer.subspan(*len).first<AesGcm::kTagSize>())) {
        return Status::Error(kInit, "protect rtp: AES-GCM failed");
      }
    } else {
      if (!rtp_.ctr.Apply(iv, payload)) return Status::Error(kInit, "protect rtp: AES-CM failed");
      // RFC 3711 §4.2: the tag covers the packet followed by the ROC.
      std::array<uint8_t, 4> roc{};
      Write32(roc.data(), static_cast<uint32_t>(index >> 16));
      std::array<uint8_t, HmacSha1::kDigestSize> mac{};
      rtp_.hmac.Compute(buffer.first(*len), roc, mac);
      std::memcpy(p + *len, mac.data(), kCmTagSize);
    }
    if (index > stream->rtp_highest) stream->rtp_highest = index;
    *len += tag_size_;
    return Status::Ok();
  }

  Status UnprotectRtp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kInbound, buffer, len, "unprotect rtp"));
    const size_t header = SrtpRtpHeaderLength(buffer, *len);
    if (header == 0 || header + tag_size_ > *len) {
      return Status::Error(kBadLength, "unprotect rtp: shorter than header + tag");
    }
    uint8_t* p = buffer.data();
    const uint16_t seq = Read16(p + 2);
    const uint32_t ssrc = Read32(p + 8);
    InboundStream* stream = in_streams_.Find(ssrc);
    const ReplayWindow<kRtpWindow>& window = stream != nullptr ? stream->rtp : kFreshRtpWindow;
    const uint64_t index = EstimateRtpIndex(window.highest(), seq);
    AEGIS_RETURN_IF_ERROR(CheckReplay(window.Check(index), "unprotect rtp"));

    const size_t body_end = *len - tag_size_;
    const std::span<uint8_t> payload = buffer.subspan(header, body_end - header);
    const auto iv = rtp_.Iv(ssrc, index);
    if (aead_) {
      if (!rtp_.gcm.Open(std::span(iv).first<AesGcm::kIvSize>(), buffer.first(header), {}, payload,
                         buffer.subspan(body_end).first<AesGcm::kTagSize>())) {
        return AuthFailed(buffer, *len, "unprotect rtp");
      }
    } else {
      std::array<uint8_t, 4> roc{};
      Write32(roc.data(), static_cast<uint32_t>(index >> 16));
      std::array<uint8_t, HmacSha1::kDigestSize> mac{};
      rtp_.hmac.Compute(buffer.first(body_end), roc, mac);
      if (CRYPTO_memcmp(mac.data(), p + body_end, kCmTagSize) != 0) {
        return AuthFailed(buffer, *len, "unprotect rtp");
      }
      if (!rtp_.ctr.Apply(iv, payload)) return Status::Error(kInit, "unprotect rtp: AES-CM failed");
    }
    if (stream == nullptr) stream = &in_streams_.Insert(ssrc);
    stream->rtp.Add(index);
    *len = body_end;
    return Status::Ok();
  }

  Status ProtectRtcp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kOutbound, buffer, len, "protect rtcp"));
    if (*len < kRtcpHeaderSize) {
      return Status::Error(kBadLength, "protect rtcp: shorter than 8 bytes");
    }
    if (buffer.size() - *len < SrtpRtcpOverhead(profile_)) {
      return Status::Error(kNoRoom, "protect rtcp: no room for the SRTCP trailer");
    }
    uint8_t* p = buffer.data();
    const uint32_t ssrc = Read32(p + 4);
    OutboundStream* stream = out_streams_.Find(ssrc);
    if (stream == nullptr) stream = &out_streams_.Insert(ssrc);
    if (stream->rtcp_index >= kMaxSrtcpIndex) {
      return Status::Error(kInit,
                           "protect rtcp: SRTCP index exhausted, the session needs new keys");
    }
    const uint32_t index = stream->rtcp_index + 1;
    std::array<uint8_t, kEsrtcpWordSize> esrtcp{};
    Write32(esrtcp.data(), kEFlag | index);
    const std::span<uint8_t> body = buffer.subspan(kRtcpHeaderSize, *len - kRtcpHeaderSize);
    const auto iv = rtcp_.Iv(ssrc, index);
    if (aead_) {
      // RFC 7714 §9.2 / §17: header || ciphertext || tag || ESRTCP word; the
      // AAD is the header followed by the ESRTCP word.
      if (!rtcp_.gcm.Seal(std::span(iv).first<AesGcm::kIvSize>(), buffer.first(kRtcpHeaderSize),
                          esrtcp, body, buffer.subspan(*len).first<AesGcm::kTagSize>())) {
        return Status::Error(kInit, "protect rtcp: AES-GCM failed");
      }
      std::memcpy(p + *len + AesGcm::kTagSize, esrtcp.data(), esrtcp.size());
    } else {
      // RFC 3711 §3.4: header || ciphertext || E+index || tag over all before it.
      if (!rtcp_.ctr.Apply(iv, body)) return Status::Error(kInit, "protect rtcp: AES-CM failed");
      std::memcpy(p + *len, esrtcp.data(), esrtcp.size());
      std::array<uint8_t, HmacSha1::kDigestSize> mac{};
      rtcp_.hmac.Compute(buffer.first(*len + kEsrtcpWordSize), {}, mac);
      std::memcpy(p + *len + kEsrtcpWordSize, mac.data(), kCmTagSize);
    }
    stream->rtcp_index = index;
    *len += SrtpRtcpOverhead(profile_);
    return Status::Ok();
  }

  Status UnprotectRtcp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kInbound, buffer, len, "unprotect rtcp"));
    // RFC 3711 §3.4: header + sender SSRC, then E||index and the tag.
    if (*len < kRtcpHeaderSize + SrtpRtcpOverhead(profile_)) {
      return Status::Error(kBadLength, "unprotect rtcp: shorter than header + index + tag");
    }
    uint8_t* p = buffer.data();
    // AEAD: ... || tag || ESRTCP word; AES-CM: ... || ESRTCP word || tag.
    const size_t esrtcp_at = aead_ ? *len - kEsrtcpWordSize : *len - kCmTagSize - kEsrtcpWordSize;
    const size_t body_end = aead_ ? esrtcp_at - AesGcm::kTagSize : esrtcp_at;
    const uint32_t word = Read32(p + esrtcp_at);
    const bool encrypted = (word & kEFlag) != 0;
    const uint32_t index = word & kMaxSrtcpIndex;
    const uint32_t ssrc = Read32(p + 4);
    InboundStream* stream = in_streams_.Find(ssrc);
    const ReplayWindow<kRtcpWindow>& window = stream != nullptr ? stream->rtcp : kFreshRtcpWindow;
    AEGIS_RETURN_IF_ERROR(CheckReplay(window.Check(index), "unprotect rtcp"));

    const std::span<const uint8_t> esrtcp(p + esrtcp_at, kEsrtcpWordSize);
    const auto iv = rtcp_.Iv(ssrc, index);
    if (aead_) {
      const auto gcm_iv = std::span(iv).first<AesGcm::kIvSize>();
      const auto tag = buffer.subspan(body_end).first<AesGcm::kTagSize>();
      // E = 0 (RFC 7714 §9.3, vectors §17.3/§17.4): authenticated only, the
      // whole packet is AAD. Peers may send it; it is authenticated either way.
      const bool ok =
          encrypted
              ? rtcp_.gcm.Open(gcm_iv, buffer.first(kRtcpHeaderSize), esrtcp,
                               buffer.subspan(kRtcpHeaderSize, body_end - kRtcpHeaderSize), tag)
              : rtcp_.gcm.Open(gcm_iv, buffer.first(body_end), esrtcp, {}, tag);
      if (!ok) return AuthFailed(buffer, *len, "unprotect rtcp");
    } else {
      std::array<uint8_t, HmacSha1::kDigestSize> mac{};
      rtcp_.hmac.Compute(buffer.first(esrtcp_at + kEsrtcpWordSize), {}, mac);
      if (CRYPTO_memcmp(mac.data(), p + esrtcp_at + kEsrtcpWordSize, kCmTagSize) != 0) {
        return AuthFailed(buffer, *len, "unprotect rtcp");
      }
      if (encrypted &&
          !rtcp_.ctr.Apply(iv, buffer.subspan(kRtcpHeaderSize, body_end - kRtcpHeaderSize))) {
        return Status::Error(kInit, "unprotect rtcp: AES-CM failed");
      }
    }
    if (stream == nullptr) stream = &in_streams_.Insert(ssrc);
    stream->rtcp.Add(index);
    *len = body_end;
    return Status::Ok();
  }

  SrtpProfile profile() const override { return profile_; }
  Direction direction() const override { return direction_; }

 private:
  Status InitTransform(const SrtpSessionKeys& keys, const char* what, Transform* t) const {
    const size_t salt_size = aead_ ? kGcmSaltSize : kCmSaltSize;
    const size_t auth_size = aead_ ? 0 : kHmacKeySize;
    if (keys.cipher_key.size() != SrtpMasterKeyLength(profile_) || keys.salt.size() != salt_size ||
        keys.auth_key.size() != auth_size) {
      return Status::Error(kInit, std::string(what) + ": session key, salt or auth key length");
    }
    if (aead_) {
      AEGIS_RETURN_IF_ERROR(t->gcm.Init(keys.cipher_key, direction_ == Direction::kOutbound));
    } else {
      AEGIS_RETURN_IF_ERROR(t->ctr.Init(keys.cipher_key));
      AEGIS_RETURN_IF_ERROR(t->hmac.Init(keys.auth_key));
    }
    std::memcpy(t->salt.data(), keys.salt.data(), salt_size);
    t->salt_size = salt_size;
    return Status::Ok();
  }

  static Status CheckReplay(ReplayVerdict verdict, const char* what) {
    switch (verdict) {
      case ReplayVerdict::kNew:
        return Status::Ok();
      case ReplayVerdict::kReplayed:
        return Status::Error(kReplay, std::string(what) + ": index already received");
      case ReplayVerdict::kTooOld:
        break;
    }
    return Status::Error(kReplay, std::string(what) + ": index behind the replay window");
  }

  // A GCM open has already written unauthenticated plaintext into the
  // buffer; both profiles wipe it so a caller ignoring the Status forwards
  // nothing (the same promise the libsrtp adapter keeps).
  static Status AuthFailed(std::span<uint8_t> buffer, size_t len, const char* what) {
    std::memset(buffer.data(), 0, len);
    return Status::Error(kAuthFailed, std::string(what) + ": authentication failed");
  }

  // Passed by argument.
  const SrtpProfile profile_;
  const Direction direction_;
  const bool aead_;
  const size_t tag_size_;
  // Allocated by this: keyed EVP contexts (Init) and per-SSRC state; only the
  // table of this session's direction is ever filled.
  Transform rtp_;
  Transform rtcp_;
  SsrcTable<InboundStream> in_streams_;
  SsrcTable<OutboundStream> out_streams_;
};

}  // namespace

Result<std::unique_ptr<SrtpSession>> CreateEvpSrtpSession(SrtpProfile profile,
                                                          const SrtpSessionKeys& rtp,
                                                          const SrtpSessionKeys& rtcp,
                                                          SrtpSession::Direction direction) {
  if (!IsKnownProfile(profile)) return Status::Error(SrtpSession::kInit, "unknown SRTP profile");
  auto session = std::make_unique<EvpSrtpSession>(profile, direction);
  AEGIS_RETURN_IF_ERROR(session->Init(rtp, rtcp));
  return std::unique_ptr<SrtpSession>(std::move(session));
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(SrtpProfile profile,
                                                         std::span<const uint8_t> key_and_salt,
                                                         Direction direction) {
  if (!IsKnownProfile(profile)) return Status::Error(kInit, "unknown SRTP profile");
  if (key_and_salt.size() != SrtpKeyAndSaltLength(profile)) {
    return Status::Error(kInit, "key||salt is " + std::to_string(key_and_salt.size()) +
                                    " bytes, profile needs " +
                                    std::to_string(SrtpKeyAndSaltLength(profile)));
  }
  const size_t key_size = SrtpMasterKeyLength(profile);
  const bool aead = profile != SrtpProfile::kAes128CmHmacSha1_80;
  const size_t salt_size = aead ? kGcmSaltSize : kCmSaltSize;
  const size_t auth_size = aead ? 0 : kHmacKeySize;
  const std::span<const uint8_t> master_key = key_and_salt.first(key_size);
  const std::span<const uint8_t> master_salt = key_and_salt.subspan(key_size);

  // Session keys for SRTP (labels 0-2) then SRTCP (3-5), RFC 3711 §4.3.2;
  // RFC 7714 §11 uses the same KDF with the AEAD key and salt lengths.
  struct Derived {
    std::array<uint8_t, 32> key{};
    std::array<uint8_t, kCmSaltSize> salt{};
    std::array<uint8_t, kHmacKeySize> auth{};
  };
  std::array<Derived, 2> derived{};
  Status status = Status::Ok();
  for (size_t i = 0; i < derived.size() && status.ok(); ++i) {
    const uint8_t cipher_label =
        i == 0 ? srtp_internal::kLabelRtpCipher : srtp_internal::kLabelRtcpCipher;
    const uint8_t auth_label =
        i == 0 ? srtp_internal::kLabelRtpAuth : srtp_internal::kLabelRtcpAuth;
    const uint8_t salt_label =
        i == 0 ? srtp_internal::kLabelRtpSalt : srtp_internal::kLabelRtcpSalt;
    Derived& d = derived[i];
    status = srtp_internal::DeriveSrtpKey(master_key, master_salt, cipher_label,
                                          std::span(d.key).first(key_size));
    if (status.ok()) {
      status = srtp_internal::DeriveSrtpKey(master_key, master_salt, salt_label,
                                            std::span(d.salt).first(salt_size));
    }
    if (status.ok() && !aead) {
      status = srtp_internal::DeriveSrtpKey(master_key, master_salt, auth_label, d.auth);
    }
  }
  if (!status.ok()) {
    OPENSSL_cleanse(derived.data(), sizeof(derived));
    return status;
  }
  const auto keys = [&](const Derived& d) {
    return SrtpSessionKeys{std::span(d.key).first(key_size), std::span(d.salt).first(salt_size),
                           std::span(d.auth).first(auth_size)};
  };
  Result<std::unique_ptr<SrtpSession>> session =
      CreateEvpSrtpSession(profile, keys(derived[0]), keys(derived[1]), direction);
  OPENSSL_cleanse(derived.data(), sizeof(derived));
  return session;
}

Status SrtpSession::CheckCall(Direction wanted, std::span<uint8_t> buffer, const size_t* len,
                              const char* what) const {
  if (direction() != wanted) {
    return Status::Error(kWrongDirection, std::string(what) + ": wrong session direction");
  }
  if (len == nullptr || *len > buffer.size() || *len > kMaxPacketSize) {
    return Status::Error(kBadLength, std::string(what) + ": length beyond buffer or 1500");
  }
  return Status::Ok();
}

size_t SrtpRtpHeaderLength(std::span<const uint8_t> packet, size_t len) {
  if (len < SrtpSession::kRtpHeaderSize) return 0;
  size_t header = SrtpSession::kRtpHeaderSize + size_t{4} * (packet[0] & 0x0Fu);
  if ((packet[0] & 0x10u) != 0) {
    if (header + 4 > len) return 0;
    const size_t words = (size_t{packet[header + 2]} << 8) | packet[header + 3];
    header += 4 + 4 * words;
  }
  return header <= len ? header : 0;
}

}  // namespace aegis::rtc
