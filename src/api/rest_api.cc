#include "api/rest_api.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include "auth/tc3.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/strings.h"
#include "crypto/primitives.h"
#include "ops/metrics.h"

namespace aegis::api {
namespace {

constexpr std::string_view kTag = "api";
constexpr size_t kMaxAuthorizationBytes = 2048;

constexpr const char* kRequestsMetric = "aegis_api_requests_total";
constexpr const char* kAuthFailuresMetric = "aegis_api_auth_failures_total";
constexpr const char* kRateLimitedMetric = "aegis_api_rate_limited_total";

// Codes this API may answer with. Anything else produced by a lower layer
// (store_io, crypto_*, ...) is an internal detail and becomes InternalError,
// both on the wire and in metric labels. (RequestSizeLimitExceeded is the
// listener's: it answers 413 before a body reaches Handle.)
const std::set<std::string, std::less<>>& KnownCodes() {
  static const std::set<std::string, std::less<>> codes = {
      "AuthFailure.SignatureFailure",
      "AuthFailure.SignatureExpire",
      "AuthFailure.SecretIdNotFound",
      "AuthFailure.InvalidAuthorization",
      "InvalidAction",
      "NoSuchVersion",
      "MissingParameter",
      "InvalidParameter",
      "InvalidParameterValue",
      "UnknownParameter",
      "RequestLimitExceeded",
      "UnauthorizedOperation",
      "UnsupportedOperation",
      "ResourceNotFound",
      "ResourceUnavailable",
      "FailedOperation.RoomNotExist",
      "InternalError",
  };
  return codes;
}

Status Error(std::string code, std::string message) {
  return Status::Error(std::move(code), std::move(message));
}

std::optional<std::string_view> Header(const net::HttpRequest& request, const char* name) {
  auto it = request.headers.find(name);
  if (it == request.headers.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

bool IsJsonContentType(std::string_view value) {
  std::string v = AsciiLower(value);
  size_t semi = v.find(';');
  std::string media = v.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
    media.pop_back();
  }
  return media == "application/json";
}

std::optional<int64_t> ParseUnixSeconds(std::string_view text) {
  if (text.empty() || text.size() > 12) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 32) {
    return false;
  }
  return std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Auth failure reason (metric label, audit detail) for a VerifyTc3 code.
std::string_view VerifyReason(std::string_view code) {
  if (code == "AuthFailure.SignatureFailure") {
    return "bad_signature";
  }
  if (code == "AuthFailure.SignatureExpire") {
    return "expired";
  }
  if (code == "AuthFailure.InvalidAuthorization") {
    return "malformed_authorization";
  }
  if (code == "MissingParameter") {
    return "missing_signed_header";
  }
  return "other";
}

// Fixed messages for authentication failures: the verifier's own message may
// describe the computation, and must never reach the client.
std::string AuthMessage(std::string_view code, int64_t tolerance_s) {
  if (code == "AuthFailure.SignatureFailure") {
    return "The provided credentials could not be validated. Please check your signature is "
           "correct.";
  }
  if (code == "AuthFailure.SignatureExpire") {
    return "Signature expired. Timestamp and server time cannot differ by more than " +
           std::to_string(tolerance_s) + " seconds.";
  }
  if (code == "AuthFailure.SecretIdNotFound") {
    return "The SecretId is not found or is disabled. Please check your SecretId.";
  }
  if (code == "MissingParameter") {
    return "A header listed in SignedHeaders is missing from the request.";
  }
  return "The Authorization header is invalid.";
}

void DescribeMetrics() {
  static const bool described = [] {
    auto& m = ops::Metrics::Global();
    m.Describe(kRequestsMetric, "counter", "REST API requests by action and result code.");
    m.Describe(kAuthFailuresMetric, "counter", "REST API authentication failures by reason.");
    m.Describe(kRateLimitedMetric, "counter", "REST API requests refused by a rate limit.");
    return true;
  }();
  (void)described;
}

// "1400000001_1234_1590065777" -> "1234" (the room id may itself contain '_').
std::string RoomFromCommId(std::string_view comm_id) {
  size_t first = comm_id.find('_');
  size_t last = comm_id.rfind('_');
  if (first == std::string_view::npos || last == first) {
    return std::string(comm_id);
  }
  return std::string(comm_id.substr(first + 1, last - first - 1));
}

std::string RoomTarget(const RoomKey& key) { return "room:" + key.ToString(); }

// Coalescing window in ms, clamped so that * 1000 cannot overflow.
int64_t WindowMillis(int64_t window_s) {
  constexpr int64_t kMaxWindowS = int64_t{7} * 24 * 3600;
  return std::clamp<int64_t>(window_s, 0, kMaxWindowS) * 1000;
}

// Retry-After in whole seconds for a limiter's wait: at least 1, at most
// kMaxRetryAfterS, also for +infinity ("never") and NaN.
int64_t RetryAfterSeconds(double wait_s) {
  const auto max_s = static_cast<double>(RestApi::kMaxRetryAfterS);
  if (!(wait_s < max_s)) {
    return RestApi::kMaxRetryAfterS;
  }
  return std::max<int64_t>(1, std::llround(std::ceil(wait_s)));
}

}  // namespace

std::string ClientAddressKey(std::string_view ip) {
  constexpr size_t kMaxKeyBytes = 64;
  if (ip.empty()) {
    return "-";
  }
  std::string text(ip.substr(0, std::min(ip.find('%'), kMaxKeyBytes)));  // no zone id
  std::array<char, INET6_ADDRSTRLEN> buf{};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return ::inet_ntop(AF_INET, &v4, buf.data(), buf.size()) != nullptr ? std::string(buf.data())
                                                                        : text;
  }
  std::array<uint8_t, 16> v6{};
  if (::inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) {
    return std::string(ip.substr(0, kMaxKeyBytes));
  }
  constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), v6.begin())) {
    return ::inet_ntop(AF_INET, v6.data() + 12, buf.data(), buf.size()) != nullptr
               ? std::string(buf.data())
               : text;
  }
  std::fill(v6.begin() + 8, v6.end(), uint8_t{0});
  if (::inet_ntop(AF_INET6, v6.data(), buf.data(), buf.size()) == nullptr) {
    return text;
  }
  return std::string(buf.data()) + "/64";
}

