// TC3-HMAC-SHA256, checked against the official Node SDK
// (tencentcloud-sdk-nodejs, common/sign.js sign3 and http_connection.js):
//  - canonical request: method, URL pathname, raw query, canonical headers,
//    signed header names, hex sha256(body), joined by '\n';
//  - canonical headers: "name:value\n" per signed header. The SDK does NOT
//    lowercase values (it writes Content-Type as configured) while the API docs
//    say values are lowercased, so the verifier accepts either form;
//  - the SDK always signs exactly "content-type;host", and signs `host` as the
//    URL hostname (no port) while it sends `Host: name:port`, hence the retry
//    without the port;
//  - the scope's service is the first DNS label of the endpoint the SDK was
//    configured with ("trtc" for trtc.tencentcloudapi.com, "127" for
//    127.0.0.1:8443, "localhost:8443" for localhost:8443), so the service named
//    in the Credential is used as-is: it is covered by the MAC anyway.
#include "auth/tc3.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "core/strings.h"
#include "crypto/primitives.h"

namespace aegis::auth {
namespace {

constexpr std::string_view kAlgorithm = "TC3-HMAC-SHA256";
constexpr std::string_view kTerminator = "tc3_request";
constexpr size_t kMaxHeaderBytes = 2048;
constexpr size_t kMaxSecretIdBytes = 128;
constexpr size_t kMaxServiceBytes = 64;
constexpr size_t kMaxSignedHeaders = 16;
constexpr size_t kMaxHeaderNameBytes = 64;

Status Invalid(std::string message) {
  return Status::Error("AuthFailure.InvalidAuthorization", std::move(message));
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool IsValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') {
    return false;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(d[i])) {
      return false;
    }
  }
  const int month = (d[5] - '0') * 10 + (d[6] - '0');
  const int day = (d[8] - '0') * 10 + (d[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// "host:port" -> "host", "[::1]:443" -> "[::1]" (the URL hostname the SDK
// signs); anything else unchanged.
std::string StripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) {
      return std::string(host.substr(0, close + 1));
    }
    return std::string(host);
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    return std::string(host.substr(0, colon));
  }
  return std::string(host);
}

std::string HexSha256(std::string_view s) {
  return crypto::HexEncode(crypto::Sha256(crypto::AsBytes(s)));
}

std::string JoinSignedHeaders(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i != 0) {
      out += ';';
    }
    out += AsciiLower(names[i]);
  }
  return out;
}

// Tc3Sign with explicit header values (one per signed header, in order).
std::string SignWithValues(const Tc3Request& request, const std::vector<std::string>& names,
                           const std::vector<std::string>& values, std::string_view secret_key,
                           int64_t timestamp, std::string_view date, std::string_view service) {
  std::string canonical;
  canonical.append(request.method).append("\n");
  canonical.append(request.path.empty() ? "/" : request.path).append("\n");
  canonical.append(request.query).append("\n");
  for (size_t i = 0; i < names.size(); ++i) {
    canonical.append(AsciiLower(names[i])).append(":").append(values[i]).append("\n");
  }
  canonical.append("\n");
  canonical.append(JoinSignedHeaders(names)).append("\n");
  canonical.append(HexSha256(request.body));

  std::string scope;
  scope.append(date).append("/").append(service).append("/").append(kTerminator);
  std::string string_to_sign;
  string_to_sign.append(kAlgorithm).append("\n");
  string_to_sign.append(std::to_string(timestamp)).append("\n");
  string_to_sign.append(scope).append("\n");
  string_to_sign.append(HexSha256(canonical));

  std::string first_key = "TC3";
  first_key.append(secret_key);
  const crypto::Digest256 k_date =
      crypto::HmacSha256(crypto::AsBytes(first_key), crypto::AsBytes(date));
  crypto::SecureZero(
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(first_key.data()), first_key.size()));
  const crypto::Digest256 k_service = crypto::HmacSha256(k_date, crypto::AsBytes(service));
  const crypto::Digest256 k_signing = crypto::HmacSha256(k_service, crypto::AsBytes(kTerminator));
  return crypto::HexEncode(crypto::HmacSha256(k_signing, crypto::AsBytes(string_to_sign)));
}

