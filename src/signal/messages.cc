#include "signal/messages.h"

#include <algorithm>
#include <exception>
#include <initializer_list>
#include <set>
#include <utility>

#include "auth/usersig.h"

namespace aegis::signal {
namespace {

using json = nlohmann::json;

Status Err(std::string_view code, std::string message) {
  return Status::Error(std::string(code), std::move(message));
}
Status BadMessage(std::string message) { return Err(kErrBadMessage, std::move(message)); }
Status Missing(std::string_view field) {
  return Err(kErrMissingField, "Missing field `" + std::string(field) + "`.");
}
Status Invalid(std::string_view field, std::string_view why) {
  return Err(kErrInvalidField, "Field `" + std::string(field) + "` " + std::string(why) + ".");
}
Status TooLarge(std::string_view field, size_t max) {
  return Err(kErrTooLarge,
             "Field `" + std::string(field) + "` exceeds " + std::to_string(max) + " bytes.");
}

// A key is echoed in an error only when it is short and plain; anything else
// could be log or markup injection.
std::string SafeName(std::string_view key) {
  if (key.empty() || key.size() > 32) {
    return "?";
  }
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return "?";
    }
  }
  return std::string(key);
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool AllOf(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }

// R2: the string room id charset.
bool IsStrRoomIdChar(char c) {
  static constexpr std::string_view kPunct = " !#$%&()+-:;<=.>?@[]^_{}|~,";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kPunct.find(c) != std::string_view::npos;
}

bool IsPrintable(char c) { return c >= 0x20 && c <= 0x7e; }
bool IsVisible(char c) { return c > 0x20 && c <= 0x7e; }

// First pass over the raw text: enforces the nesting cap and rejects duplicate
// keys at any level (nlohmann silently keeps the last one, which would let the
// server and a proxy or SDK disagree about what a message means).
class CheckingSax {
 public:
  bool null() { return true; }
  bool boolean(bool /*val*/) { return true; }
  bool number_integer(json::number_integer_t /*val*/) { return true; }
  bool number_unsigned(json::number_unsigned_t /*val*/) { return true; }
  bool number_float(json::number_float_t /*val*/, const json::string_t& /*s*/) { return true; }
  bool string(json::string_t& /*val*/) { return true; }
  bool binary(json::binary_t& /*val*/) { return true; }
  bool start_object(std::size_t /*elements*/) { return Push(); }
  bool key(json::string_t& val) {
    if (!keys_.empty() && !keys_.back().insert(val).second) {
      error_ = BadMessage("Duplicate key `" + SafeName(val) + "`.");
      return false;
    }
    return true;
  }
  bool end_object() { return Pop(); }
  bool start_array(std::size_t /*elements*/) { return Push(); }
  bool end_array() { return Pop(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    error_ = BadMessage("Not valid JSON (error at byte " + std::to_string(position) + ").");
    return false;
  }

  const Status& error() const { return error_; }

 private:
  bool Push() {
    if (keys_.size() >= kMaxJsonDepth) {
      error_ = Err(kErrTooLarge, "Nesting deeper than " + std::to_string(kMaxJsonDepth) + ".");
      return false;
    }
    keys_.emplace_back();  // arrays get an unused set so push/pop stay balanced
    return true;
  }
  bool Pop() {
    if (!keys_.empty()) {
      keys_.pop_back();
    }
    return true;
  }

  std::vector<std::set<std::string>> keys_;
  Status error_;
};

Result<json> ParseObject(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    return Err(kErrTooLarge, "Message exceeds " + std::to_string(kMaxMessageBytes) + " bytes.");
  }
  try {
    CheckingSax checker;
    if (!json::sax_parse(text.begin(), text.end(), &checker, json::input_format_t::json,
                         /*strict=*/true)) {
      if (!checker.error().ok()) {
        return checker.error();
      }
      return BadMessage("Not valid JSON.");
    }
    json parsed = json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                              /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return BadMessage("Not valid JSON.");
    }
    if (!parsed.is_object()) {
      return BadMessage("A message must be a JSON object.");
    }
    return parsed;
  } catch (const std::exception&) {
    // Not expected with the non-throwing calls above; no input may escape as
    // an exception.
    return BadMessage("Not valid JSON.");
  }
}

