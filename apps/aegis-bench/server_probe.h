// ServerProbe: what aegis-bench reads about the server process under test:
// CPU seconds (utime + stime from /proc/<pid>/stat, RFC-free but documented
// in proc(5)) and resident set size (/proc/<pid>/status VmRSS). The file
// contents are parsed defensively (the process may exit between reads).
// Pure functions over text plus thin readers; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace aegis::bench {

struct ProcessSample {
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
};

// Parses the contents of /proc/<pid>/stat: fields 14 (utime) and 15 (stime)
// in clock ticks, counted after the ")" that ends the command name (which
// may itself contain spaces or parentheses).
std::optional<double> ParseProcStatCpuSeconds(std::string_view stat, long ticks_per_second);
// Parses the "VmRSS:   1234 kB" line of /proc/<pid>/status.
std::optional<uint64_t> ParseProcStatusRssBytes(std::string_view status);

std::optional<ProcessSample> SampleProcess(int pid);

}  // namespace aegis::bench
