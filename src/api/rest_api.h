// The server REST API (R7): `POST /` in the TC3-HMAC-SHA256 cloud-API
// convention (service "trtc", version 2019-07-22), so the official server SDKs
// work by changing only their endpoint. Per request: address rate limit ->
// Authorization parse -> SecretId lookup -> signature check -> per-SecretId
// per-action rate limit -> version -> action -> parameters -> SdkAppId
// ownership -> act. Every answer of this layer is HTTP 200 with the JSON
// envelope {"Response":{...,"RequestId"}} (errors carry
// Response.Error.{Code,Message}), because SDKs read error codes only from 200
// answers. The body size limit is the listener's (413 before Handle runs).
// Failed authentications (coalesced per address and reason, see
// AuthFailureCoalescer) and all write actions are audited; messages never
// echo secrets and mask user ids.
// Borrows the store, config, clock and registry (all must outlive it).
// Thread-safe: Handle may be called concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/actions.h"
#include "api/auth_failure_coalescer.h"
#include "api/room_registry.h"
#include "auth/rate_limiter.h"
#include "core/clock.h"
#include "core/config.h"
#include "net/http_types.h"
#include "store/store.h"

namespace aegis::api {

class RestApi {
 public:
  RestApi(store::ControlStore& store, const Config& config, const Clock& clock,
          RoomRegistry& rooms);
  RestApi(const RestApi&) = delete;
  RestApi& operator=(const RestApi&) = delete;
  // Writes the audit summaries of failures still being coalesced.
  ~RestApi();

  // For POST / (the caller routes). Never throws; always a JSON envelope.
  net::HttpResponse Handle(const net::HttpRequest& request);

  // Bucket counts, for tests and /metrics.
  size_t address_bucket_count() const { return address_limiter_.bucket_count(); }
  size_t secret_bucket_count() const { return secret_limiter_.bucket_count(); }

  // Longest Retry-After sent, also when a limiter says "never" (rate 0 or a
  // cost above the burst).
  static constexpr int64_t kMaxRetryAfterS = 3600;
  // Keys the failed-authentication coalescer tracks at most.
  static constexpr size_t kMaxCoalescedFailureKeys = 10'000;

 private:
  struct Context;  // per-request state (rest_api.cc)

  using Json = nlohmann::ordered_json;

  Status Process(const net::HttpRequest& request, Context& ctx, Json* out);
  Status Authenticate(const net::HttpRequest& request, Context& ctx);
  Status CheckOwnership(const Context& ctx, uint32_t sdkappid);
  Status DoDescribeRoomInfo(const DescribeRoomInfoRequest& r, Json* out);
  Status DoDescribeUserInfo(const DescribeUserInfoRequest& r, Json* out);
  Status DoDismissRoom(const DismissRoomRequest& r, Context& ctx);
  Status DoRemoveUser(const RemoveUserRequest& r, Context& ctx);

  void RecordAuthFailure(const net::HttpRequest& request, const Context& ctx, const Status& status);
  void AuditAuthFailure(const AuthFailureCoalescer::Failure& failure, std::string detail);
  void WriteFailureSummaries(const std::vector<AuthFailureCoalescer::Summary>& due);
  void AuditWrite(const net::HttpRequest& request, const Context& ctx, const Status& status);
  net::HttpResponse Finish(const net::HttpRequest& request, const Context& ctx, Status status,
                           Json fields);

  // Passed by argument.
  store::ControlStore& store_;
  const Config& config_;
  const Clock& clock_;
  RoomRegistry& rooms_;

  // Allocated by this.
  auth::RateLimiter address_limiter_;
  auth::RateLimiter secret_limiter_;
  AuthFailureCoalescer auth_failures_;
};

// The key under which a peer address is rate limited (and its failed
// authentications coalesced): an IPv4 address as is; an IPv6 address by its
// /64 ("2001:db8:1:2::/64"), because one host commonly holds a whole /64;
// IPv4-mapped IPv6 as the IPv4 address. Zone ids are ignored. Anything
// unparsable is used as given (empty -> "-"). Pure; thread-safe.
std::string ClientAddressKey(std::string_view ip);

}  // namespace aegis::api
