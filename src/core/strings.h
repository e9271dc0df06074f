// Small string helpers shared by every module. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace aegis {

// ASCII-only lowercase (protocol tokens, header names, config words). Unlike
// std::tolower it never depends on the process locale; other bytes are kept.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace aegis
