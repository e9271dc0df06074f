// UserSig / PrivateMapKey codec and verifier. Reference implementation for
// byte compatibility: the official generators (tls-sig-api-v2 for Node, Java,
// Python, Go, PHP). They all emit TLS.sdkappid/TLS.time/TLS.expire as JSON
// numbers; some customer wrappers pass them through as strings, so decoding
// accepts a canonical decimal string too (the signed content is the decimal
// text either way, so canonical form keeps the MAC input unambiguous).
#include "auth/usersig.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/clock.h"
#include "crypto/primitives.h"

namespace aegis::auth {
namespace {

using nlohmann::json;

constexpr std::string_view kTicketVersion = "2.0";
// JavaScript's Number.MAX_SAFE_INTEGER: no real generator can emit more, and it
// keeps time + expire far from int64 overflow.
constexpr uint64_t kMaxTicketInteger = (uint64_t{1} << 53) - 1;
// Base64 text of kMaxUserSigCompressedBytes, padded.
constexpr size_t kMaxTicketChars = (kMaxUserSigCompressedBytes + 2) / 3 * 4;
// Fixed part of a userbuf: version, account length, five u32 fields.
constexpr size_t kUserBufFixedBytes = 1 + 2 + 5 * 4;

Status Malformed(std::string message) {
  return Status::Error("usersig_malformed", std::move(message));
}
Status PmkMalformed(std::string message) {
  return Status::Error("privatemapkey_malformed", std::move(message));
}

// Bounds-checked big-endian reader over an untrusted userbuf.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  bool U8(uint8_t* out) {
    if (remaining() < 1) {
      return false;
    }
    *out = data_[pos_++];
    return true;
  }
  bool U16(uint16_t* out) {
    if (remaining() < 2) {
      return false;
    }
    *out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* out) {
    if (remaining() < 4) {
      return false;
    }
    *out = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
           (uint32_t{data_[pos_ + 2]} << 8) | uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  bool Str(size_t n, std::string* out) {
    if (remaining() < n) {
      return false;
    }
    out->assign(reinterpret_cast<const char*>(data_.data()) + pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

void PutU16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}
void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  out->push_back(static_cast<uint8_t>(v >> 24));
  out->push_back(static_cast<uint8_t>(v >> 16));
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

// zlib-format inflate that never produces more than kMaxUserSigInflatedBytes:
// a 4 KiB deflate stream can expand ~1000x, so the output cap, not the input
// cap, is what stops a zip bomb.
Result<std::string> BoundedInflate(std::span<const uint8_t> in) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) {
    return Malformed("inflate init failed");
  }
  std::string out(kMaxUserSigInflatedBytes + 1, '\0');
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  const size_t produced = out.size() - zs.avail_out;
  const size_t unconsumed = zs.avail_in;
  inflateEnd(&zs);
  if (produced > kMaxUserSigInflatedBytes) {
    return Malformed("ticket inflates beyond " + std::to_string(kMaxUserSigInflatedBytes) +
                     " bytes");
  }
  if (rc != Z_STREAM_END) {
    return Malformed("ticket is not a complete zlib stream");
  }
  if (unconsumed != 0) {
    return Malformed("trailing bytes after zlib stream");
  }
  out.resize(produced);
  return out;
}

Result<std::string> TicketToJsonText(std::string_view ticket) {
  if (ticket.empty()) {
    return Malformed("empty ticket");
  }
  if (ticket.size() > kMaxTicketChars) {
    return Malformed("ticket longer than " + std::to_string(kMaxTicketChars) + " characters");
  }
  std::string b64(ticket);
  for (char& c : b64) {
    switch (c) {
      case '*':
        c = '+';
        break;
      case '-':
        c = '/';
        break;
      case '_':
        c = '=';
        break;
      case '+':
      case '/':
      case '=':
        // Not in the ticket alphabet; let the base64 decoder see a bad char.
        c = '!';
        break;
      default:
        break;
    }
  }
  // Tolerate stripped padding, as the official decoders do.
  if (b64.size() % 4 == 1) {
    return Malformed("ticket is not base64");
  }
  b64.append((4 - b64.size() % 4) % 4, '=');
  std::optional<crypto::Bytes> compressed = crypto::Base64Decode(b64);
  if (!compressed) {
    return Malformed("ticket is not base64");
  }
  if (compressed->size() > kMaxUserSigCompressedBytes) {
    return Malformed("ticket larger than " + std::to_string(kMaxUserSigCompressedBytes) +
                     " bytes compressed");
  }
  return BoundedInflate(*compressed);
}

// Canonical decimal: digits only, no sign, no leading zero (except "0").
bool ParseCanonicalDecimal(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 16 || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// A non-negative integer field: a JSON integer, or a canonical decimal string.
Status ReadInteger(const json& doc, const char* name, uint64_t max, uint64_t* out) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    return Malformed(std::string("missing ") + name);
  }
  uint64_t v = 0;
  if (it->is_number_unsigned()) {
    v = it->get<uint64_t>();
  } else if (it->is_number_integer()) {
    return Malformed(std::string(name) + " is negative");
  } else if (it->is_string()) {
    if (!ParseCanonicalDecimal(it->get_ref<const std::string&>(), &v)) {
      return Malformed(std::string(name) + " is not a canonical decimal");
    }
  } else {
    return Malformed(std::string(name) + " has the wrong type");
  }
  if (v > max) {
    return Malformed(std::string(name) + " out of range");
  }
  *out = v;
  return Status::Ok();
}