std::vector<std::string> HeaderValues(const Tc3Request& request,
                                      const std::vector<std::string>& names) {
  std::vector<std::string> values;
  values.reserve(names.size());
  for (const std::string& name : names) {
    auto it = request.headers.find(AsciiLower(name));
    values.emplace_back(it == request.headers.end() ? std::string_view() : TrimSpaces(it->second));
  }
  return values;
}

// Howard Hinnant's civil_from_days.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

}  // namespace

Result<Tc3Authorization> ParseTc3Authorization(std::string_view header) {
  if (header.size() > kMaxHeaderBytes) {
    return Invalid("Authorization header too long");
  }
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm || header.size() == kAlgorithm.size() ||
      header[kAlgorithm.size()] != ' ') {
    return Invalid("Authorization is not TC3-HMAC-SHA256");
  }
  std::string_view rest = header.substr(kAlgorithm.size() + 1);

  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
  std::vector<std::string_view> parts = Split(rest, ',');
  if (parts.size() != 3) {
    return Invalid("Authorization must have Credential, SignedHeaders and Signature");
  }
  for (std::string_view part : parts) {
    part = TrimSpaces(part);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Invalid("Authorization component without '='");
    }
    std::string_view key = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    std::string_view* slot = key == "Credential"      ? &credential
                             : key == "SignedHeaders" ? &signed_headers
                             : key == "Signature"     ? &signature
                                                      : nullptr;
    if (slot == nullptr) {
      return Invalid("unknown Authorization component");
    }
    if (!slot->empty() || value.empty()) {
      return Invalid("duplicate or empty Authorization component");
    }
    *slot = value;
  }
  if (credential.empty() || signed_headers.empty() || signature.empty()) {
    return Invalid("missing Authorization component");
  }

  Tc3Authorization auth;
  std::vector<std::string_view> scope = Split(credential, '/');
  if (scope.size() != 4 || scope[3] != kTerminator) {
    return Invalid("Credential must be SecretId/date/service/tc3_request");
  }
  if (scope[0].empty() || scope[0].size() > kMaxSecretIdBytes ||
      !std::all_of(scope[0].begin(), scope[0].end(),
                   [](char c) { return IsAlnum(c) || c == '_' || c == '-'; })) {
    return Invalid("bad SecretId");
  }
  if (!IsValidDate(scope[1])) {
    return Invalid("bad credential date");
  }
  // The SDK takes everything before the endpoint's first '.', which may be a
  // bare "host:port" or "[v6]:port".
  if (scope[2].empty() || scope[2].size() > kMaxServiceBytes ||
      !std::all_of(scope[2].begin(), scope[2].end(), [](char c) {
        return IsAlnum(c) || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
      })) {
    return Invalid("bad credential service");
  }
  auth.secret_id = std::string(scope[0]);
  auth.date = std::string(scope[1]);
  auth.service = std::string(scope[2]);

  // Every SDK signs "content-type;host"; requiring both keeps the body type
  // and the target host under the MAC. More (lowercase) headers are allowed.
  std::set<std::string_view> seen;
  for (std::string_view name : Split(signed_headers, ';')) {
    if (name.empty() || name.size() > kMaxHeaderNameBytes ||
        !std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-'; })) {
      return Invalid("bad SignedHeaders entry");
    }
    if (!seen.insert(name).second) {
      return Invalid("duplicate SignedHeaders entry");
    }
    if (seen.size() > kMaxSignedHeaders) {
      return Invalid("too many SignedHeaders");
    }
    auth.signed_headers.emplace_back(name);
  }
  // The convention's canonical request lists signed headers sorted; a client
  // that lists them otherwise signed something else, so say so clearly.
  if (!std::is_sorted(auth.signed_headers.begin(), auth.signed_headers.end())) {
    return Invalid("SignedHeaders must be sorted");
  }
  if (!seen.contains("content-type") || !seen.contains("host")) {
    return Invalid("SignedHeaders must include content-type and host");
  }

  if (signature.size() != 64 || !std::all_of(signature.begin(), signature.end(), [](char c) {
        return IsDigit(c) || (c >= 'a' && c <= 'f');
      })) {
    return Invalid("Signature must be 64 lowercase hex digits");
  }
  auth.signature = std::string(signature);
  return auth;
}