struct RestApi::Context {
  std::string request_id;
  std::string address_key;  // ClientAddressKey(client_ip)
  std::optional<Action> action;
  std::string action_label = "unknown";  // bounded: a known action or "unknown"
  // Authentication state.
  std::string secret_id;  // as presented; only ever logged masked
  std::string actor = "anonymous";
  uint64_t uin = 0;
  bool in_auth = true;      // failures so far are authentication failures
  std::string auth_reason;  // set with each authentication failure
  // Write-action audit.
  bool audit_write = false;
  std::string audit_target = "api";
  std::string audit_detail;
  // Rate limiting.
  std::string limited_key;  // non-empty: the limiter key that refused
  bool limited_by_address = false;
};

RestApi::RestApi(store::ControlStore& store, const Config& config, const Clock& clock,
                 RoomRegistry& rooms)
    : store_(store),
      config_(config),
      clock_(clock),
      rooms_(rooms),
      address_limiter_(clock, {config.api.address_rate, config.api.address_burst,
                               static_cast<size_t>(std::max<int64_t>(1, config.api.max_buckets))}),
      secret_limiter_(clock, {config.api.secret_action_rate, config.api.secret_action_burst,
                              static_cast<size_t>(std::max<int64_t>(1, config.api.max_buckets))}),
      auth_failures_(
          clock, {WindowMillis(config.api.auth_failure_audit_window_s), kMaxCoalescedFailureKeys}) {
  DescribeMetrics();
}

