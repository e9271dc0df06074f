// Thin, allocation-light wrappers over OpenSSL for the primitives Aegis uses
// on its control plane: CSPRNG, SHA-256, HMAC-SHA256/SHA1, constant-time
// comparison, hex and base64 codecs. All functions are thread-safe. Decoders
// take untrusted input and return std::nullopt on anything malformed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aegis::crypto {

using Bytes = std::vector<uint8_t>;
using Digest256 = std::array<uint8_t, 32>;

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// CSPRNG (OpenSSL RAND_bytes). Aborts only if the OS entropy source fails,
// which is not recoverable.
void RandomBytes(std::span<uint8_t> out);
Bytes RandomBytes(size_t n);
// Uniform random 32-bit value, never 0 (RTP/RTCP SSRCs, sequence and timestamp bases).
uint32_t RandomNonZeroU32();
// Uniform 64-bit value from the CSPRNG (ICE tie-breakers).
uint64_t RandomU64();
// Uniform random string over [A-Za-z0-9].
std::string RandomAlnum(size_t n);
// RFC 4122 version 4 UUID, lowercase.
std::string Uuid4();

Digest256 Sha256(std::span<const uint8_t> data);
Digest256 HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);
std::array<uint8_t, 20> HmacSha1(std::span<const uint8_t> key, std::span<const uint8_t> data);

// Constant-time equality (CRYPTO_memcmp); different lengths compare unequal.
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

std::string HexEncode(std::span<const uint8_t> data);
std::optional<Bytes> HexDecode(std::string_view hex);

// Standard alphabet with '=' padding (RFC 4648 §4).
std::string Base64Encode(std::span<const uint8_t> data);
// Strict: rejects bad characters, bad padding and non-canonical trailing bits.
std::optional<Bytes> Base64Decode(std::string_view text);

// Overwrites memory in a way the compiler cannot elide (OPENSSL_cleanse).
void SecureZero(std::span<uint8_t> data);

}  // namespace aegis::crypto