// Field access on a decoded object. Absent and explicit null are different:
// null is never accepted (strict types).
const json* Find(const json& object, std::string_view name) {
  auto it = object.find(std::string(name));
  return it == object.end() ? nullptr : &*it;
}

Status CheckKeys(const json& object, std::initializer_list<std::string_view> allowed) {
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    if (key == "type" || key == "id") {
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return BadMessage("Unknown field `" + SafeName(key) + "`.");
    }
  }
  return Status::Ok();
}

// Reads a string field. required=false and absent -> *out stays nullptr.
Status GetString(const json& object, std::string_view name, bool required,
                 const std::string** out) {
  *out = nullptr;
  const json* value = Find(object, name);
  if (value == nullptr) {
    return required ? Missing(name) : Status::Ok();
  }
  if (!value->is_string()) {
    return Invalid(name, "must be a string");
  }
  *out = value->get_ptr<const std::string*>();
  return Status::Ok();
}

Status GetInt(const json& object, std::string_view name, bool required, int64_t min, int64_t max,
              std::optional<int64_t>* out) {
  out->reset();
  const json* value = Find(object, name);
  if (value == nullptr) {
    return required ? Missing(name) : Status::Ok();
  }
  int64_t v = 0;
  if (value->is_number_unsigned()) {
    uint64_t u = value->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      return Invalid(name, "is out of range");
    }
    v = static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    v = value->get<int64_t>();
  } else {
    return Invalid(name, "must be an integer");
  }
  if (v < min || v > max) {
    return Invalid(name, "is out of range");
  }
  *out = v;
  return Status::Ok();
}

Status GetBool(const json& object, std::string_view name, bool required, std::optional<bool>* out) {
  out->reset();
  const json* value = Find(object, name);
  if (value == nullptr) {
    return required ? Missing(name) : Status::Ok();
  }
  if (!value->is_boolean()) {
    return Invalid(name, "must be a boolean");
  }
  *out = value->get<bool>();
  return Status::Ok();
}

Status CheckTrackId(std::string_view field, const std::string& value) {
  if (!IsValidTrackId(value)) {
    return Invalid(field, "must be 1 to 64 characters of [A-Za-z0-9_-]");
  }
  return Status::Ok();
}

// SDP: 1..32 KiB, no NUL (FZ-10); CR/LF are its line separators.
Status GetSdp(const json& object, std::string* out) {
  const std::string* sdp = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(object, "sdp", true, &sdp));
  if (sdp->size() > kMaxSdpBytes) {
    return TooLarge("sdp", kMaxSdpBytes);
  }
  if (sdp->empty()) {
    return Invalid("sdp", "must not be empty");
  }
  if (sdp->find('\0') != std::string::npos) {
    return Invalid("sdp", "must not contain NUL");
  }
  *out = *sdp;
  return Status::Ok();
}

// userSig / privateMapKey: visible ASCII only (base64 variants).
Status GetTicket(const json& object, std::string_view name, bool required,
                 std::optional<std::string>* out) {
  const std::string* value = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(object, name, required, &value));
  if (value == nullptr) {
    return Status::Ok();
  }
  if (value->size() > kMaxTicketBytes) {
    return TooLarge(name, kMaxTicketBytes);
  }
  if (value->empty() || !AllOf(*value, IsVisible)) {
    return Invalid(name, "must be non-empty visible ASCII");
  }
  *out = *value;
  return Status::Ok();
}

Status GetClientInfo(const json& object, std::string_view name, std::optional<std::string>* out) {
  const std::string* value = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(object, name, false, &value));
  if (value == nullptr) {
    return Status::Ok();
  }
  if (value->empty() || value->size() > kMaxClientInfoBytes || !AllOf(*value, IsPrintable)) {
    return Invalid(name, "must be 1 to 64 printable ASCII characters");
  }
  *out = *value;
  return Status::Ok();
}

