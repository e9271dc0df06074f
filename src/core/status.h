// Status and Result<T>: errors as values (STYLE.md habit 3).
// A Status is either OK or carries a stable machine-readable `code` (e.g.
// "usersig_expired", "InvalidParameter") and a human message. Codes are part of
// the public contract of whatever API returns them; messages are not.
// Value types, no shared state; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace aegis {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status Error(std::string code, std::string message) {
    Status s;
    s.code_ = std::move(code);
    s.message_ = std::move(message);
    return s;
  }

  bool ok() const { return code_.empty(); }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? std::string("ok") : code_ + ": " + message_; }

 private:
  std::string code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}       // NOLINT(google-explicit-constructor)
  Result(Status error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // The error; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace aegis

// Propagates a non-OK Status from an expression returning Status.
#define AEGIS_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::aegis::Status aegis_status_ = (expr);        \
    if (!aegis_status_.ok()) return aegis_status_; \
  } while (0)
