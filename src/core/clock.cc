#include "core/clock.h"

#include <ctime>
#include <string>

namespace aegis {

std::string FormatUtcMillis(int64_t unix_millis) {
  const std::time_t secs = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  (void)std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(unix_millis % 1000));
  return buf;
}

}  // namespace aegis