template <typename Enum, size_t N>
Status GetEnum(const json& object, std::string_view name, bool required,
               const std::pair<std::string_view, Enum> (&table)[N], std::optional<Enum>* out) {
  out->reset();
  const std::string* value = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(object, name, required, &value));
  if (value == nullptr) {
    return Status::Ok();
  }
  for (const auto& [text, e] : table) {
    if (*value == text) {
      *out = e;
      return Status::Ok();
    }
  }
  std::string allowed;
  for (const auto& [text, e] : table) {
    allowed += (allowed.empty() ? "" : "|") + std::string(text);
  }
  return Invalid(name, "must be one of " + allowed);
}

constexpr std::pair<std::string_view, Role> kRoles[] = {{"anchor", Role::kAnchor},
                                                        {"audience", Role::kAudience}};
constexpr std::pair<std::string_view, TrackKind> kKinds[] = {{"audio", TrackKind::kAudio},
                                                             {"video", TrackKind::kVideo}};
constexpr std::pair<std::string_view, TrackSource> kSources[] = {
    {"camera", TrackSource::kCamera},
    {"microphone", TrackSource::kMicrophone},
    {"screen", TrackSource::kScreen}};
constexpr std::pair<std::string_view, PcKind> kPcs[] = {{"publish", PcKind::kPublish},
                                                        {"subscribe", PcKind::kSubscribe}};

Result<RequestId> DecodeId(const json& object) {
  const json* value = Find(object, "id");
  if (value == nullptr) {
    return Missing("id");
  }
  if (value->is_string()) {
    const auto& s = value->get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxStringIdBytes || !AllOf(s, IsPrintable)) {
      return Invalid("id", "must be 1 to 64 printable ASCII characters or a positive integer");
    }
    return RequestId(s);
  }
  std::optional<int64_t> n;
  AEGIS_RETURN_IF_ERROR(GetInt(object, "id", true, 1, kMaxNumericRequestId, &n));
  return RequestId(*n);
}

Result<ClientMessage> DecodeJoin(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"sdkAppId", "userId", "userSig", "roomId", "strRoomId",
                                      "role", "privateMapKey", "sdkVersion", "os", "e2ee"}));
  JoinRequest m;
  m.id = std::move(id);
  std::optional<int64_t> n;
  AEGIS_RETURN_IF_ERROR(GetInt(o, "sdkAppId", true, 1, 4294967295LL, &n));
  m.sdk_app_id = static_cast<uint32_t>(*n);
  const std::string* s = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(o, "userId", true, &s));
  if (!auth::IsValidUserId(*s)) {
    return Invalid("userId", "must be 1 to 32 characters of [A-Za-z0-9_-]");
  }
  m.user_id = *s;
  std::optional<std::string> ticket;
  AEGIS_RETURN_IF_ERROR(GetTicket(o, "userSig", true, &ticket));
  m.user_sig = std::move(*ticket);

  bool has_num = Find(o, "roomId") != nullptr;
  bool has_str = Find(o, "strRoomId") != nullptr;
  if (has_num && has_str) {
    return Invalid("roomId", "and `strRoomId` are mutually exclusive");
  }
  if (!has_num && !has_str) {
    return Missing("roomId");
  }
  if (has_num) {
    AEGIS_RETURN_IF_ERROR(GetInt(o, "roomId", true, 1, kMaxRoomId, &n));
    m.room_id = static_cast<uint32_t>(*n);
  } else {
    AEGIS_RETURN_IF_ERROR(GetString(o, "strRoomId", true, &s));
    if (!IsValidStrRoomId(*s)) {
      return Invalid("strRoomId", "must be 1 to 64 characters of the string room id charset");
    }
    m.str_room_id = *s;
  }
  std::optional<Role> role;
  AEGIS_RETURN_IF_ERROR(GetEnum(o, "role", true, kRoles, &role));
  m.role = *role;
  AEGIS_RETURN_IF_ERROR(GetTicket(o, "privateMapKey", false, &m.private_map_key));
  AEGIS_RETURN_IF_ERROR(GetClientInfo(o, "sdkVersion", &m.sdk_version));
  AEGIS_RETURN_IF_ERROR(GetClientInfo(o, "os", &m.os));
  std::optional<bool> e2ee;
  AEGIS_RETURN_IF_ERROR(GetBool(o, "e2ee", false, &e2ee));
  m.e2ee = e2ee.value_or(false);
  return ClientMessage(std::move(m));
}

