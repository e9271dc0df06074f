// Masking helpers for personal and enterprise data (R8). Every place a person
// can read a user id, address, email or credential identifier goes through
// these. Pure functions; thread-safe. Inputs are untrusted and may be garbage:
// the result is then a fully masked placeholder, never the input.
#pragma once

#include <string>
#include <string_view>

namespace aegis {

// "alice" -> "al***ce" (ids of 5+ bytes keep 2 leading and 2 trailing
// bytes; shorter ids keep at most 1 leading byte so they are never revealed).
std::string MaskUserId(std::string_view user_id);

// IPv4 "10.1.2.3" -> "10.1.*.*"; IPv6 "2001:db8:1::5" -> "2001:db8:*";
// IPv4-mapped IPv6 is masked as IPv4. Port suffixes are dropped.
// Anything unparsable -> "*".
std::string MaskIp(std::string_view ip);

// "jane.doe@example.com" -> "***@example.com"
std::string MaskEmail(std::string_view email);

// Credential identifiers (SecretId, key ids): "AKIDabcd...wxyz" -> "AKID***yz".
std::string MaskCredentialId(std::string_view id);

// Replaces anything in free text that looks like a secret with "[redacted]":
// runs of 24+ token characters mixing letters and digits (keys, UserSigs,
// signatures) and any run of 32+ (SecretKeys). UUIDs are kept (request ids).
// Used by the logger on every message and string field.
std::string ScrubSecrets(std::string_view text);

}  // namespace aegis