std::string Tc3Sign(const Tc3Request& request, const std::vector<std::string>& signed_headers,
                    std::string_view secret_key, int64_t timestamp, std::string_view date,
                    std::string_view service) {
  return SignWithValues(request, signed_headers, HeaderValues(request, signed_headers), secret_key,
                        timestamp, date, service);
}

std::string Tc3AuthorizationHeader(const Tc3Request& request,
                                   const std::vector<std::string>& signed_headers,
                                   std::string_view secret_id, std::string_view secret_key,
                                   int64_t timestamp, std::string_view service) {
  const std::string date = Tc3Date(timestamp);
  std::string header(kAlgorithm);
  header.append(" Credential=").append(secret_id).append("/").append(date).append("/");
  header.append(service).append("/").append(kTerminator);
  header.append(", SignedHeaders=").append(JoinSignedHeaders(signed_headers));
  header.append(", Signature=")
      .append(Tc3Sign(request, signed_headers, secret_key, timestamp, date, service));
  return header;
}

Status VerifyTc3(const Tc3Request& request, const Tc3Authorization& auth,
                 std::string_view secret_key, int64_t timestamp, int64_t now, int64_t tolerance_s) {
  // Unsigned distance: both values may come straight from a peer, and the
  // signed difference of two int64 can overflow.
  const uint64_t distance = now >= timestamp
                                ? static_cast<uint64_t>(now) - static_cast<uint64_t>(timestamp)
                                : static_cast<uint64_t>(timestamp) - static_cast<uint64_t>(now);
  if (tolerance_s < 0 || distance > static_cast<uint64_t>(tolerance_s)) {
    return Status::Error("AuthFailure.SignatureExpire", "timestamp outside the allowed window");
  }
  if (auth.date != Tc3Date(timestamp)) {
    return Status::Error("AuthFailure.SignatureFailure",
                         "credential scope date does not match the timestamp");
  }
  for (const std::string& name : auth.signed_headers) {
    if (!request.headers.contains(AsciiLower(name))) {
      return Status::Error("MissingParameter", "signed header " + name + " missing");
    }
  }

  // Candidate header values: as sent; host without port (SDK quirk); and the
  // documented lowercase-value form of both.
  std::vector<std::vector<std::string>> candidates;
  auto add = [&candidates](std::vector<std::string> values) {
    if (std::find(candidates.begin(), candidates.end(), values) == candidates.end()) {
      candidates.push_back(std::move(values));
    }
  };
  std::vector<std::string> as_sent = HeaderValues(request, auth.signed_headers);
  std::vector<std::string> no_port = as_sent;
  for (size_t i = 0; i < auth.signed_headers.size(); ++i) {
    if (auth.signed_headers[i] == "host") {
      no_port[i] = StripPort(no_port[i]);
    }
  }
  for (const auto* base : {&as_sent, &no_port}) {
    add(*base);
    std::vector<std::string> lowered;
    for (const std::string& v : *base) {
      lowered.push_back(AsciiLower(v));
    }
    add(std::move(lowered));
  }

  bool matched = false;
  for (const std::vector<std::string>& values : candidates) {
    const std::string expected = SignWithValues(request, auth.signed_headers, values, secret_key,
                                                timestamp, auth.date, auth.service);
    matched |=
        crypto::ConstantTimeEqual(crypto::AsBytes(expected), crypto::AsBytes(auth.signature));
  }
  if (!matched) {
    return Status::Error("AuthFailure.SignatureFailure", "signature does not match");
  }
  return Status::Ok();
}

std::string Tc3Date(int64_t timestamp) {
  int64_t days = timestamp / 86400;
  if (timestamp % 86400 < 0) {
    --days;
  }
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  (void)std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

}  // namespace aegis::auth