Result<TrackInfo> DecodeTrack(const json& t) {
  if (!t.is_object()) {
    return Invalid("tracks", "items must be objects");
  }
  for (const auto& item : t.items()) {
    const std::string& key = item.key();
    if (key != "trackId" && key != "kind" && key != "source" && key != "muted" && key != "mid") {
      return BadMessage("Unknown field `" + SafeName(key) + "` in `tracks`.");
    }
  }
  TrackInfo track;
  const std::string* s = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(t, "trackId", true, &s));
  AEGIS_RETURN_IF_ERROR(CheckTrackId("trackId", *s));
  track.track_id = *s;
  std::optional<TrackKind> kind;
  AEGIS_RETURN_IF_ERROR(GetEnum(t, "kind", true, kKinds, &kind));
  track.kind = *kind;
  std::optional<TrackSource> source;
  AEGIS_RETURN_IF_ERROR(GetEnum(t, "source", true, kSources, &source));
  track.source = *source;
  // Audio comes from a microphone or a shared screen/tab, video from a camera
  // or a screen.
  if ((track.kind == TrackKind::kAudio && track.source == TrackSource::kCamera) ||
      (track.kind == TrackKind::kVideo && track.source == TrackSource::kMicrophone)) {
    return Invalid("source", "does not match `kind`");
  }
  std::optional<bool> muted;
  AEGIS_RETURN_IF_ERROR(GetBool(t, "muted", false, &muted));
  track.muted = muted.value_or(false);
  AEGIS_RETURN_IF_ERROR(GetString(t, "mid", false, &s));
  if (s != nullptr) {
    if (s->empty() || s->size() > kMaxSdpMidBytes || !IsValidTrackId(*s)) {
      return Invalid("mid", "must be 1 to 32 characters of [A-Za-z0-9_-]");
    }
    track.mid = *s;
  }
  return track;
}

const json* GetArray(const json& o, std::string_view name, Status* status) {
  const json* value = Find(o, name);
  if (value == nullptr) {
    *status = Missing(name);
    return nullptr;
  }
  if (!value->is_array()) {
    *status = Invalid(name, "must be an array");
    return nullptr;
  }
  if (value->size() > kMaxTracksPerMessage) {
    *status = Err(kErrTooLarge, "Field `" + std::string(name) + "` has more than " +
                                    std::to_string(kMaxTracksPerMessage) + " items.");
    return nullptr;
  }
  if (value->empty()) {
    *status = Invalid(name, "must not be empty");
    return nullptr;
  }
  return value;
}

Result<ClientMessage> DecodePublish(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"sdp", "tracks"}));
  PublishRequest m;
  m.id = std::move(id);
  AEGIS_RETURN_IF_ERROR(GetSdp(o, &m.sdp));
  // An empty list is a data-only publish connection (room messages).
  if (const json* raw = Find(o, "tracks"); raw != nullptr && raw->is_array() && raw->empty()) {
    return ClientMessage(std::move(m));
  }
  Status status;
  const json* tracks = GetArray(o, "tracks", &status);
  if (tracks == nullptr) {
    return status;
  }
  for (const json& t : *tracks) {
    Result<TrackInfo> track = DecodeTrack(t);
    if (!track.ok()) {
      return track.status();
    }
    for (const TrackInfo& other : m.tracks) {
      if (other.track_id == track->track_id) {
        return Invalid("trackId", "is repeated");
      }
    }
    m.tracks.push_back(std::move(track).value());
  }
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodeUnpublish(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"trackIds"}));
  UnpublishRequest m;
  m.id = std::move(id);
  Status status;
  const json* ids = GetArray(o, "trackIds", &status);
  if (ids == nullptr) {
    return status;
  }
  for (const json& t : *ids) {
    if (!t.is_string()) {
      return Invalid("trackIds", "items must be strings");
    }
    const auto& s = t.get_ref<const std::string&>();
    AEGIS_RETURN_IF_ERROR(CheckTrackId("trackIds", s));
    if (std::find(m.track_ids.begin(), m.track_ids.end(), s) != m.track_ids.end()) {
      return Invalid("trackIds", "has a repeated item");
    }
    m.track_ids.push_back(s);
  }
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodeSubscribe(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"offerId", "sdp"}));
  SubscribeRequest m;
  m.id = std::move(id);
  std::optional<int64_t> n;
  AEGIS_RETURN_IF_ERROR(GetInt(o, "offerId", true, 1, kMaxNumericRequestId, &n));
  m.offer_id = *n;
  AEGIS_RETURN_IF_ERROR(GetSdp(o, &m.sdp));
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodeMute(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"trackId", "muted"}));
  MuteRequest m;
  m.id = std::move(id);
  const std::string* s = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(o, "trackId", true, &s));
  AEGIS_RETURN_IF_ERROR(CheckTrackId("trackId", *s));
  m.track_id = *s;
  std::optional<bool> muted;
  AEGIS_RETURN_IF_ERROR(GetBool(o, "muted", true, &muted));
  m.muted = *muted;
  return ClientMessage(std::move(m));
}