RestApi::~RestApi() {
  // Counted failures must reach the audit log even if no request follows.
  std::vector<AuthFailureCoalescer::Summary> due;
  auth_failures_.Drain(&due);
  WriteFailureSummaries(due);
}

net::HttpResponse RestApi::Handle(const net::HttpRequest& request) {
  Context ctx;
  ctx.request_id = crypto::Uuid4();
  ctx.address_key = ClientAddressKey(request.client_ip);
  if (auto name = Header(request, "x-tc-action")) {
    if (auto action = ParseActionName(*name)) {
      ctx.action = action;
      ctx.action_label = std::string(ActionName(*action));
    }
  }
  Json fields = Json::object();
  Status status;
  try {
    status = Process(request, ctx, &fields);
  } catch (const std::exception&) {
    // A bug, not an input problem: nothing reachable from input should throw,
    // but a request must never take the listener down.
    status = Error("InternalError", "An internal error occurred.");
    LogError(kTag, "unexpected exception", {{"request_id", ctx.request_id}});
  }
  return Finish(request, ctx, std::move(status), std::move(fields));
}

Status RestApi::Process(const net::HttpRequest& request, Context& ctx, Json* out) {
  if (!address_limiter_.TryAcquire(ctx.address_key)) {
    ctx.in_auth = false;
    ctx.limited_key = ctx.address_key;
    ctx.limited_by_address = true;
    ops::Metrics::Global().Increment(kRateLimitedMetric, {{"scope", "address"}});
    return Error("RequestLimitExceeded", "Too many requests from this address.");
  }

  // Shape of the HTTP request (cheap, before any store access). aegisd's
  // router already answers anything but POST / with 404/405; this keeps
  // Handle safe for any caller. The body size is the listener's limit.
  if (request.method != "POST" || (request.path != "/" && !request.path.empty())) {
    ctx.in_auth = false;
    return Error("UnsupportedOperation", "Only POST / is supported.");
  }
  auto content_type = Header(request, "content-type");
  if (!content_type || !IsJsonContentType(*content_type)) {
    ctx.in_auth = false;
    return Error("UnsupportedOperation", "Content-Type must be application/json.");
  }

  AEGIS_RETURN_IF_ERROR(Authenticate(request, ctx));
  ctx.in_auth = false;

  const std::string secret_key = ctx.secret_id + '\x1f' + ctx.action_label;
  if (!secret_limiter_.TryAcquire(secret_key)) {
    ctx.limited_key = secret_key;
    ops::Metrics::Global().Increment(kRateLimitedMetric, {{"scope", "secret_action"}});
    return Error("RequestLimitExceeded", "Too many requests for this action with this SecretId.");
  }
  // From here on, every authenticated write attempt is audited, whatever fails.
  ctx.audit_write = ctx.action.has_value() && IsWriteAction(*ctx.action);

  auto version = Header(request, "x-tc-version");
  if (!version) {
    return Error("MissingParameter", "The request is missing a required parameter `Version`.");
  }
  if (*version != kApiVersion) {
    return Error("NoSuchVersion",
                 "The API version is not supported; use " + std::string(kApiVersion) + ".");
  }
  auto action_name = Header(request, "x-tc-action");
  if (!action_name) {
    return Error("MissingParameter", "The request is missing a required parameter `Action`.");
  }
  if (!ctx.action) {
    return Error("InvalidAction", "The requested action is not supported for version " +
                                      std::string(kApiVersion) + ".");
  }
  if (auto region = Header(request, "x-tc-region"); region && !IsValidRegion(*region)) {
    return Error("InvalidParameterValue", "The value of `Region` is invalid.");
  }
  if (auto language = Header(request, "x-tc-language");
      language && *language != "zh-CN" && *language != "en-US") {
    return Error("InvalidParameterValue", "`Language` must be zh-CN or en-US.");
  }

  const Action action = *ctx.action;
  auto parsed = ValidateActionRequest(action, request.body, clock_.NowUnixSeconds());
  if (!parsed.ok()) {
    return parsed.status();
  }
  const ActionRequest& req = *parsed;
  if (const auto* dismiss = std::get_if<DismissRoomRequest>(&req)) {
    ctx.audit_target = RoomTarget(dismiss->room);
  } else if (const auto* remove = std::get_if<RemoveUserRequest>(&req)) {
    ctx.audit_target = RoomTarget(remove->room);
  }
  AEGIS_RETURN_IF_ERROR(CheckOwnership(ctx, RequestSdkAppId(req)));

  if (const auto* r = std::get_if<DescribeRoomInfoRequest>(&req)) {
    return DoDescribeRoomInfo(*r, out);
  }
  if (const auto* r = std::get_if<DescribeUserInfoRequest>(&req)) {
    return DoDescribeUserInfo(*r, out);
  }
  if (const auto* r = std::get_if<DismissRoomRequest>(&req)) {
    return DoDismissRoom(*r, ctx);
  }
  return DoRemoveUser(std::get<RemoveUserRequest>(req), ctx);
}

