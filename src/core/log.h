// Structured logging: one JSON object per line on stderr (or an injected
// sink). Each line has time (UTC), level, component tag, msg and fields.
//
// Privacy rules are enforced here, not left to callers (R8):
//  - fields whose name denotes a secret (key, secret, sig, password, token,
//    authorization, otp) are written as "[redacted]";
//  - every string (message and field values) passes through ScrubSecrets();
//  - personal data must be passed already masked (MaskUserId, MaskIp...).
// Thread-safe: lines are written whole under a mutex.
#pragma once

#include <functional>
#include <initializer_list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace aegis {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error"; false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* out);

struct LogField {
  std::string key;
  nlohmann::json value;
};

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  static Logger& Global();

  void SetLevel(LogLevel level);
  LogLevel level() const;
  // Replaces the output (default: stderr). Tests capture lines this way.
  void SetSink(Sink sink);

  void Log(LogLevel level, std::string_view component, std::string_view msg,
           std::initializer_list<LogField> fields = {});

  // True when a field name denotes a secret whose value must never be logged.
  static bool IsSecretFieldName(std::string_view name);

 private:
  mutable std::mutex mu_;
  LogLevel level_ = LogLevel::kInfo;
  Sink sink_;
};

inline void LogDebug(std::string_view component, std::string_view msg,
                     std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kDebug, component, msg, fields);
}
inline void LogInfo(std::string_view component, std::string_view msg,
                    std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kInfo, component, msg, fields);
}
inline void LogWarn(std::string_view component, std::string_view msg,
                    std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kWarn, component, msg, fields);
}
inline void LogError(std::string_view component, std::string_view msg,
                     std::initializer_list<LogField> fields = {}) {
  Logger::Global().Log(LogLevel::kError, component, msg, fields);
}

}  // namespace aegis