constexpr std::pair<std::string_view, VideoQuality> kQualities[] = {
    {"auto", VideoQuality::kAuto}, {"high", VideoQuality::kHigh}, {"low", VideoQuality::kLow}};
constexpr std::pair<std::string_view, TrackSource> kVideoSources[] = {
    {"camera", TrackSource::kCamera}, {"screen", TrackSource::kScreen}};

// userId of another room member (same rules as join) and optional source.
Status GetVideoTarget(const json& o, std::string* user_id, TrackSource* source) {
  const std::string* s = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(o, "userId", true, &s));
  if (!auth::IsValidUserId(*s)) {
    return Invalid("userId", "must be 1 to 32 characters of [A-Za-z0-9_-]");
  }
  *user_id = *s;
  std::optional<TrackSource> src;
  AEGIS_RETURN_IF_ERROR(GetEnum(o, "source", false, kVideoSources, &src));
  *source = src.value_or(TrackSource::kCamera);
  return Status::Ok();
}

Result<ClientMessage> DecodeSetVideoQuality(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"userId", "quality", "source"}));
  SetVideoQualityRequest m;
  m.id = std::move(id);
  AEGIS_RETURN_IF_ERROR(GetVideoTarget(o, &m.user_id, &m.source));
  std::optional<VideoQuality> q;
  AEGIS_RETURN_IF_ERROR(GetEnum(o, "quality", true, kQualities, &q));
  m.quality = *q;
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodePauseVideo(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"userId", "paused", "source"}));
  PauseVideoRequest m;
  m.id = std::move(id);
  AEGIS_RETURN_IF_ERROR(GetVideoTarget(o, &m.user_id, &m.source));
  std::optional<bool> paused;
  AEGIS_RETURN_IF_ERROR(GetBool(o, "paused", true, &paused));
  m.paused = *paused;
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodeIceCandidate(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"pc", "candidate", "sdpMid", "sdpMLineIndex"}));
  IceCandidateRequest m;
  m.id = std::move(id);
  std::optional<PcKind> pc;
  AEGIS_RETURN_IF_ERROR(GetEnum(o, "pc", true, kPcs, &pc));
  m.pc = *pc;
  const std::string* s = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(o, "candidate", true, &s));
  if (s->size() > kMaxCandidateBytes) {
    return TooLarge("candidate", kMaxCandidateBytes);
  }
  // One SDP attribute line: CR/LF/NUL would inject lines (FZ-10).
  if (!AllOf(*s, IsPrintable)) {
    return Invalid("candidate", "must be printable ASCII without CR, LF or NUL");
  }
  m.candidate = *s;
  AEGIS_RETURN_IF_ERROR(GetString(o, "sdpMid", false, &s));
  if (s != nullptr) {
    if (s->empty() || s->size() > kMaxSdpMidBytes || !AllOf(*s, IsVisible)) {
      return Invalid("sdpMid", "must be 1 to 32 visible ASCII characters");
    }
    m.sdp_mid = *s;
  }
  AEGIS_RETURN_IF_ERROR(GetInt(o, "sdpMLineIndex", false, 0, 255, &m.sdp_mline_index));
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodeResume(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"sessionToken"}));
  ResumeRequest m;
  m.id = std::move(id);
  const std::string* s = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(o, "sessionToken", true, &s));
  if (s->size() < kMinSessionTokenBytes || s->size() > kMaxSessionTokenBytes ||
      !AllOf(*s, IsIdChar)) {
    return Invalid("sessionToken", "must be 16 to 128 characters of [A-Za-z0-9_-]");
  }
  m.session_token = *s;
  return ClientMessage(std::move(m));
}

