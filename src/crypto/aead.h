// AES-256-GCM sealing with a fresh random 96-bit nonce per message.
// Output layout: nonce(12) || ciphertext || tag(16). The associated data is
// authenticated, not stored: the caller must present the same AAD to open.
// Thread-safe (a new EVP context per call: this is control-plane code).
#pragma once

#include <span>

#include "core/status.h"
#include "crypto/primitives.h"

namespace aegis::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;
inline constexpr size_t kAeadOverhead = kAeadNonceBytes + kAeadTagBytes;

// key must be 32 bytes (checked; wrong size is a programming error -> error status).
Result<Bytes> AesGcmSeal(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                         std::span<const uint8_t> plaintext);

// Errors: crypto_bad_ciphertext (too short), crypto_auth_failed (tag mismatch,
// wrong key or wrong AAD).
Result<Bytes> AesGcmOpen(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                         std::span<const uint8_t> sealed);

}  // namespace aegis::crypto
