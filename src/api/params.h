// Strict validation of REST request parameters (R7, RL-05): the body is a JSON
// object; every member must be declared in the action's ParamSpec list
// (unknown -> UnknownParameter), required ones present (MissingParameter),
// types exact (InvalidParameter), values within ranges, lengths and charsets
// (InvalidParameterValue). Malformed JSON, duplicate keys and nesting deeper
// than the cap are InvalidParameter. Nothing here throws.
// Input is untrusted; messages name the parameter but never echo its value.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace aegis::api {

inline constexpr size_t kMaxJsonDepth = 16;

// Parses `body` as one JSON object (an empty body is {}). Rejects invalid
// UTF-8, duplicate keys at any level, and depth > max_depth.
// Errors: InvalidParameter with a message saying what is wrong.
Result<nlohmann::json> ParseJsonObject(std::string_view body, size_t max_depth = kMaxJsonDepth);

enum class ParamType { kInteger, kString, kStringArray };

enum class Charset {
  kUserId,     // [A-Za-z0-9_-]
  kStrRoomId,  // [A-Za-z0-9 !#$%&()+\-:;<=.>?@[\]^_{}|~,] (R2)
  kCommId,     // string-room charset too: SdkAppId_RoomId_CreateTime
};

bool MatchesCharset(std::string_view text, Charset charset);

struct ParamSpec {
  std::string_view name;
  ParamType type = ParamType::kInteger;
  bool required = false;
  // kInteger: allowed values [min, max]. kString: length in bytes [min, max].
  // kStringArray: item count [min, max].
  int64_t min = 0;
  int64_t max = 0;
  Charset charset = Charset::kUserId;  // kString and kStringArray items
  size_t item_min_len = 1;             // kStringArray only
  size_t item_max_len = 0;
};

// Values that passed ValidateParams, by parameter name.
class Params {
 public:
  using Value = std::variant<int64_t, std::string, std::vector<std::string>>;

  bool Has(std::string_view name) const { return values_.find(name) != values_.end(); }
  int64_t Int(std::string_view name, int64_t fallback = 0) const;
  std::string Str(std::string_view name, std::string_view fallback = {}) const;
  std::vector<std::string> Strs(std::string_view name) const;

  void Set(std::string_view name, Value value) { values_[std::string(name)] = std::move(value); }

 private:
  std::map<std::string, Value, std::less<>> values_;
};

// Checks `object` against `specs`. Unknown members are reported first (so a
// misspelt optional parameter is never silently ignored), then each spec in
// order.
Result<Params> ValidateParams(const nlohmann::json& object, std::span<const ParamSpec> specs);

// Convenience: ParseJsonObject + ValidateParams.
Result<Params> ParseAndValidate(std::string_view body, std::span<const ParamSpec> specs);

}  // namespace aegis::api