Result<ClientMessage> DecodeSwitchRole(const json& o, RequestId id) {
  AEGIS_RETURN_IF_ERROR(CheckKeys(o, {"role"}));
  SwitchRoleRequest m;
  m.id = std::move(id);
  std::optional<Role> role;
  AEGIS_RETURN_IF_ERROR(GetEnum(o, "role", true, kRoles, &role));
  m.role = *role;
  return ClientMessage(std::move(m));
}

json IdJson(const RequestId& id) {
  if (const auto* n = std::get_if<int64_t>(&id)) {
    return *n;
  }
  return std::get<std::string>(id);
}

// Never throws: strings we did not validate (error messages) are replaced
// rather than rejected if they are not UTF-8.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json TrackJson(const TrackInfo& t) {
  json j = {{"trackId", t.track_id},
            {"kind", ToString(t.kind)},
            {"source", ToString(t.source)},
            {"muted", t.muted}};
  if (!t.mid.empty()) j["mid"] = t.mid;
  return j;
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Explicit guide: clang 14 (fuzz builds) lacks aggregate CTAD.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

bool IsValidStrRoomId(std::string_view str_room_id) {
  if (str_room_id.empty() || str_room_id.size() > kMaxStrRoomIdBytes) {
    return false;
  }
  return AllOf(str_room_id, IsStrRoomIdChar);
}

bool IsValidTrackId(std::string_view track_id) {
  return !track_id.empty() && track_id.size() <= kMaxTrackIdBytes && AllOf(track_id, IsIdChar);
}

Result<ClientMessage> DecodeClientMessage(std::string_view text,
                                          std::optional<RequestId>* error_id) {
  if (error_id != nullptr) {
    error_id->reset();
  }
  Result<json> parsed = ParseObject(text);
  if (!parsed.ok()) {
    return parsed.status();
  }
  const json& o = *parsed;
  Result<RequestId> id = DecodeId(o);
  if (!id.ok()) {
    return id.status();
  }
  if (error_id != nullptr) {
    *error_id = *id;
  }
  const std::string* type = nullptr;
  AEGIS_RETURN_IF_ERROR(GetString(o, "type", true, &type));
  const std::string& t = *type;
  if (t == "join") {
    return DecodeJoin(o, std::move(id).value());
  }
  if (t == "publish") {
    return DecodePublish(o, std::move(id).value());
  }
  if (t == "unpublish") {
    return DecodeUnpublish(o, std::move(id).value());
  }
  if (t == "subscribe") {
    return DecodeSubscribe(o, std::move(id).value());
  }
  if (t == "mute") {
    return DecodeMute(o, std::move(id).value());
  }
  if (t == "ice-candidate") {
    return DecodeIceCandidate(o, std::move(id).value());
  }
  if (t == "resume") {
    return DecodeResume(o, std::move(id).value());
  }
  if (t == "switch-role") {
    return DecodeSwitchRole(o, std::move(id).value());
  }
  if (t == "set-video-quality") {
    return DecodeSetVideoQuality(o, std::move(id).value());
  }
  if (t == "pause-video") {
    return DecodePauseVideo(o, std::move(id).value());
  }
  if (t == "leave") {
    AEGIS_RETURN_IF_ERROR(CheckKeys(o, {}));
    return ClientMessage(LeaveRequest{std::move(id).value()});
  }
  if (t == "heartbeat") {
    AEGIS_RETURN_IF_ERROR(CheckKeys(o, {}));
    return ClientMessage(HeartbeatRequest{std::move(id).value()});
  }
  return Err(kErrUnknownType, "Unknown message type.");
}

const RequestId& IdOf(const ClientMessage& message) {
  return std::visit([](const auto& m) -> const RequestId& { return m.id; }, message);
}