Status RestApi::Authenticate(const net::HttpRequest& request, Context& ctx) {
  const int64_t tolerance = config_.api.timestamp_tolerance_s;
  auto header = Header(request, "authorization");
  if (!header || header->empty()) {
    ctx.auth_reason = "missing_authorization";
    return Error("AuthFailure.InvalidAuthorization", "The Authorization header is missing.");
  }
  if (header->size() > kMaxAuthorizationBytes) {
    ctx.auth_reason = "malformed_authorization";
    return Error("AuthFailure.InvalidAuthorization", AuthMessage("", tolerance));
  }
  auto parsed = auth::ParseTc3Authorization(*header);
  if (!parsed.ok()) {
    ctx.auth_reason = "malformed_authorization";
    return Error("AuthFailure.InvalidAuthorization", AuthMessage("", tolerance));
  }
  ctx.secret_id = parsed->secret_id;
  ctx.actor = "secret:" + MaskCredentialId(ctx.secret_id);

  auto ts_header = Header(request, "x-tc-timestamp");
  if (!ts_header) {
    ctx.auth_reason = "missing_timestamp";
    return Error("MissingParameter", "The request is missing a required parameter `Timestamp`.");
  }
  auto timestamp = ParseUnixSeconds(*ts_header);
  if (!timestamp) {
    ctx.auth_reason = "bad_timestamp";
    return Error("InvalidParameterValue", "`X-TC-Timestamp` must be a unix time in seconds.");
  }

  auto secret = store_.LookupSecret(ctx.secret_id);
  if (!secret.ok()) {
    if (secret.status().code() == "store_not_found" || secret.status().code() == "store_invalid") {
      ctx.auth_reason = "unknown_secret";
      return Error("AuthFailure.SecretIdNotFound", AuthMessage("AuthFailure.SecretIdNotFound", 0));
    }
    ctx.in_auth = false;  // our failure, not the caller's
    LogError(kTag, "secret lookup failed",
             {{"request_id", ctx.request_id}, {"error", secret.status().code()}});
    return Error("InternalError", "An internal error occurred.");
  }
  store::SecretMaterial& material = secret.value();
  struct Wipe {  // the SecretKey does not outlive this function in our memory
    std::string& s;
    ~Wipe() {
      crypto::SecureZero(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size()));
    }
  } wipe{material.secret_key};
  if (material.info.status != "enabled") {
    ctx.auth_reason = "secret_disabled";
    return Error("AuthFailure.SecretIdNotFound", AuthMessage("AuthFailure.SecretIdNotFound", 0));
  }

  auth::Tc3Request tc3;
  tc3.method = request.method;
  tc3.path = request.path.empty() ? "/" : request.path;
  tc3.query = request.query;
  tc3.headers = request.headers;
  tc3.body = request.body;
  Status verified = auth::VerifyTc3(tc3, *parsed, material.secret_key, *timestamp,
                                    clock_.NowUnixSeconds(), tolerance);
  if (!verified.ok()) {
    ctx.auth_reason = std::string(VerifyReason(verified.code()));
    std::string code = verified.code();
    if (!KnownCodes().contains(code)) {
      code = "AuthFailure.SignatureFailure";
    }
    return Error(code, AuthMessage(code, tolerance));
  }

  auto account = store_.GetAccount(material.info.uin);
  if (!account.ok() || account->status != "enabled") {
    if (!account.ok() && account.status().code() != "store_not_found") {
      ctx.in_auth = false;
      LogError(kTag, "account lookup failed",
               {{"request_id", ctx.request_id}, {"error", account.status().code()}});
      return Error("InternalError", "An internal error occurred.");
    }
    ctx.auth_reason = "account_disabled";
    return Error("AuthFailure.SecretIdNotFound", AuthMessage("AuthFailure.SecretIdNotFound", 0));
  }
  ctx.uin = material.info.uin;
  store_.TouchSecret(ctx.secret_id);
  return Status::Ok();
}

