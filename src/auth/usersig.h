// UserSig ("TLS sig v2" ticket) and PrivateMapKey (userbuf) codec and
// verifier, byte-compatible with tickets issued by existing customer backends
// (R3). Input tickets are untrusted: every decoder is bounds checked, inflate
// is capped (no zip bombs), and each failure has its own stable error code:
//   usersig_malformed, usersig_bad_version, usersig_sdkappid_mismatch,
//   usersig_identifier_mismatch, usersig_expired, usersig_bad_signature,
//   usersig_no_key, privatemapkey_malformed, privatemapkey_expired,
//   privatemapkey_room_mismatch, privatemapkey_sdkappid_mismatch,
//   privatemapkey_identifier_mismatch
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aegis::auth {

inline constexpr size_t kMaxUserSigCompressedBytes = 4096;
inline constexpr size_t kMaxUserSigInflatedBytes = 16384;
inline constexpr size_t kMaxUserIdBytes = 32;

// Privilege bits of a PrivateMapKey.
enum PrivilegeBit : uint32_t {
  kPrivCreateRoom = 1,
  kPrivEnterRoom = 2,
  kPrivSendAudio = 4,
  kPrivRecvAudio = 8,
  kPrivSendVideo = 16,
  kPrivRecvVideo = 32,
  kPrivSendScreen = 64,
  kPrivRecvScreen = 128,
  kPrivAll = 255,
};

struct PrivateMapKey {
  uint8_t version = 0;  // 0: numeric room, 1: string room
  std::string account;  // user id
  uint32_t sdkappid = 0;
  uint32_t room_id = 0;    // 0 for string rooms
  uint32_t expire_at = 0;  // absolute unix time
  uint32_t privilege_map = 0;
  uint32_t account_type = 0;
  std::string str_room_id;  // version 1 only
};

// Big-endian userbuf layout (see docs/SECURITY.md).
std::vector<uint8_t> EncodeUserBuf(const PrivateMapKey& pmk);
Result<PrivateMapKey> DecodeUserBuf(std::span<const uint8_t> userbuf);

// True for 1..32 bytes of [A-Za-z0-9_-].
bool IsValidUserId(std::string_view user_id);

struct UserSigInfo {
  std::string identifier;
  uint32_t sdkappid = 0;
  int64_t time = 0;
  int64_t expire = 0;                            // seconds after time
  std::optional<PrivateMapKey> private_map_key;  // when TLS.userbuf present
  size_t matched_key_index = 0;                  // which of the candidate keys verified it
};

struct UserSigGenParams {
  uint32_t sdkappid = 0;
  std::string key;  // application key, used as the HMAC key bytes as-is
  std::string user_id;
  int64_t expire = int64_t{86400} * 180;
  int64_t time = 0;  // 0: now
  std::optional<PrivateMapKey> private_map_key;
};

// Errors: usersig_bad_userid, usersig_bad_params.
Result<std::string> GenUserSig(const UserSigGenParams& params);

// Decodes without checking the signature or expiry (for `usersig verify`
// output and diagnostics). Errors: usersig_malformed, usersig_bad_version,
// privatemapkey_malformed (TLS.userbuf is base64 but not a valid userbuf).
Result<UserSigInfo> DecodeUserSig(std::string_view ticket);

struct UserSigCheck {
  uint32_t sdkappid = 0;
  std::string user_id;
  std::vector<std::string> keys;  // every active key of the application
  int64_t now = 0;                // unix seconds
  int64_t clock_skew_s = 300;
};

// Full verification (decode, version, sdkappid, identifier, expiry, MAC in
// constant time under any of the keys; for PrivateMapKey also its sdkappid,
// account and expiry). Room matching is done by the caller with
// CheckPrivateMapKeyRoom when it knows the room being entered.
Result<UserSigInfo> VerifyUserSig(std::string_view ticket, const UserSigCheck& check);

// privatemapkey_room_mismatch unless the PMK grants that room.
Status CheckPrivateMapKeyRoom(const PrivateMapKey& pmk, uint32_t room_id,
                              std::string_view str_room_id);

}  // namespace aegis::auth
