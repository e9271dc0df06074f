// WireError(): the Status every rtc/rtp parser returns for bad peer input.
// Code and message are string literals of at most 15 characters, checked at
// compile time, so they fit std::string's small buffer and rejecting a packet
// never allocates (STYLE.md: no allocation per packet, even under a flood of
// malformed datagrams). The code names the field that was wrong.
#pragma once

#include <cstddef>

#include "core/status.h"

namespace aegis::rtc {

template <size_t kCodeSize, size_t kMessageSize>
Status WireError(const char (&code)[kCodeSize], const char (&message)[kMessageSize]) {
  static_assert(kCodeSize <= 16, "wire error code must fit the small-string buffer");
  static_assert(kMessageSize <= 16, "wire error message must fit the small-string buffer");
  return Status::Error(code, message);
}

}  // namespace aegis::rtc
