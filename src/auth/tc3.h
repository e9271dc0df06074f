// TC3-HMAC-SHA256 request signatures, as used by the cloud API family whose
// server SDKs call the REST API (R7). Parsing of the Authorization header is
// on untrusted input and bounds checked. Verification is constant time.
// Error codes are the public API's: AuthFailure.SignatureFailure,
// AuthFailure.SignatureExpire, AuthFailure.InvalidAuthorization (header
// malformed), MissingParameter (a required header absent).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aegis::auth {

struct Tc3Authorization {
  std::string secret_id;
  std::string date;     // yyyy-mm-dd from the credential scope
  std::string service;  // from the scope: "trtc", or e.g. "127" (SDK quirk, see tc3.cc)
  std::vector<std::string> signed_headers;  // lowercased, as listed
  std::string signature;                    // lowercase hex, 64 chars
};

// "TC3-HMAC-SHA256 Credential=AKID.../2026-11-22/trtc/tc3_request,
//  SignedHeaders=content-type;host, Signature=<hex>"
Result<Tc3Authorization> ParseTc3Authorization(std::string_view header);

struct Tc3Request {
  std::string method;                          // "POST"
  std::string path;                            // "/"
  std::string query;                           // canonical query string ("" for POST)
  std::map<std::string, std::string> headers;  // lowercased name -> value as sent
  std::string body;
};

// The signature an SDK computes. `service` is the scope's service name.
std::string Tc3Sign(const Tc3Request& request, const std::vector<std::string>& signed_headers,
                    std::string_view secret_key, int64_t timestamp, std::string_view date,
                    std::string_view service);

// Builds a complete Authorization header (used by tests, aegis-bench, tools).
std::string Tc3AuthorizationHeader(const Tc3Request& request,
                                   const std::vector<std::string>& signed_headers,
                                   std::string_view secret_id, std::string_view secret_key,
                                   int64_t timestamp, std::string_view service);

// Checks timestamp freshness (|now - timestamp| <= tolerance_s, else
// AuthFailure.SignatureExpire), that the scope date matches the timestamp's
// UTC date, that every signed header is present, and the signature (also
// retried with the `host` value stripped of its port, a real SDK quirk).
Status VerifyTc3(const Tc3Request& request, const Tc3Authorization& auth,
                 std::string_view secret_key, int64_t timestamp, int64_t now, int64_t tolerance_s);

// "2026-11-22" for a unix timestamp (UTC).
std::string Tc3Date(int64_t timestamp);

}  // namespace aegis::auth
