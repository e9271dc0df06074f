#include "core/mask.h"

#include <arpa/inet.h>

#include <cctype>
#include <string>

namespace aegis {
namespace {

bool IsTokenChar(char c) {
  // '/' is left out on purpose so file paths stay readable; the credentials
  // Aegis issues (hex keys, alphanumeric SecretKeys, URL-safe UserSigs) have none.
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '=' || c == '*' ||
         c == '_' || c == '-';
}

bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// Splits "a.b.c.d:port" / "[v6]:port" into the address part.
std::string_view StripPort(std::string_view ip) {
  if (!ip.empty() && ip.front() == '[') {
    const auto end = ip.find(']');
    return end == std::string_view::npos ? std::string_view() : ip.substr(1, end - 1);
  }
  const auto colon = ip.find(':');
  if (colon != std::string_view::npos && ip.find(':', colon + 1) == std::string_view::npos) {
    return ip.substr(0, colon);  // exactly one colon: IPv4 with port
  }
  return ip;
}

}  // namespace

std::string MaskUserId(std::string_view id) {
  // The issue's rule: 2 leading + 2 trailing ("alice" -> "al***ce"). Below 5
  // bytes that would reveal the whole id, so short ids keep only the first.
  if (id.size() >= 5) {
    return std::string(id.substr(0, 2)) + "***" + std::string(id.substr(id.size() - 2));
  }
  if (id.size() >= 3) return std::string(id.substr(0, 1)) + "***";
  return "***";
}

std::string MaskIp(std::string_view ip) {
  const std::string addr(StripPort(ip));
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
    return std::to_string(buf[0]) + "." + std::to_string(buf[1]) + ".*.*";
  }
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(buf, buf + 12, kMapped)) {
      return std::to_string(buf[12]) + "." + std::to_string(buf[13]) + ".*.*";
    }
    char out[32];
    (void)std::snprintf(out, sizeof(out), "%x:%x:*", (buf[0] << 8) | buf[1],
                        (buf[2] << 8) | buf[3]);
    return out;
  }
  return "*";
}

std::string MaskEmail(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at + 1 >= email.size()) return "***";
  return "***@" + std::string(email.substr(at + 1));
}

std::string MaskCredentialId(std::string_view id) {
  if (id.size() < 10) return "***";
  return std::string(id.substr(0, 4)) + "***" + std::string(id.substr(id.size() - 2));
}

std::string ScrubSecrets(std::string_view text) {
  constexpr size_t kMinSecretRun = 24;
  constexpr size_t kAlwaysSecretRun = 32;
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!IsTokenChar(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsTokenChar(text[j])) ++j;
    const std::string_view run = text.substr(i, j - i);
    bool has_digit = false;
    bool has_alpha = false;
    for (char c : run) {
      has_digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
      has_alpha |= std::isalpha(static_cast<unsigned char>(c)) != 0;
    }
    // Long mixed letter+digit runs are credentials; plain words and numbers are
    // not. Runs of kAlwaysSecretRun+ are redacted whatever their characters: a
    // random 32-char SecretKey has no digit about once in 280.
    const bool mixed = run.size() >= kMinSecretRun && has_digit && has_alpha;
    if ((mixed || run.size() >= kAlwaysSecretRun) && !LooksLikeUuid(run)) {
      out += "[redacted]";
    } else {
      out.append(run);
    }
    i = j;
  }
  return out;
}

}  // namespace aegis