Status RestApi::CheckOwnership(const Context& ctx, uint32_t sdkappid) {
  // Unknown and foreign applications answer alike: no existence oracle.
  const std::string denied = "No permission to operate SdkAppId " + std::to_string(sdkappid) + ".";
  auto app = store_.GetApplication(sdkappid);
  if (!app.ok()) {
    if (app.status().code() == "store_not_found") {
      return Error("UnauthorizedOperation", denied);
    }
    LogError(kTag, "application lookup failed",
             {{"request_id", ctx.request_id}, {"error", app.status().code()}});
    return Error("InternalError", "An internal error occurred.");
  }
  if (app->uin != ctx.uin || (app->status != "enabled" && app->status != "disabled")) {
    return Error("UnauthorizedOperation", denied);
  }
  if (app->status == "disabled") {
    return Error("ResourceUnavailable", "SdkAppId " + std::to_string(sdkappid) + " is disabled.");
  }
  return Status::Ok();
}

Status RestApi::DoDescribeRoomInfo(const DescribeRoomInfoRequest& r, Json* out) {
  auto app = store_.OpenApp(r.sdkappid);
  if (!app.ok()) {
    return Error(app.status().code() == "store_not_found" ? "ResourceNotFound" : "InternalError",
                 "The application's history is not available.");
  }
  store::RoomQuery q;
  q.start_time = r.start_time;
  q.end_time = r.end_time;
  q.room_id = r.room_id;
  q.offset = static_cast<size_t>(r.page_number * r.page_size);
  q.limit = static_cast<size_t>(r.page_size);
  auto rooms = (*app)->ListRooms(q);
  if (!rooms.ok()) {
    return Error("InternalError", "An internal error occurred.");
  }
  Json list = Json::array();
  for (const store::RoomInstance& room : rooms->first) {
    list.push_back(Json{{"CommId", room.comm_id},
                        {"RoomString", room.room_id},
                        {"CreateTime", room.created_at},
                        {"DestroyTime", room.destroyed_at},
                        {"IsFinished", room.destroyed_at != 0},
                        {"UserId", room.creator}});
  }
  (*out)["Total"] = rooms->second;
  (*out)["RoomList"] = std::move(list);
  return Status::Ok();
}