Status ReadString(const json& doc, const char* name, std::string* out) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    return Malformed(std::string("missing ") + name);
  }
  if (!it->is_string()) {
    return Malformed(std::string(name) + " has the wrong type");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

std::string SignedContent(std::string_view identifier, uint32_t sdkappid, int64_t time,
                          int64_t expire, const std::optional<std::string>& userbuf_b64) {
  std::string content;
  content.reserve(128 + identifier.size() + (userbuf_b64 ? userbuf_b64->size() : 0));
  content.append("TLS.identifier:").append(identifier).append("\n");
  content.append("TLS.sdkappid:").append(std::to_string(sdkappid)).append("\n");
  content.append("TLS.time:").append(std::to_string(time)).append("\n");
  content.append("TLS.expire:").append(std::to_string(expire)).append("\n");
  if (userbuf_b64) {
    content.append("TLS.userbuf:").append(*userbuf_b64).append("\n");
  }
  return content;
}

// Everything the verifier needs besides the public UserSigInfo.
struct DecodedTicket {
  UserSigInfo info;
  std::string content;  // the HMAC input
  crypto::Bytes mac;
};

Result<DecodedTicket> DecodeTicket(std::string_view ticket) {
  Result<std::string> text = TicketToJsonText(ticket);
  if (!text.ok()) {
    return text.status();
  }
  // nlohmann silently keeps the last of duplicate keys; a ticket with two
  // TLS.identifier fields is ambiguous, so reject it outright.
  std::set<std::string> top_keys;
  bool duplicate = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      if (!top_keys.insert(parsed.get<std::string>()).second) {
        duplicate = true;
      }
    }
    return true;
  };
  json doc = json::parse(*text, cb, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Malformed("ticket is not JSON");
  }
  if (duplicate) {
    return Malformed("duplicate field in ticket");
  }
  if (!doc.is_object()) {
    return Malformed("ticket is not a JSON object");
  }

  auto ver = doc.find("TLS.ver");
  if (ver == doc.end()) {
    return Status::Error("usersig_bad_version", "missing TLS.ver (not a v2 ticket)");
  }
  if (!ver->is_string()) {
    return Malformed("TLS.ver has the wrong type");
  }
  if (ver->get_ref<const std::string&>() != kTicketVersion) {
    return Status::Error("usersig_bad_version", "unsupported TLS.ver");
  }

  DecodedTicket out;
  UserSigInfo& info = out.info;
  AEGIS_RETURN_IF_ERROR(ReadString(doc, "TLS.identifier", &info.identifier));
  if (info.identifier.empty()) {
    return Malformed("empty TLS.identifier");
  }
  uint64_t sdkappid = 0;
  uint64_t time = 0;
  uint64_t expire = 0;
  AEGIS_RETURN_IF_ERROR(
      ReadInteger(doc, "TLS.sdkappid", std::numeric_limits<uint32_t>::max(), &sdkappid));
  AEGIS_RETURN_IF_ERROR(ReadInteger(doc, "TLS.time", kMaxTicketInteger, &time));
  AEGIS_RETURN_IF_ERROR(ReadInteger(doc, "TLS.expire", kMaxTicketInteger, &expire));
  info.sdkappid = static_cast<uint32_t>(sdkappid);
  info.time = static_cast<int64_t>(time);
  info.expire = static_cast<int64_t>(expire);

  std::optional<std::string> userbuf_b64;
  if (doc.contains("TLS.userbuf")) {
    std::string b64;
    AEGIS_RETURN_IF_ERROR(ReadString(doc, "TLS.userbuf", &b64));
    std::optional<crypto::Bytes> userbuf = crypto::Base64Decode(b64);
    if (!userbuf) {
      return Malformed("TLS.userbuf is not base64");
    }
    Result<PrivateMapKey> pmk = DecodeUserBuf(*userbuf);
    if (!pmk.ok()) {
      return pmk.status();
    }
    info.private_map_key = std::move(pmk).value();
    userbuf_b64 = std::move(b64);
  }

  std::string sig_b64;
  AEGIS_RETURN_IF_ERROR(ReadString(doc, "TLS.sig", &sig_b64));
  std::optional<crypto::Bytes> mac = crypto::Base64Decode(sig_b64);
  if (!mac || mac->size() != 32) {
    return Malformed("TLS.sig is not a base64 HMAC-SHA256");
  }
  out.mac = std::move(*mac);
  out.content = SignedContent(info.identifier, info.sdkappid, info.time, info.expire, userbuf_b64);
  return out;
}

}  // namespace