std::string_view TypeOf(const ClientMessage& message) {
  return std::visit(
      Overloaded{
          [](const JoinRequest&) { return std::string_view("join"); },
          [](const LeaveRequest&) { return std::string_view("leave"); },
          [](const PublishRequest&) { return std::string_view("publish"); },
          [](const UnpublishRequest&) { return std::string_view("unpublish"); },
          [](const SubscribeRequest&) { return std::string_view("subscribe"); },
          [](const MuteRequest&) { return std::string_view("mute"); },
          [](const IceCandidateRequest&) { return std::string_view("ice-candidate"); },
          [](const HeartbeatRequest&) { return std::string_view("heartbeat"); },
          [](const ResumeRequest&) { return std::string_view("resume"); },
          [](const SwitchRoleRequest&) { return std::string_view("switch-role"); },
          [](const SetVideoQualityRequest&) { return std::string_view("set-video-quality"); },
          [](const PauseVideoRequest&) { return std::string_view("pause-video"); },
      },
      message);
}

std::string EncodeClientMessage(const ClientMessage& message) {
  json j = {{"type", TypeOf(message)}, {"id", IdJson(IdOf(message))}};
  std::visit(Overloaded{
                 [&](const JoinRequest& m) {
                   j["sdkAppId"] = m.sdk_app_id;
                   j["userId"] = m.user_id;
                   j["userSig"] = m.user_sig;
                   if (m.str_room_id.empty()) {
                     j["roomId"] = m.room_id;
                   } else {
                     j["strRoomId"] = m.str_room_id;
                   }
                   j["role"] = ToString(m.role);
                   if (m.private_map_key) {
                     j["privateMapKey"] = *m.private_map_key;
                   }
                   if (m.sdk_version) {
                     j["sdkVersion"] = *m.sdk_version;
                   }
                   if (m.e2ee) {
                     j["e2ee"] = true;
                   }
                   if (m.os) {
                     j["os"] = *m.os;
                   }
                 },
                 [&](const LeaveRequest&) {},
                 [&](const PublishRequest& m) {
                   j["sdp"] = m.sdp;
                   json tracks = json::array();
                   for (const TrackInfo& t : m.tracks) {
                     tracks.push_back(TrackJson(t));
                   }
                   j["tracks"] = std::move(tracks);
                 },
                 [&](const UnpublishRequest& m) { j["trackIds"] = m.track_ids; },
                 [&](const SubscribeRequest& m) {
                   j["offerId"] = m.offer_id;
                   j["sdp"] = m.sdp;
                 },
                 [&](const MuteRequest& m) {
                   j["trackId"] = m.track_id;
                   j["muted"] = m.muted;
                 },
                 [&](const IceCandidateRequest& m) {
                   j["pc"] = ToString(m.pc);
                   j["candidate"] = m.candidate;
                   if (m.sdp_mid) {
                     j["sdpMid"] = *m.sdp_mid;
                   }
                   if (m.sdp_mline_index) {
                     j["sdpMLineIndex"] = *m.sdp_mline_index;
                   }
                 },
                 [&](const HeartbeatRequest&) {},
                 [&](const ResumeRequest& m) { j["sessionToken"] = m.session_token; },
                 [&](const SwitchRoleRequest& m) { j["role"] = ToString(m.role); },
                 [&](const SetVideoQualityRequest& m) {
                   j["userId"] = m.user_id;
                   j["quality"] = ToString(m.quality);
                   if (m.source != TrackSource::kCamera) j["source"] = ToString(m.source);
                 },
                 [&](const PauseVideoRequest& m) {
                   j["userId"] = m.user_id;
                   j["paused"] = m.paused;
                   if (m.source != TrackSource::kCamera) j["source"] = ToString(m.source);
                 },
             },
             message);
  return Dump(j);
}

std::string EncodeOk(const RequestId& id, const nlohmann::json& data) {
  json j = {{"type", "ok"}, {"id", IdJson(id)}};
  if (!data.is_null()) {
    j["data"] = data;
  }
  return Dump(j);
}

std::string EncodeError(const std::optional<RequestId>& id, const Status& error) {
  json j = {{"type", "error"}, {"id", id ? IdJson(*id) : json(nullptr)}};
  j["code"] = error.ok() ? std::string("internal") : error.code();
  j["message"] = error.message();
  return Dump(j);
}