Status RestApi::DoDescribeUserInfo(const DescribeUserInfoRequest& r, Json* out) {
  auto app = store_.OpenApp(r.sdkappid);
  if (!app.ok()) {
    return Error(app.status().code() == "store_not_found" ? "ResourceNotFound" : "InternalError",
                 "The application's history is not available.");
  }
  store::SessionQuery q;
  q.comm_id = r.comm_id;
  q.start_time = r.start_time;
  q.end_time = r.end_time;
  q.user_ids = r.user_ids;
  q.offset = static_cast<size_t>(r.page_number * r.page_size);
  q.limit = static_cast<size_t>(r.page_size);
  auto sessions = (*app)->ListSessions(q);
  if (!sessions.ok()) {
    return Error("InternalError", "An internal error occurred.");
  }
  const int64_t now_s = clock_.NowUnixSeconds();
  const std::string room = RoomFromCommId(r.comm_id);
  Json list = Json::array();
  for (const store::UserSession& s : sessions->first) {
    list.push_back(Json{{"RoomStr", room},
                        {"UserId", s.user_id},
                        {"JoinTs", s.joined_at},
                        // The convention: a user still in the room reports "now".
                        {"LeaveTs", s.left_at != 0 ? s.left_at : now_s},
                        {"DeviceType", s.os},
                        {"SdkVersion", s.sdk_version},
                        {"ClientIp", s.client_ip_masked},
                        {"Finished", s.left_at != 0}});
  }
  (*out)["Total"] = sessions->second;
  (*out)["UserList"] = std::move(list);
  return Status::Ok();
}

Status RestApi::DoDismissRoom(const DismissRoomRequest& r, Context& ctx) {
  auto dismissed = rooms_.DismissRoom(r.room);
  if (!dismissed.ok()) {
    if (dismissed.status().code() == "room_not_found") {
      return Error("FailedOperation.RoomNotExist", "The room does not exist.");
    }
    return Error("InternalError", "An internal error occurred.");
  }
  ctx.audit_detail = "users=" + std::to_string(*dismissed);
  return Status::Ok();
}

Status RestApi::DoRemoveUser(const RemoveUserRequest& r, Context& ctx) {
  auto removed = rooms_.KickUsers(r.room, r.user_ids);
  if (!removed.ok()) {
    if (removed.status().code() == "room_not_found") {
      return Error("FailedOperation.RoomNotExist", "The room does not exist.");
    }
    return Error("InternalError", "An internal error occurred.");
  }
  std::string detail = "requested=" + std::to_string(r.user_ids.size()) +
                       " removed=" + std::to_string(removed->size());
  if (!removed->empty()) {
    detail += " users=";
    for (size_t i = 0; i < removed->size(); ++i) {
      detail += (i == 0 ? "" : ",") + MaskUserId((*removed)[i]);
    }
  }
  ctx.audit_detail = std::move(detail);
  return Status::Ok();
}

void RestApi::RecordAuthFailure(const net::HttpRequest& request, const Context& ctx,
                                const Status& status) {
  AuthFailureCoalescer::Failure failure;
  failure.key = ctx.address_key + '\x1f' + ctx.auth_reason;
  failure.actor = ctx.actor;
  failure.target = "api:" + ctx.action_label;
  failure.result = status.code();
  failure.reason = ctx.auth_reason;
  failure.request_id = ctx.request_id;
  failure.client_ip = request.client_ip;
  std::vector<AuthFailureCoalescer::Summary> due;
  const bool record_now = auth_failures_.Add(failure, &due);
  WriteFailureSummaries(due);
  if (!record_now) {
    return;  // counted; a later summary records it
  }
  AuditAuthFailure(failure, "reason=" + failure.reason);
  LogWarn(kTag, "authentication failed",
          {{"request_id", failure.request_id},
           {"actor", failure.actor},
           {"reason", failure.reason},
           {"client_ip", MaskIp(failure.client_ip)}});
}

void RestApi::WriteFailureSummaries(const std::vector<AuthFailureCoalescer::Summary>& due) {
  const int64_t window_s = WindowMillis(config_.api.auth_failure_audit_window_s) / 1000;
  for (const AuthFailureCoalescer::Summary& summary : due) {
    const std::string count = std::to_string(summary.count);
    AuditAuthFailure(summary.last, "reason=" + summary.last.reason + " count=" + count +
                                       " window_s=" + std::to_string(window_s));
    LogWarn(kTag, "authentication failures coalesced",
            {{"request_id", summary.last.request_id},
             {"actor", summary.last.actor},
             {"reason", summary.last.reason},
             {"count", summary.count},
             {"client_ip", MaskIp(summary.last.client_ip)}});
  }
}