std::vector<uint8_t> EncodeUserBuf(const PrivateMapKey& pmk) {
  std::vector<uint8_t> out;
  out.reserve(kUserBufFixedBytes + pmk.account.size() + 2 + pmk.str_room_id.size());
  out.push_back(pmk.version);
  // Lengths are u16 on the wire; GenUserSig rejects longer strings before this.
  const size_t account_len = std::min<size_t>(pmk.account.size(), 0xFFFF);
  PutU16(&out, static_cast<uint16_t>(account_len));
  out.insert(out.end(), pmk.account.begin(), pmk.account.begin() + account_len);
  PutU32(&out, pmk.sdkappid);
  PutU32(&out, pmk.room_id);
  PutU32(&out, pmk.expire_at);
  PutU32(&out, pmk.privilege_map);
  PutU32(&out, pmk.account_type);
  if (pmk.version == 1) {
    const size_t room_len = std::min<size_t>(pmk.str_room_id.size(), 0xFFFF);
    PutU16(&out, static_cast<uint16_t>(room_len));
    out.insert(out.end(), pmk.str_room_id.begin(), pmk.str_room_id.begin() + room_len);
  }
  return out;
}

Result<PrivateMapKey> DecodeUserBuf(std::span<const uint8_t> userbuf) {
  Reader r(userbuf);
  PrivateMapKey pmk;
  uint16_t account_len = 0;
  if (!r.U8(&pmk.version)) {
    return PmkMalformed("userbuf empty");
  }
  if (pmk.version > 1) {
    return PmkMalformed("unknown userbuf version " + std::to_string(pmk.version));
  }
  if (!r.U16(&account_len)) {
    return PmkMalformed("userbuf truncated in account length");
  }
  if (!r.Str(account_len, &pmk.account)) {
    return PmkMalformed("account length beyond userbuf");
  }
  if (!r.U32(&pmk.sdkappid) || !r.U32(&pmk.room_id) || !r.U32(&pmk.expire_at) ||
      !r.U32(&pmk.privilege_map) || !r.U32(&pmk.account_type)) {
    return PmkMalformed("userbuf truncated in fixed fields");
  }
  if (pmk.version == 1) {
    uint16_t room_len = 0;
    if (!r.U16(&room_len)) {
      return PmkMalformed("userbuf truncated in room length");
    }
    if (!r.Str(room_len, &pmk.str_room_id)) {
      return PmkMalformed("room length beyond userbuf");
    }
  }
  if (r.remaining() != 0) {
    return PmkMalformed("trailing bytes in userbuf");
  }
  return pmk;
}

