// Crypto primitives of the OpenSSL EVP SrtpSession (internal to src/rtc/srtp;
// tests use them for the RFC vectors): AES-CTR and AES-GCM each on one EVP
// context keyed once, HMAC-SHA1 with precomputed pads, and the AES-CM key
// derivation of RFC 3711 §4.3. After Init() no call allocates or creates a
// context. Lengths are the caller's job (the session checks every one before
// calling). Owned by one SrtpSession; not thread-safe.
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"

namespace aegis::rtc::srtp_internal {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// AES-128/256 in counter mode with a 128-bit big-endian counter block, which
// equals RFC 3711 §4.1.1's 16-bit block counter for segments under 2^16
// blocks (every packet; the B.2 vector is 65282 blocks).
class AesCtr {
 public:
  static constexpr size_t kIvSize = 16;

  // `key` is 16 or 32 bytes; anything else is kInit.
  Status Init(std::span<const uint8_t> key);
  // XORs the keystream that starts at counter block `iv` into `data`.
  [[nodiscard]] bool Apply(std::span<const uint8_t, kIvSize> iv, std::span<uint8_t> data);

 private:
  CipherCtxPtr ctx_;
};

// AES-128/256-GCM with a 12-byte IV and a 16-byte tag (RFC 7714 §7). The
// associated data is `aad_head || aad_tail` (SRTCP puts the ESRTCP word
// after the header). One instance either seals or opens, never both.
class AesGcm {
 public:
  static constexpr size_t kIvSize = 12;
  static constexpr size_t kTagSize = 16;

  Status Init(std::span<const uint8_t> key, bool encrypt);
  // Encrypts `data` in place and writes the tag.
  [[nodiscard]] bool Seal(std::span<const uint8_t, kIvSize> iv, std::span<const uint8_t> aad_head,
                          std::span<const uint8_t> aad_tail, std::span<uint8_t> data,
                          std::span<uint8_t, kTagSize> tag);
  // Decrypts `data` in place; false when the tag does not verify, in which
  // case `data` holds unauthenticated bytes the caller must discard.
  [[nodiscard]] bool Open(std::span<const uint8_t, kIvSize> iv, std::span<const uint8_t> aad_head,
                          std::span<const uint8_t> aad_tail, std::span<uint8_t> data,
                          std::span<const uint8_t, kTagSize> tag);

 private:
  CipherCtxPtr ctx_;
  bool encrypt_ = true;
};

// HMAC-SHA1 (RFC 2104) over `first || second`. The inner and outer pad
// states are hashed once at Init() and copied per call: OpenSSL 3.0's
// EVP_MAC and EVP_MD reinit paths allocate a provider context per call
// (measured: 2 and 1 mallocs per MAC), the plain SHA_CTX copy does not.
class HmacSha1 {
 public:
  static constexpr size_t kDigestSize = 20;

  HmacSha1() = default;
  ~HmacSha1();
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  // `key` is at most 64 bytes (SRTP uses 20).
  Status Init(std::span<const uint8_t> key);
  void Compute(std::span<const uint8_t> first, std::span<const uint8_t> second,
               std::span<uint8_t, kDigestSize> out) const;

 private:
  SHA_CTX inner_{};
  SHA_CTX outer_{};
};

// RFC 3711 §4.3.1/§4.3.3 with kdr = 0: `out` = AES-CM(master_key) keystream
// at x * 2^16, x = (label << 48) XOR master_salt. A 12-byte AEAD master salt
// is right-padded with two zero bytes (RFC 7714 §11 with libsrtp's reading).
Status DeriveSrtpKey(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
                     uint8_t label, std::span<uint8_t> out);

// Key-derivation labels (RFC 3711 §4.3.1 and §4.3.2).
inline constexpr uint8_t kLabelRtpCipher = 0x00;
inline constexpr uint8_t kLabelRtpAuth = 0x01;
inline constexpr uint8_t kLabelRtpSalt = 0x02;
inline constexpr uint8_t kLabelRtcpCipher = 0x03;
inline constexpr uint8_t kLabelRtcpAuth = 0x04;
inline constexpr uint8_t kLabelRtcpSalt = 0x05;

}  // namespace aegis::rtc::srtp_internal