std::string EncodeEvent(const ServerEvent& event) {
  json j = std::visit(
      Overloaded{
          [](const UserJoinedEvent& e) {
            return json{{"type", "user-joined"}, {"userId", e.user_id}, {"role", ToString(e.role)}};
          },
          [](const UserLeftEvent& e) {
            return json{
                {"type", "user-left"}, {"userId", e.user_id}, {"reason", ToString(e.reason)}};
          },
          [](const TrackPublishedEvent& e) {
            return json{
                {"type", "track-published"}, {"userId", e.user_id}, {"track", TrackJson(e.track)}};
          },
          [](const TrackUnpublishedEvent& e) {
            return json{
                {"type", "track-unpublished"}, {"userId", e.user_id}, {"trackId", e.track_id}};
          },
          [](const TrackMuteEvent& e) {
            return json{{"type", e.muted ? "track-muted" : "track-unmuted"},
                        {"userId", e.user_id},
                        {"trackId", e.track_id}};
          },
          [](const KickedEvent& e) {
            return json{{"type", "kicked"}, {"reason", ToString(e.reason)}};
          },
          [](const RoomDismissedEvent&) {
            return json{{"type", "room-dismissed"}};
          },
          [](const SubscribeOfferEvent& e) {
            json tracks = json::array();
            for (const SubscribeOfferTrack& t : e.tracks) {
              tracks.push_back(json{{"mid", t.mid},
                                    {"userId", t.user_id},
                                    {"trackId", t.track_id},
                                    {"kind", ToString(t.kind)},
                                    {"source", ToString(t.source)}});
            }
            return json{{"type", "subscribe-offer"},
                        {"offerId", e.offer_id},
                        {"sdp", e.sdp},
                        {"tracks", std::move(tracks)}};
          },
          [](const UserRoleChangedEvent& e) {
            return json{
                {"type", "user-role-changed"}, {"userId", e.user_id}, {"role", ToString(e.role)}};
          },
          [](const AudienceCountEvent& e) {
            return json{{"type", "audience-count"}, {"count", e.count}};
          },
          [](const VolumeEvent& e) {
            json volumes = json::array();
            for (const UserVolume& v : e.volumes) {
              volumes.push_back(json{{"userId", v.user_id}, {"volume", v.volume}});
            }
            return json{{"type", "volume"}, {"volumes", std::move(volumes)}};
          },
          [](const ActiveSpeakerEvent& e) {
            return json{{"type", "active-speaker"}, {"userId", e.user_id}};
          },
      },
      event);
  return Dump(j);
}

std::string_view ToString(Role role) { return role == Role::kAnchor ? "anchor" : "audience"; }

std::string_view ToString(TrackKind kind) { return kind == TrackKind::kAudio ? "audio" : "video"; }

std::string_view ToString(TrackSource source) {
  switch (source) {
    case TrackSource::kCamera:
      return "camera";
    case TrackSource::kMicrophone:
      return "microphone";
    case TrackSource::kScreen:
      return "screen";
  }
  return "camera";
}

std::string_view ToString(PcKind pc) { return pc == PcKind::kPublish ? "publish" : "subscribe"; }

std::string_view ToString(VideoQuality quality) {
  switch (quality) {
    case VideoQuality::kHigh:
      return "high";
    case VideoQuality::kLow:
      return "low";
    case VideoQuality::kAuto:
      break;
  }
  return "auto";
}

std::string_view ToString(KickReason reason) {
  switch (reason) {
    case KickReason::kRemovedByApi:
      return "removed_by_api";
    case KickReason::kRoomDismissed:
      return "room_dismissed";
    case KickReason::kKickedDuplicateLogin:
      return "kicked_duplicate_login";
    case KickReason::kUserSigExpired:
      return "usersig_expired";
  }
  return "removed_by_api";
}

std::string_view ToString(LeaveReason reason) {
  switch (reason) {
    case LeaveReason::kLeft:
      return "left";
    case LeaveReason::kTimeout:
      return "timeout";
    case LeaveReason::kKicked:
      return "kicked";
    case LeaveReason::kRoleChanged:
      return "role_changed";
  }
  return "left";
}

}  // namespace aegis::signal