bool IsValidUserId(std::string_view user_id) {
  if (user_id.empty() || user_id.size() > kMaxUserIdBytes) {
    return false;
  }
  return std::all_of(user_id.begin(), user_id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Result<std::string> GenUserSig(const UserSigGenParams& params) {
  if (!IsValidUserId(params.user_id)) {
    return Status::Error("usersig_bad_userid", "user id must be 1..32 bytes of [A-Za-z0-9_-]");
  }
  if (params.sdkappid == 0) {
    return Status::Error("usersig_bad_params", "sdkappid must be set");
  }
  if (params.key.empty()) {
    return Status::Error("usersig_bad_params", "key must be set");
  }
  if (params.expire <= 0 || static_cast<uint64_t>(params.expire) > kMaxTicketInteger) {
    return Status::Error("usersig_bad_params", "expire out of range");
  }
  if (params.time < 0 || static_cast<uint64_t>(params.time) > kMaxTicketInteger) {
    return Status::Error("usersig_bad_params", "time out of range");
  }
  const int64_t time = params.time != 0 ? params.time : SystemClock::Instance().NowUnixSeconds();

  std::optional<std::string> userbuf_b64;
  if (params.private_map_key) {
    PrivateMapKey pmk = *params.private_map_key;
    // Like the official generators, account and sdkappid default to the ticket's.
    if (pmk.account.empty()) {
      pmk.account = params.user_id;
    }
    if (pmk.sdkappid == 0) {
      pmk.sdkappid = params.sdkappid;
    }
    if (pmk.account != params.user_id || pmk.sdkappid != params.sdkappid) {
      return Status::Error("usersig_bad_params",
                           "PrivateMapKey account/sdkappid differ from the ticket's");
    }
    if (pmk.version > 1 || (pmk.version == 0 && !pmk.str_room_id.empty()) ||
        (pmk.version == 1 && (pmk.str_room_id.empty() || pmk.str_room_id.size() > 0xFFFF))) {
      return Status::Error("usersig_bad_params", "PrivateMapKey room fields inconsistent");
    }
    userbuf_b64 = crypto::Base64Encode(EncodeUserBuf(pmk));
  }

  const std::string content =
      SignedContent(params.user_id, params.sdkappid, time, params.expire, userbuf_b64);
  const crypto::Digest256 mac =
      crypto::HmacSha256(crypto::AsBytes(params.key), crypto::AsBytes(content));

  // Same member order as the official generators (not required by decoders).
  std::string text = "{\"TLS.ver\":\"2.0\",\"TLS.identifier\":" + json(params.user_id).dump() +
                     ",\"TLS.sdkappid\":" + std::to_string(params.sdkappid) +
                     ",\"TLS.time\":" + std::to_string(time) +
                     ",\"TLS.expire\":" + std::to_string(params.expire);
  if (userbuf_b64) {
    text += ",\"TLS.userbuf\":" + json(*userbuf_b64).dump();
  }
  text += ",\"TLS.sig\":" + json(crypto::Base64Encode(mac)).dump() + "}";

  uLongf compressed_len = compressBound(static_cast<uLong>(text.size()));
  std::vector<uint8_t> compressed(compressed_len);
  if (compress2(compressed.data(), &compressed_len, reinterpret_cast<const Bytef*>(text.data()),
                static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION) != Z_OK) {
    return Status::Error("usersig_bad_params", "compression failed");
  }
  compressed.resize(compressed_len);
  std::string ticket = crypto::Base64Encode(compressed);
  for (char& c : ticket) {
    if (c == '+') {
      c = '*';
    } else if (c == '/') {
      c = '-';
    } else if (c == '=') {
      c = '_';
    }
  }
  return ticket;
}

Result<UserSigInfo> DecodeUserSig(std::string_view ticket) {
  Result<DecodedTicket> decoded = DecodeTicket(ticket);
  if (!decoded.ok()) {
    return decoded.status();
  }
  return std::move(decoded).value().info;
}

Result<UserSigInfo> VerifyUserSig(std::string_view ticket, const UserSigCheck& check) {
  Result<DecodedTicket> decoded = DecodeTicket(ticket);
  if (!decoded.ok()) {
    return decoded.status();
  }
  DecodedTicket& t = decoded.value();
  UserSigInfo& info = t.info;
  if (info.sdkappid != check.sdkappid) {
    return Status::Error("usersig_sdkappid_mismatch", "ticket issued for another application");
  }
  if (!IsValidUserId(check.user_id) || info.identifier != check.user_id) {
    return Status::Error("usersig_identifier_mismatch", "ticket issued for another user");
  }
  if (check.keys.empty()) {
    return Status::Error("usersig_no_key", "application has no active key");
  }
  bool matched = false;
  for (size_t i = 0; i < check.keys.size(); ++i) {
    const crypto::Digest256 mac =
        crypto::HmacSha256(crypto::AsBytes(check.keys[i]), crypto::AsBytes(t.content));
    // No early exit: every key costs the same, whichever one matches.
    if (crypto::ConstantTimeEqual(mac, t.mac) && !matched) {
      matched = true;
      info.matched_key_index = i;
    }
  }
  if (!matched) {
    return Status::Error("usersig_bad_signature", "ticket signature invalid");
  }
  // Expiry is judged only on authentic tickets: a forged one must say
  // "bad signature", never reveal how its times compare to ours.
  const int64_t skew = std::max<int64_t>(check.clock_skew_s, 0);
  // Both fields are <= 2^53, so these sums cannot overflow.
  if (info.time + info.expire + skew < check.now) {
    return Status::Error("usersig_expired", "ticket expired");
  }
  if (info.time > check.now + skew) {
    return Status::Error("usersig_expired", "ticket issued in the future (clock skew)");
  }
  if (info.private_map_key) {
    const PrivateMapKey& pmk = *info.private_map_key;
    if (pmk.sdkappid != check.sdkappid) {
      return Status::Error("privatemapkey_sdkappid_mismatch",
                           "PrivateMapKey issued for another application");
    }
    if (pmk.account != check.user_id) {
      return Status::Error("privatemapkey_identifier_mismatch",
                           "PrivateMapKey issued for another user");
    }
    if (int64_t{pmk.expire_at} + skew < check.now) {
      return Status::Error("privatemapkey_expired", "PrivateMapKey expired");
    }
  }
  return std::move(info);
}

Status CheckPrivateMapKeyRoom(const PrivateMapKey& pmk, uint32_t room_id,
                              std::string_view str_room_id) {
  // Numeric and string rooms are distinct namespaces: room 1234 is not "1234".
  bool granted = false;
  if (pmk.version == 0) {
    granted = str_room_id.empty() && room_id != 0 && room_id == pmk.room_id;
  } else if (pmk.version == 1) {
    granted = room_id == 0 && !str_room_id.empty() && str_room_id == pmk.str_room_id;
  }
  if (!granted) {
    return Status::Error("privatemapkey_room_mismatch", "PrivateMapKey does not grant this room");
  }
  return Status::Ok();
}

}  // namespace aegis::auth
