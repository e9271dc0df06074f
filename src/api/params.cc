#include "api/params.h"

#include <limits>
#include <set>
#include <utility>

namespace aegis::api {
namespace {

using nlohmann::json;

// A parameter name as the caller sent it may be anything; only echo names that
// look like identifiers (no log/JSON injection, no accidental secrets).
std::string SafeName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return "(unprintable name)";
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return "(unprintable name)";
    }
  }
  return std::string(name);
}

Status InvalidParameter(std::string message) {
  return Status::Error("InvalidParameter", std::move(message));
}
Status InvalidValue(std::string message) {
  return Status::Error("InvalidParameterValue", std::move(message));
}

// First pass over the raw bytes: enforces the depth cap and rejects duplicate
// keys (nlohmann keeps the last one silently, which would let two parsers
// disagree on what a request means). Aborts at the first problem.
class CheckingSax {
 public:
  explicit CheckingSax(size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return true; }
  bool boolean(bool /*val*/) { return true; }
  bool number_integer(json::number_integer_t /*val*/) { return true; }
  bool number_unsigned(json::number_unsigned_t /*val*/) { return true; }
  bool number_float(json::number_float_t /*val*/, const json::string_t& /*s*/) { return true; }
  bool string(json::string_t& /*val*/) { return true; }
  bool binary(json::binary_t& /*val*/) { return true; }

  bool start_object(std::size_t /*elements*/) {
    if (!Push()) {
      return false;
    }
    keys_.emplace_back();
    return true;
  }
  bool key(json::string_t& val) {
    if (keys_.empty()) {
      return true;  // cannot happen with a conforming parser
    }
    if (!keys_.back().insert(val).second) {
      error_ = InvalidParameter("Duplicate member `" + SafeName(val) + "` in the request body.");
      return false;
    }
    return true;
  }
  bool end_object() {
    if (!keys_.empty()) {
      keys_.pop_back();
    }
    --depth_;
    return true;
  }
  bool start_array(std::size_t /*elements*/) {
    if (!Push()) {
      return false;
    }
    keys_.emplace_back();  // placeholder so end_object/end_array stay balanced
    return true;
  }
  bool end_array() {
    if (!keys_.empty()) {
      keys_.pop_back();
    }
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    error_ = InvalidParameter("The request body is not valid JSON (error at byte " +
                              std::to_string(position) + ").");
    return false;
  }

  const Status& error() const { return error_; }

 private:
  bool Push() {
    if (++depth_ > max_depth_) {
      error_ = InvalidParameter("The request body nests deeper than " + std::to_string(max_depth_) +
                                " levels.");
      return false;
    }
    return true;
  }

  size_t max_depth_;
  size_t depth_ = 0;
  std::vector<std::set<std::string>> keys_;
  Status error_;
};

const char* TypeName(ParamType type) {
  switch (type) {
    case ParamType::kInteger:
      return "an integer";
    case ParamType::kString:
      return "a string";
    case ParamType::kStringArray:
      return "an array of strings";
  }
  return "a value";
}

Status CheckString(std::string_view param, std::string_view what, std::string_view text,
                   size_t min_len, size_t max_len, Charset charset) {
  if (text.size() < min_len || text.size() > max_len) {
    return InvalidValue(std::string(what) + " of parameter `" + std::string(param) + "` must be " +
                        std::to_string(min_len) + " to " + std::to_string(max_len) +
                        " bytes long.");
  }
  if (!MatchesCharset(text, charset)) {
    return InvalidValue(std::string(what) + " of parameter `" + std::string(param) +
                        "` contains characters outside the allowed set.");
  }
  return Status::Ok();
}

