#include "server_probe.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace aegis::bench {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<double> ParseProcStatCpuSeconds(std::string_view stat, long ticks_per_second) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // After ")": field 3 (state) is the first token; utime is field 14.
  uint64_t values[2] = {0, 0};
  int field = 2;
  size_t pos = 0;
  while (field < 15) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    if (pos >= rest.size()) return std::nullopt;
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    ++field;
    if (field == 14 || field == 15) {
      const std::string_view tok = rest.substr(pos, end - pos);
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (ec != std::errc() || p != tok.data() + tok.size()) return std::nullopt;
      values[field - 14] = v;
    }
    pos = end;
  }
  return static_cast<double>(values[0] + values[1]) / static_cast<double>(ticks_per_second);
}

std::optional<uint64_t> ParseProcStatusRssBytes(std::string_view status) {
  const size_t at = status.find("VmRSS:");
  if (at == std::string_view::npos) return std::nullopt;
  size_t pos = at + 6;
  while (pos < status.size() && (status[pos] == ' ' || status[pos] == '\t')) ++pos;
  uint64_t kb = 0;
  auto [p, ec] = std::from_chars(status.data() + pos, status.data() + status.size(), kb);
  if (ec != std::errc() || p == status.data() + pos) return std::nullopt;
  return kb * 1024;
}

std::optional<ProcessSample> SampleProcess(int pid) {
  if (pid <= 0) return std::nullopt;
  const std::string base = "/proc/" + std::to_string(pid);
  auto stat = ReadFile(base + "/stat");
  auto status = ReadFile(base + "/status");
  if (!stat || !status) return std::nullopt;
  auto cpu = ParseProcStatCpuSeconds(*stat, sysconf(_SC_CLK_TCK));
  auto rss = ParseProcStatusRssBytes(*status);
  if (!cpu || !rss) return std::nullopt;
  return ProcessSample{*cpu, *rss};
}

}  // namespace aegis::bench
