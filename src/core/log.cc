#include "core/log.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/clock.h"
#include "core/mask.h"
#include "core/strings.h"

namespace aegis {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

nlohmann::json Scrub(const nlohmann::json& value) {
  if (value.is_string()) return ScrubSecrets(value.get_ref<const std::string&>());
  if (value.is_array() || value.is_object()) {
    nlohmann::json out = value;
    for (auto it = out.begin(); it != out.end(); ++it) {
      if (value.is_object() && Logger::IsSecretFieldName(it.key())) {
        *it = "[redacted]";
      } else {
        *it = Scrub(*it);
      }
    }
    return out;
  }
  return value;
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  const std::string t = AsciiLower(text);
  if (t == "debug") {
    *out = LogLevel::kDebug;
  } else if (t == "info") {
    *out = LogLevel::kInfo;
  } else if (t == "warn" || t == "warning") {
    *out = LogLevel::kWarn;
  } else if (t == "error") {
    *out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

Logger& Logger::Global() {
  static Logger logger;
  return logger;
}

void Logger::SetLevel(LogLevel level) {
  std::lock_guard<std::mutex> lock(mu_);
  level_ = level;
}

LogLevel Logger::level() const {
  std::lock_guard<std::mutex> lock(mu_);
  return level_;
}

void Logger::SetSink(Sink sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = std::move(sink);
}

bool Logger::IsSecretFieldName(std::string_view name) {
  const std::string n = AsciiLower(name);
  // Identifiers of credentials are fine to log (masked): SecretId, key_id, KeyVersion.
  if (n.ends_with("id") || n.ends_with("_version") || n.ends_with("version")) return false;
  static const char* const kSecretWords[] = {"key",   "secret",        "sig", "password",  "passwd",
                                             "token", "authorization", "otp", "credential"};
  return std::any_of(std::begin(kSecretWords), std::end(kSecretWords),
                     [&](const char* w) { return n.find(w) != std::string::npos; });
}

void Logger::Log(LogLevel level, std::string_view component, std::string_view msg,
                 std::initializer_list<LogField> fields) {
  Sink sink;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (level < level_) return;
    sink = sink_;
  }
  nlohmann::json line = nlohmann::json::object();
  line["time"] = FormatUtcMillis(SystemClock::Instance().NowUnixMillis());
  line["level"] = LevelName(level);
  line["component"] = std::string(component);
  line["msg"] = ScrubSecrets(msg);
  for (const LogField& f : fields) {
    if (f.key == "time" || f.key == "level" || f.key == "component" || f.key == "msg") continue;
    line[f.key] = IsSecretFieldName(f.key) ? nlohmann::json("[redacted]") : Scrub(f.value);
  }
  // error_handler::replace: invalid UTF-8 from a peer must not throw.
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu_);
  if (sink) {
    sink(text);
  } else {
    (void)std::fprintf(stderr, "%s\n", text.c_str());
  }
}

}  // namespace aegis