Result<Params::Value> CheckOne(const ParamSpec& spec, const json& value) {
  const std::string name(spec.name);
  switch (spec.type) {
    case ParamType::kInteger: {
      if (!value.is_number_integer()) {
        return InvalidParameter("The parameter `" + name + "` must be " + TypeName(spec.type) +
                                ".");
      }
      int64_t v = 0;
      bool in_range = true;
      if (value.is_number_unsigned()) {
        auto u = value.get<json::number_unsigned_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          in_range = false;
        } else {
          v = static_cast<int64_t>(u);
        }
      } else {
        v = value.get<json::number_integer_t>();
      }
      if (!in_range || v < spec.min || v > spec.max) {
        return InvalidValue("The value of parameter `" + name + "` must be between " +
                            std::to_string(spec.min) + " and " + std::to_string(spec.max) + ".");
      }
      return Params::Value(v);
    }
    case ParamType::kString: {
      if (!value.is_string()) {
        return InvalidParameter("The parameter `" + name + "` must be " + TypeName(spec.type) +
                                ".");
      }
      const auto& s = value.get_ref<const json::string_t&>();
      AEGIS_RETURN_IF_ERROR(CheckString(name, "The value", s, static_cast<size_t>(spec.min),
                                        static_cast<size_t>(spec.max), spec.charset));
      return Params::Value(s);
    }
    case ParamType::kStringArray: {
      if (!value.is_array()) {
        return InvalidParameter("The parameter `" + name + "` must be " + TypeName(spec.type) +
                                ".");
      }
      // Types first, so a wrong element type is reported as such even in an
      // over-long array.
      for (const json& item : value) {
        if (!item.is_string()) {
          return InvalidParameter("The parameter `" + name + "` must be " + TypeName(spec.type) +
                                  ".");
        }
      }
      auto count = static_cast<int64_t>(value.size());
      if (count < spec.min || count > spec.max) {
        return InvalidValue("The parameter `" + name + "` must have " + std::to_string(spec.min) +
                            " to " + std::to_string(spec.max) + " items.");
      }
      std::vector<std::string> items;
      items.reserve(value.size());
      size_t index = 0;
      for (const json& item : value) {
        const auto& s = item.get_ref<const json::string_t&>();
        AEGIS_RETURN_IF_ERROR(CheckString(name, "Item " + std::to_string(index), s,
                                          spec.item_min_len, spec.item_max_len, spec.charset));
        items.push_back(s);
        ++index;
      }
      return Params::Value(std::move(items));
    }
  }
  return Status::Error("InternalError", "unknown parameter type");
}

}  // namespace

bool MatchesCharset(std::string_view text, Charset charset) {
  for (unsigned char c : text) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    bool ok = false;
    switch (charset) {
      case Charset::kUserId:
        ok = alnum || c == '_' || c == '-';
        break;
      case Charset::kStrRoomId:
      case Charset::kCommId: {
        static constexpr std::string_view kSymbols = " !#$%&()+-:;<=.>?@[]^_{}|~,";
        ok = alnum || kSymbols.find(static_cast<char>(c)) != std::string_view::npos;
        break;
      }
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

int64_t Params::Int(std::string_view name, int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    return fallback;
  }
  const auto* v = std::get_if<int64_t>(&it->second);
  return v != nullptr ? *v : fallback;
}

std::string Params::Str(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    return std::string(fallback);
  }
  const auto* v = std::get_if<std::string>(&it->second);
  return v != nullptr ? *v : std::string(fallback);
}

std::vector<std::string> Params::Strs(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    return {};
  }
  const auto* v = std::get_if<std::vector<std::string>>(&it->second);
  return v != nullptr ? *v : std::vector<std::string>{};
}

Result<json> ParseJsonObject(std::string_view body, size_t max_depth) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return json::object();
  }
  try {
    CheckingSax checker(max_depth);
    if (!json::sax_parse(body, &checker, json::input_format_t::json, /*strict=*/true)) {
      if (!checker.error().ok()) {
        return checker.error();
      }
      return InvalidParameter("The request body is not valid JSON.");
    }
    json parsed = json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return InvalidParameter("The request body is not valid JSON.");
    }
    if (!parsed.is_object()) {
      return InvalidParameter("The request body must be a JSON object.");
    }
    return parsed;
  } catch (const std::exception&) {
    // Not expected with exceptions disabled in the parser calls above; kept so
    // that no input can ever escape as an exception.
    return InvalidParameter("The request body is not valid JSON.");
  }
}

Result<Params> ValidateParams(const json& object, std::span<const ParamSpec> specs) {
  if (!object.is_object()) {
    return InvalidParameter("The request body must be a JSON object.");
  }
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const ParamSpec& spec : specs) {
      if (spec.name == key) {
        known = true;
        break;
      }
    }
    if (!known) {
      return Status::Error("UnknownParameter",
                           "The parameter `" + SafeName(key) + "` is not recognized.");
    }
  }
  Params params;
  for (const ParamSpec& spec : specs) {
    auto it = object.find(spec.name);
    if (it == object.end()) {
      if (spec.required) {
        return Status::Error("MissingParameter", "The request is missing a required parameter `" +
                                                     std::string(spec.name) + "`.");
      }
      continue;
    }
    auto value = CheckOne(spec, *it);
    if (!value.ok()) {
      return value.status();
    }
    params.Set(spec.name, std::move(value).value());
  }
  return params;
}

Result<Params> ParseAndValidate(std::string_view body, std::span<const ParamSpec> specs) {
  auto object = ParseJsonObject(body);
  if (!object.ok()) {
    return object.status();
  }
  return ValidateParams(*object, specs);
}

}  // namespace aegis::api