void RestApi::AuditAuthFailure(const AuthFailureCoalescer::Failure& failure, std::string detail) {
  store::AuditEvent event;
  event.actor = failure.actor;
  event.action = "auth.failure";
  event.target = failure.target;
  event.result = failure.result;
  event.request_id = failure.request_id;
  event.client_ip = failure.client_ip;
  event.detail = std::move(detail);
  Status appended = store_.audit().Append(event);
  if (!appended.ok()) {
    LogError(kTag, "audit append failed",
             {{"request_id", failure.request_id}, {"error", appended.code()}});
  }
}

void RestApi::AuditWrite(const net::HttpRequest& request, const Context& ctx,
                         const Status& status) {
  store::AuditEvent event;
  event.actor = ctx.actor;
  event.action = "api." + ctx.action_label;
  event.target = ctx.audit_target;
  event.result = status.ok() ? "ok" : status.code();
  event.request_id = ctx.request_id;
  event.client_ip = request.client_ip;
  event.detail = ctx.audit_detail;
  Status appended = store_.audit().Append(event);
  if (!appended.ok()) {
    LogError(kTag, "audit append failed",
             {{"request_id", ctx.request_id}, {"error", appended.code()}});
  }
}

net::HttpResponse RestApi::Finish(const net::HttpRequest& request, const Context& ctx,
                                  Status status, Json fields) {
  if (!status.ok() && !KnownCodes().contains(status.code())) {
    LogError(kTag, "unexpected error code", {{"request_id", ctx.request_id}});
    status = Error("InternalError", "An internal error occurred.");
  }
  auto& metrics = ops::Metrics::Global();
  const std::string result = status.ok() ? "ok" : status.code();
  metrics.Increment(kRequestsMetric, {{"action", ctx.action_label}, {"result", result}});

  // Failure counts whose window has ended are written by whichever request
  // comes next, so a flood that stops is still fully accounted for.
  std::vector<AuthFailureCoalescer::Summary> due;
  auth_failures_.Collect(&due);
  WriteFailureSummaries(due);

  if (!status.ok() && ctx.in_auth && !ctx.auth_reason.empty()) {
    // A failed authentication costs extra tokens, so guessing is slow.
    address_limiter_.Penalize(ctx.address_key, config_.api.auth_failure_cost);
    metrics.Increment(kAuthFailuresMetric, {{"reason", ctx.auth_reason}});
    RecordAuthFailure(request, ctx, status);
  } else if (ctx.audit_write && !ctx.in_auth) {
    AuditWrite(request, ctx, status);
  }
  LogDebug(kTag, "request",
           {{"request_id", ctx.request_id},
            {"action", ctx.action_label},
            {"result", result},
            {"actor", ctx.actor},
            {"client_ip", MaskIp(request.client_ip)}});

  Json response = std::move(fields);
  if (!status.ok()) {
    response = Json::object();
    response["Error"] = Json{{"Code", status.code()}, {"Message", status.message()}};
  }
  response["RequestId"] = ctx.request_id;
  Json envelope = Json::object();
  envelope["Response"] = std::move(response);

  net::HttpResponse http;
  http.status = 200;
  http.headers["content-type"] = "application/json; charset=utf-8";
  http.headers["cache-control"] = "no-store";
  http.headers["x-content-type-options"] = "nosniff";
  if (!ctx.limited_key.empty()) {
    auth::RateLimiter& limiter = ctx.limited_by_address ? address_limiter_ : secret_limiter_;
    const double wait = limiter.SecondsUntilAvailable(ctx.limited_key);
    http.headers["retry-after"] = std::to_string(RetryAfterSeconds(wait));
  }
  http.body = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return http;
}

}  // namespace aegis::api
