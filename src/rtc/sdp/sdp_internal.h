// Character classes, number parsing and error helpers shared by the SDP
// parser, writer and negotiation (private to src/rtc/sdp). Every function is
// pure and total: it never reads outside the view it is given and never
// asserts on its input, which is untrusted peer text.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/strings.h"

namespace aegis::rtc::sdp_internal {

inline constexpr std::string_view kTooLarge = "sdp_too_large";
inline constexpr std::string_view kMalformed = "sdp_malformed";
inline constexpr std::string_view kIllegalChar = "sdp_illegal_char";
inline constexpr std::string_view kUnsupported = "sdp_unsupported";
inline constexpr std::string_view kInvalidArgument = "sdp_invalid_argument";

inline Status Err(std::string_view code, std::string message) {
  return Status::Error(std::string(code), std::move(message));
}

// RFC 8866 §9 token-char.
inline bool IsTokenChar(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B || c == 0x2D ||
         c == 0x2E || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) ||
         (c >= 0x5E && c <= 0x7E);
}
inline bool IsAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// RFC 8839 ice-char.
inline bool IsIceChar(unsigned char c) { return IsAlnum(c) || c == '+' || c == '/'; }
// RFC 8851 rid-id characters.
inline bool IsRidChar(unsigned char c) { return IsAlnum(c) || c == '-' || c == '_'; }
inline bool IsHexChar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Bytes that may never appear inside a line (FZ-10: CR, LF, NUL and the rest).
inline bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

template <typename Pred>
bool AllOf(std::string_view s, Pred pred) {
  return std::ranges::all_of(s, [&](char c) { return pred(static_cast<unsigned char>(c)); });
}

inline bool IsToken(std::string_view s) {
  return !s.empty() && s.size() <= 255 && AllOf(s, IsTokenChar);
}
// A space-free, control-free word (addresses, codec names, msid ids...).
inline bool IsWord(std::string_view s) {
  return !s.empty() && s.size() <= 255 &&
         AllOf(s, [](unsigned char c) { return c != ' ' && !IsControl(c); });
}
inline bool IsText(std::string_view s) {
  return AllOf(s, [](unsigned char c) { return !IsControl(c); });
}

// Decimal digits only (no sign, no spaces), at most 20 of them, value <= max.
inline bool ParseUint(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (unsigned char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = c - '0';
    if (v > (max - digit) / 10) return false;  // v * 10 + digit > max
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

inline std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// For error messages: at most 40 bytes, non-printable bytes as '?'.
inline std::string Quote(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (s.size() > 40) out += "...";
  out += "'";
  return out;
}

// Fingerprint value: 1..64 hex pairs separated by ':'.
inline bool IsFingerprintValue(std::string_view s) {
  if (s.size() < 2 || s.size() > 64 * 3 - 1 || (s.size() + 1) % 3 != 0) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (i % 3 == 2 ? c != ':' : !IsHexChar(c)) return false;
  }
  return true;
}

}  // namespace aegis::rtc::sdp_internal
