// RestApi::Handle end to end on a real ControlStore (temp dir) and a FakeClock,
// with requests signed by auth::Tc3AuthorizationHeader as the SDKs do.
#include "api/rest_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "auth/tc3.h"
#include "common/temp_dir.h"
#include "core/log.h"
#include "crypto/keyring.h"
#include "ops/metrics.h"

namespace aegis::api {
namespace {

using nlohmann::json;

constexpr const char* kIp = "203.0.113.7";

using ::aegis::testing::TempDir;

class RecordingUser final : public RoomRegistry::UserListener {
 public:
  void OnRemovedByServer(const RoomKey& room, const std::string& user_id,
                         RemoveReason reason) override {
    kicks.push_back({room.ToString(), user_id, reason});
  }
  struct Kick {
    std::string room;
    std::string user_id;
    RemoveReason reason;
  };
  std::vector<Kick> kicks;
};

double Counter(const std::string& name, const ops::Labels& labels) {
  return ops::Metrics::Global().Value(name, labels);
}

struct Credentials {
  uint64_t uin = 0;
  uint32_t sdkappid = 0;
  std::string secret_id;
  std::string secret_key;
};

// How to sign one request (defaults: the main account, now, trtc).
struct Options {
  std::string secret_id;
  std::string secret_key;
  int64_t timestamp = -1;  // -1: now
  std::string version = "2019-07-22";
  std::string service = "trtc";
  std::string ip = kIp;
};

class RestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Logger::Global().SetSink([](std::string_view) {});
    ASSERT_FALSE(dir_.path().empty());
    auto provider = crypto::FileMasterKeyProvider::Open(dir_.path() + "/master.key", true);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    keyring_ = std::make_unique<crypto::Keyring>(std::move(provider).value());
    auto store = store::ControlStore::Open(dir_.path(), *keyring_, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    main_ = MakeAccount("acme");
    other_ = MakeAccount("globex");
    MakeApi();
  }

  Credentials MakeAccount(const std::string& name) {
    const store::AuditContext op{"operator:local", "", ""};
    Credentials c;
    auto account = store_->CreateAccount(name, op);
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    if (!account.ok()) {
      return c;
    }
    c.uin = account->uin;
    auto app = store_->CreateApplication(c.uin, name + "-app", op);
    EXPECT_TRUE(app.ok()) << app.status().ToString();
    if (app.ok()) {
      c.sdkappid = app->app.sdkappid;
    }
    auto secret = store_->CreateSecret(c.uin, op);
    EXPECT_TRUE(secret.ok()) << secret.status().ToString();
    if (secret.ok()) {
      c.secret_id = secret->info.secret_id;
      c.secret_key = secret->secret_key;
    }
    return c;
  }

  void MakeApi() { api_ = std::make_unique<RestApi>(*store_, config_, clock_, rooms_); }

  net::HttpRequest Build(const std::string& action, const std::string& body, Options o = {}) {
    if (o.secret_id.empty()) {
      o.secret_id = main_.secret_id;
    }
    if (o.secret_key.empty()) {
      o.secret_key = main_.secret_key;
    }
    const int64_t ts = o.timestamp >= 0 ? o.timestamp : clock_.NowUnixSeconds();
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.path = "/";
    r.client_ip = o.ip;
    r.body = body;
    r.headers = {{"content-type", "application/json"},
                 {"host", "127.0.0.1:8443"},
                 {"x-tc-action", action},
                 {"x-tc-timestamp", std::to_string(ts)}};
    if (!o.version.empty()) {
      r.headers["x-tc-version"] = o.version;
    }
    auth::Tc3Request t{r.method, "/", "", r.headers, r.body};
    r.headers["authorization"] = auth::Tc3AuthorizationHeader(
        t, {"content-type", "host"}, o.secret_id, o.secret_key, ts, o.service);
    return r;
  }

  json Call(const net::HttpRequest& request) {
    net::HttpResponse resp = api_->Handle(request);
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.headers["content-type"].rfind("application/json", 0), 0u);
    json doc = json::parse(resp.body, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << resp.body;
    EXPECT_TRUE(doc.contains("Response")) << resp.body;
    static const std::regex kUuid(
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    EXPECT_TRUE(std::regex_match(doc["Response"].value("RequestId", std::string()), kUuid))
        << resp.body;
    // No answer ever carries a secret.
    EXPECT_EQ(resp.body.find(main_.secret_key), std::string::npos);
    EXPECT_EQ(resp.body.find(main_.secret_id), std::string::npos);
    last_body_ = resp.body;
    last_headers_ = resp.headers;
    return doc["Response"];
  }

  json Call(const std::string& action, const std::string& body, Options o = {}) {
    return Call(Build(action, body, std::move(o)));
  }

  static std::string CodeOf(const json& response) {
    if (!response.contains("Error")) {
      return "ok";
    }
    return response["Error"].value("Code", std::string("?"));
  }

  std::vector<store::AuditRecord> Audit() {
    auto records = store_->audit().List(0, 100000);
    EXPECT_TRUE(records.ok());
    return records.ok() ? *records : std::vector<store::AuditRecord>{};
  }

  std::vector<store::AuditRecord> AuditWithAction(const std::string& action) {
    std::vector<store::AuditRecord> out;
    for (auto& r : Audit()) {
      if (r.action == action) {
        out.push_back(r);
      }
    }
    return out;
  }

  std::string DismissBody(uint64_t room, uint32_t sdkappid = 0) {
    return json{{"SdkAppId", sdkappid ? sdkappid : main_.sdkappid}, {"RoomId", room}}.dump();
  }

  void TearDown() override { Logger::Global().SetSink(nullptr); }

  TempDir dir_;
  FakeClock clock_{1'700'000'000'000};
  Config config_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<store::ControlStore> store_;
  RoomRegistry rooms_;
  std::unique_ptr<RestApi> api_;
  Credentials main_;
  Credentials other_;
  std::string last_body_;
  std::map<std::string, std::string> last_headers_;
};

// ---- authentication ----

TEST_F(RestApiTest, MissingAuthorization) {
  const double before =
      Counter("aegis_api_auth_failures_total", {{"reason", "missing_authorization"}});
  auto r = Build("DismissRoom", DismissBody(1));
  r.headers.erase("authorization");
  EXPECT_EQ(CodeOf(Call(r)), "AuthFailure.InvalidAuthorization");
  EXPECT_EQ(Counter("aegis_api_auth_failures_total", {{"reason", "missing_authorization"}}),
            before + 1);
  auto audit = AuditWithAction("auth.failure");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].result, "AuthFailure.InvalidAuthorization");
  EXPECT_EQ(audit[0].actor, "anonymous");
  EXPECT_NE(audit[0].detail.find("missing_authorization"), std::string::npos);
  EXPECT_TRUE(AuditWithAction("api.DismissRoom").empty()) << "not authenticated: no write audit";
}

TEST_F(RestApiTest, MalformedAuthorization) {
  for (const char* bad : {"garbage", "TC3-HMAC-SHA256 Credential=", "Bearer abc",
                          "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/trtc/tc3_request, "
                          "SignedHeaders=content-type;host, Signature=zz"}) {
    auto r = Build("DismissRoom", DismissBody(1));
    r.headers["authorization"] = bad;
    EXPECT_EQ(CodeOf(Call(r)), "AuthFailure.InvalidAuthorization") << bad;
  }
  auto r = Build("DismissRoom", DismissBody(1));
  r.headers["authorization"] = std::string(100000, 'A');
  EXPECT_EQ(CodeOf(Call(r)), "AuthFailure.InvalidAuthorization");
}

TEST_F(RestApiTest, UnknownSecretId) {
  Options o;
  o.secret_id = "AKID" + std::string(32, 'Z');
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "AuthFailure.SecretIdNotFound");
  auto audit = AuditWithAction("auth.failure");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_NE(audit[0].detail.find("unknown_secret"), std::string::npos);
  EXPECT_EQ(audit[0].actor.find(o.secret_id), std::string::npos) << "actor is masked";
  EXPECT_EQ(audit[0].actor.rfind("secret:AKID", 0), 0u);
  EXPECT_EQ(audit[0].client_ip_masked.find("203.0.113.7"), std::string::npos);
}

TEST_F(RestApiTest, DisabledSecretIsNotFound) {
  ASSERT_TRUE(store_->DisableSecret(main_.secret_id, {"operator:local", "", ""}).ok());
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "AuthFailure.SecretIdNotFound");
  auto audit = AuditWithAction("auth.failure");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_NE(audit[0].detail.find("secret_disabled"), std::string::npos);
}

TEST_F(RestApiTest, WrongKeyIsSignatureFailure) {
  const double before = Counter("aegis_api_auth_failures_total", {{"reason", "bad_signature"}});
  Options o;
  o.secret_key = std::string(32, 'x');
  json r = Call("DismissRoom", DismissBody(1), o);
  EXPECT_EQ(CodeOf(r), "AuthFailure.SignatureFailure");
  EXPECT_EQ(Counter("aegis_api_auth_failures_total", {{"reason", "bad_signature"}}), before + 1);
  EXPECT_EQ(last_body_.find(o.secret_key), std::string::npos);
  ASSERT_EQ(AuditWithAction("auth.failure").size(), 1u);
}

TEST_F(RestApiTest, TamperedBodyIsSignatureFailure) {
  auto r = Build("DismissRoom", DismissBody(1));
  r.body = DismissBody(2);
  EXPECT_EQ(CodeOf(Call(r)), "AuthFailure.SignatureFailure");
}

TEST_F(RestApiTest, ExpiredTimestamp) {
  Options o;
  o.timestamp = clock_.NowUnixSeconds() - config_.api.timestamp_tolerance_s - 1;
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "AuthFailure.SignatureExpire");
  o.timestamp = clock_.NowUnixSeconds() + config_.api.timestamp_tolerance_s + 1;
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "AuthFailure.SignatureExpire");
  // Inside the tolerance still works (the room simply does not exist).
  o.timestamp = clock_.NowUnixSeconds() - config_.api.timestamp_tolerance_s + 5;
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");
}

TEST_F(RestApiTest, MissingOrBadTimestampHeader) {
  auto r = Build("DismissRoom", DismissBody(1));
  r.headers.erase("x-tc-timestamp");
  EXPECT_EQ(CodeOf(Call(r)), "MissingParameter");
  r.headers["x-tc-timestamp"] = "12ab";
  EXPECT_EQ(CodeOf(Call(r)), "InvalidParameterValue");
  EXPECT_EQ(AuditWithAction("auth.failure").size(), 2u);
}

TEST_F(RestApiTest, SdkQuirksServiceLabelAndHostPort) {
  // The Node SDK names the scope's service after the endpoint's first DNS
  // label ("127" for 127.0.0.1:8443) and signs the host without its port.
  Options o;
  o.service = "127";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");

  net::HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.target = "/";
  r.client_ip = kIp;
  r.body = DismissBody(1);
  const int64_t ts = clock_.NowUnixSeconds();
  r.headers = {{"content-type", "application/json"},
               {"host", "127.0.0.1"},
               {"x-tc-action", "DismissRoom"},
               {"x-tc-version", "2019-07-22"},
               {"x-tc-timestamp", std::to_string(ts)}};
  auth::Tc3Request t{"POST", "/", "", r.headers, r.body};
  r.headers["authorization"] = auth::Tc3AuthorizationHeader(
      t, {"content-type", "host"}, main_.secret_id, main_.secret_key, ts, "127");
  r.headers["host"] = "127.0.0.1:8443";  // what actually goes on the wire
  EXPECT_EQ(CodeOf(Call(r)), "FailedOperation.RoomNotExist");
}

// ---- request shape, version, action ----

TEST_F(RestApiTest, MethodAndContentType) {
  auto r = Build("DismissRoom", DismissBody(1));
  r.method = "GET";
  EXPECT_EQ(CodeOf(Call(r)), "UnsupportedOperation");
  r = Build("DismissRoom", DismissBody(1));
  r.headers["content-type"] = "application/x-www-form-urlencoded";
  EXPECT_EQ(CodeOf(Call(r)), "UnsupportedOperation");
  r = Build("DismissRoom", DismissBody(1));
  r.headers["content-type"] = "Application/JSON; charset=utf-8";
  EXPECT_EQ(CodeOf(Call(r)), "AuthFailure.SignatureFailure") << "accepted, but signed differently";
}

// Regression: the API had its own body-size branch that could never run (the
// listener answers 413 first, with the same limit). The limit is the
// listener's alone; the API never answers RequestSizeLimitExceeded.
TEST_F(RestApiTest, BodySizeIsTheListenersLimit) {
  config_.server.max_body_bytes = 16;
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
}

TEST_F(RestApiTest, UnknownAction) {
  const double before =
      Counter("aegis_api_requests_total", {{"action", "unknown"}, {"result", "InvalidAction"}});
  EXPECT_EQ(CodeOf(Call("DescribeCallDetail", "{}")), "InvalidAction");
  EXPECT_EQ(CodeOf(Call("dismissroom", "{}")), "InvalidAction");
  EXPECT_EQ(
      Counter("aegis_api_requests_total", {{"action", "unknown"}, {"result", "InvalidAction"}}),
      before + 2);
  auto r = Build("DismissRoom", DismissBody(1));
  r.headers.erase("x-tc-action");
  EXPECT_EQ(CodeOf(Call(r)), "MissingParameter");
}

TEST_F(RestApiTest, WrongOrMissingVersion) {
  Options o;
  o.version = "2017-03-12";
  json r = Call("DismissRoom", DismissBody(1), o);
  EXPECT_EQ(CodeOf(r), "NoSuchVersion");
  o.version = "";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "MissingParameter");
  // Authenticated write attempts are audited even when they fail early.
  auto audit = AuditWithAction("api.DismissRoom");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].result, "NoSuchVersion");
  EXPECT_EQ(audit[1].result, "MissingParameter");
}

TEST_F(RestApiTest, RegionAndLanguageHeaders) {
  auto r = Build("DismissRoom", DismissBody(1));
  r.headers["x-tc-region"] = "ap-guangzhou";
  r.headers["x-tc-language"] = "en-US";
  EXPECT_EQ(CodeOf(Call(r)), "FailedOperation.RoomNotExist");
  r.headers["x-tc-language"] = "fr-FR";
  EXPECT_EQ(CodeOf(Call(r)), "InvalidParameterValue");
  r.headers.erase("x-tc-language");
  r.headers["x-tc-region"] = "ap guangzhou\n";
  EXPECT_EQ(CodeOf(Call(r)), "InvalidParameterValue");
}

// ---- parameters ----

TEST_F(RestApiTest, ParameterErrors) {
  struct Case {
    std::string action;
    std::string body;
    std::string code;
  };
  const std::string app = std::to_string(main_.sdkappid);
  const std::vector<Case> cases = {
      {"DismissRoom", "{", "InvalidParameter"},
      {"DismissRoom", "[]", "InvalidParameter"},
      {"DismissRoom", R"({"SdkAppId":)" + app + R"(,"RoomId":1,"Foo":1})", "UnknownParameter"},
      {"DismissRoom", R"({"SdkAppId":)" + app + "}", "MissingParameter"},
      {"DismissRoom", R"({"SdkAppId":)" + app + R"(,"RoomId":"1"})", "InvalidParameter"},
      {"DismissRoom", R"({"SdkAppId":)" + app + R"(,"RoomId":0})", "InvalidParameterValue"},
      {"DismissRoom", R"({"SdkAppId":)" + app + R"(,"RoomId":1,"RoomId":2})", "InvalidParameter"},
      {"DismissRoomByStrRoomId",
       R"({"SdkAppId":)" + app + R"(,"RoomId":")" + std::string(65, 'a') + "\"}",
       "InvalidParameterValue"},
      {"RemoveUser",
       R"({"SdkAppId":)" + app + R"(,"RoomId":1,"UserIds":[")" + std::string(33, 'u') + "\"]}",
       "InvalidParameterValue"},
      {"RemoveUser", R"({"SdkAppId":)" + app + R"(,"RoomId":1,"UserIds":[1,2]})",
       "InvalidParameter"},
      {"DescribeRoomInfo",
       R"({"SdkAppId":)" + app +
           R"(,"StartTime":1699990000,"EndTime":1699999000,"PageSize":500,"PageNumber":0})",
       "InvalidParameterValue"},
      {"DescribeUserInfo",
       R"({"SdkAppId":)" + app + R"(,"CommId":"c","StartTime":"x","EndTime":1})",
       "InvalidParameter"},
  };
  for (const Case& c : cases) {
    json r = Call(c.action, c.body);
    EXPECT_EQ(CodeOf(r), c.code) << c.action << " " << c.body;
    EXPECT_FALSE(r["Error"].value("Message", std::string()).empty());
  }
  std::string huge = "[";
  for (int i = 0; i < 50000; ++i) {
    huge += i ? ",\"u\"" : "\"u\"";
  }
  huge += "]";
  EXPECT_EQ(CodeOf(Call("RemoveUser",
                        R"({"SdkAppId":)" + app + R"(,"RoomId":1,"UserIds":)" + huge + "}")),
            "InvalidParameterValue");
  EXPECT_EQ(CodeOf(Call("DismissRoom", "{\"a\":" + std::string(5000, '[') + "}")),
            "InvalidParameter");
}

TEST_F(RestApiTest, MalformedJsonMessageIsClear) {
  json r = Call("DismissRoom", "{\"SdkAppId\": 14,");
  EXPECT_EQ(CodeOf(r), "InvalidParameter");
  EXPECT_NE(r["Error"]["Message"].get<std::string>().find("not valid JSON"), std::string::npos);
}

// ---- authorization (tenant isolation) ----

TEST_F(RestApiTest, SdkAppIdOfAnotherAccountIsUnauthorized) {
  auto other_room = std::make_shared<RecordingUser>();
  ASSERT_TRUE(rooms_
                  .AddUser(RoomKey::Numeric(other_.sdkappid, 1), {"victim", "anchor", 0}, "c", 0,
                           other_room)
                  .ok());
  for (const char* action : {"DismissRoom", "RemoveUser"}) {
    json body = {{"SdkAppId", other_.sdkappid}, {"RoomId", 1}};
    if (std::string(action) == "RemoveUser") {
      body["UserIds"] = {"victim"};
    }
    EXPECT_EQ(CodeOf(Call(action, body.dump())), "UnauthorizedOperation") << action;
  }
  EXPECT_EQ(CodeOf(Call("DescribeRoomInfo", json{{"SdkAppId", other_.sdkappid},
                                                 {"StartTime", 1699990000},
                                                 {"EndTime", 1699999000}}
                                                .dump())),
            "UnauthorizedOperation");
  // A SdkAppId that does not exist answers the same way (no existence oracle).
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1, 1499999999))), "UnauthorizedOperation");
  EXPECT_TRUE(other_room->kicks.empty());
  EXPECT_TRUE(rooms_.FindNumeric(other_.sdkappid, 1).has_value());
  auto audit = AuditWithAction("api.DismissRoom");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].result, "UnauthorizedOperation");
  EXPECT_EQ(audit[0].target, "room:" + std::to_string(other_.sdkappid) + "/1");
}

TEST_F(RestApiTest, SameRoomIdInTwoAppsIsTwoRooms) {
  auto mine = std::make_shared<RecordingUser>();
  auto theirs = std::make_shared<RecordingUser>();
  ASSERT_TRUE(
      rooms_.AddUser(RoomKey::Numeric(main_.sdkappid, 9), {"a", "anchor", 0}, "c", 0, mine).ok());
  ASSERT_TRUE(
      rooms_.AddUser(RoomKey::Numeric(other_.sdkappid, 9), {"a", "anchor", 0}, "c", 0, theirs)
          .ok());
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(9))), "ok");
  EXPECT_EQ(mine->kicks.size(), 1u);
  EXPECT_TRUE(theirs->kicks.empty());
  EXPECT_TRUE(rooms_.FindNumeric(other_.sdkappid, 9).has_value());
}

// ---- rate limits ----

TEST_F(RestApiTest, PerSecretPerActionRateLimit) {
  config_.api.secret_action_burst = 3;
  config_.api.secret_action_rate = 1;
  MakeApi();
  const double before = Counter("aegis_api_rate_limited_total", {{"scope", "secret_action"}});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  }
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded");
  EXPECT_FALSE(last_headers_["retry-after"].empty());
  EXPECT_EQ(Counter("aegis_api_rate_limited_total", {{"scope", "secret_action"}}), before + 1);
  // Another action has its own bucket.
  EXPECT_EQ(CodeOf(Call("DismissRoomByStrRoomId",
                        json{{"SdkAppId", main_.sdkappid}, {"RoomId", "r"}}.dump())),
            "FailedOperation.RoomNotExist");
  clock_.AdvanceMillis(1000);
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
}

TEST_F(RestApiTest, PerAddressRateLimitAndAuthFailureCost) {
  config_.api.address_burst = 25;
  config_.api.address_rate = 1;
  config_.api.auth_failure_cost = 10;
  MakeApi();
  const double before = Counter("aegis_api_rate_limited_total", {{"scope", "address"}});
  Options bad;
  bad.secret_key = std::string(32, 'q');
  // 1 + 10 per failure: two failures leave 3 tokens.
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), bad)), "AuthFailure.SignatureFailure");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), bad)), "AuthFailure.SignatureFailure");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded");
  EXPECT_EQ(Counter("aegis_api_rate_limited_total", {{"scope", "address"}}), before + 1);
  // Other addresses are unaffected.
  Options elsewhere;
  elsewhere.ip = "198.51.100.1";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), elsewhere)), "FailedOperation.RoomNotExist");
}

// Regression: IPv6 clients could take a fresh bucket per address of their /64.
TEST_F(RestApiTest, AddressLimitIsPerIpv6Slash64) {
  config_.api.address_burst = 2;
  config_.api.address_rate = 1;
  MakeApi();
  Options o;
  o.ip = "2001:db8:1:2::1";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");
  o.ip = "2001:db8:1:2:ffff:ffff:ffff:fffe";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");
  o.ip = "2001:db8:1:2::99";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "RequestLimitExceeded");
  o.ip = "2001:db8:1:3::1";  // the next /64
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");
  // IPv4-mapped IPv6 is the IPv4 address.
  o.ip = "198.51.100.9";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");
  o.ip = "::ffff:198.51.100.9";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "FailedOperation.RoomNotExist");
  o.ip = "198.51.100.9";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), o)), "RequestLimitExceeded");
}

TEST(ClientAddressKey, Forms) {
  EXPECT_EQ(ClientAddressKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientAddressKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddressKey("2001:0db8:0001:0002::abcd"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddressKey("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(ClientAddressKey("::1"), "::/64");
  EXPECT_EQ(ClientAddressKey("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(ClientAddressKey(""), "-");
  EXPECT_EQ(ClientAddressKey("not-an-ip"), "not-an-ip");
  EXPECT_EQ(ClientAddressKey(std::string(500, 'x')).size(), 64u);
}

// Regression: a penalised address came back with a full bucket once a flood
// of other addresses had evicted it from the bounded table.
TEST_F(RestApiTest, PenalisedAddressSurvivesEvictionFlood) {
  config_.api.max_buckets = 16;
  config_.api.address_burst = 25;
  config_.api.address_rate = 1;
  config_.api.auth_failure_cost = 10;
  MakeApi();
  Options bad;
  bad.secret_key = std::string(32, 'q');
  for (int i = 0; i < 3; ++i) {  // 25 -> 14 -> 3 -> -8
    EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), bad)), "AuthFailure.SignatureFailure");
  }
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded");
  for (int i = 0; i < 500; ++i) {
    auto r = Build("DismissRoom", DismissBody(1));
    r.client_ip = "10.9." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    r.headers["content-type"] = "text/plain";  // cheap: refused after the address limiter
    EXPECT_EQ(CodeOf(Call(r)), "UnsupportedOperation");
    ASSERT_LE(api_->address_bucket_count(), 16u);
  }
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded")
      << "the indebted bucket was kept; fresh ones were evicted instead";
}

// Regression: Retry-After was std::llround(+inf) when a limiter can never
// admit the request (rate 0, or a cost above the burst).
TEST_F(RestApiTest, RetryAfterIsBoundedWhenNeverAvailable) {
  config_.api.address_burst = 1;
  config_.api.address_rate = 0;
  MakeApi();
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded");
  EXPECT_EQ(last_headers_["retry-after"], std::to_string(RestApi::kMaxRetryAfterS));

  config_.api.address_burst = 100;
  config_.api.address_rate = 10;
  config_.api.secret_action_burst = 0.5;  // below the cost of one request
  config_.api.secret_action_rate = 1;
  MakeApi();
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded");
  EXPECT_EQ(last_headers_["retry-after"], std::to_string(RestApi::kMaxRetryAfterS));

  // An ordinary wait is rounded up, at least 1.
  config_.api.secret_action_burst = 1;
  config_.api.secret_action_rate = 0.25;
  MakeApi();
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "RequestLimitExceeded");
  EXPECT_EQ(last_headers_["retry-after"], "4");
}

// ---- failed-authentication audit flood ----

// Regression: every failed authentication appended (and fsynced) an audit
// record and a warning line on the io thread.
TEST_F(RestApiTest, AuthFailureFloodIsCoalesced) {
  std::vector<std::string> warnings;
  Logger::Global().SetSink([&warnings](std::string_view line) {
    if (line.find("authentication fail") != std::string_view::npos) {
      warnings.emplace_back(line);
    }
  });
  config_.api.address_burst = 1e9;
  config_.api.auth_failure_cost = 0;
  config_.api.auth_failure_audit_window_s = 60;
  MakeApi();
  Options bad;
  bad.secret_key = std::string(32, 'q');
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), bad)), "AuthFailure.SignatureFailure");
    clock_.AdvanceMillis(10);  // 10 s in all: one window
  }
  auto audit = AuditWithAction("auth.failure");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].detail, "reason=bad_signature");
  EXPECT_EQ(warnings.size(), 1u);

  // Another reason, or another address, is its own key.
  Options elsewhere = bad;
  elsewhere.ip = "198.51.100.1";
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), elsewhere)), "AuthFailure.SignatureFailure");
  auto r = Build("DismissRoom", DismissBody(1));
  r.headers.erase("authorization");
  EXPECT_EQ(CodeOf(Call(r)), "AuthFailure.InvalidAuthorization");
  EXPECT_EQ(AuditWithAction("auth.failure").size(), 3u);

  // The window rolls over: the next request of any kind writes the summary.
  clock_.AdvanceMillis(60'000);
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1))), "FailedOperation.RoomNotExist");
  audit = AuditWithAction("auth.failure");
  ASSERT_EQ(audit.size(), 4u);
  EXPECT_EQ(audit[3].detail, "reason=bad_signature count=999 window_s=60");
  EXPECT_EQ(audit[3].result, "AuthFailure.SignatureFailure");
  EXPECT_EQ(audit[3].actor, audit[0].actor);
  EXPECT_EQ(warnings.size(), 4u);

  auto verify = store_->audit().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok) << verify->problem;
}

TEST_F(RestApiTest, PendingAuthFailureCountsAreWrittenOnShutdown) {
  config_.api.address_burst = 1e9;
  MakeApi();
  Options bad;
  bad.secret_key = std::string(32, 'q');
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1), bad)), "AuthFailure.SignatureFailure");
  }
  EXPECT_EQ(AuditWithAction("auth.failure").size(), 1u);
  api_.reset();
  auto audit = AuditWithAction("auth.failure");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].detail, "reason=bad_signature count=4 window_s=60");
}

TEST_F(RestApiTest, BucketMemoryIsBounded) {
  config_.api.max_buckets = 16;
  MakeApi();
  Options o;
  for (int i = 0; i < 500; ++i) {
    o.ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    o.secret_id = "AKID" + std::string(28, 'A') + std::to_string(1000 + i);
    (void)Call("DismissRoom", DismissBody(1), o);
  }
  EXPECT_LE(api_->address_bucket_count(), 16u);
  // Real secrets cycling through every action.
  std::vector<Credentials> creds;
  for (int i = 0; i < 4; ++i) {
    const store::AuditContext op{"operator:local", "", ""};
    auto s = store_->CreateSecret(main_.uin, op);
    ASSERT_TRUE(s.ok());
    creds.push_back({main_.uin, main_.sdkappid, s->info.secret_id, s->secret_key});
  }
  for (const auto& c : creds) {
    for (Action a : kAllActions) {
      Options so;
      so.secret_id = c.secret_id;
      so.secret_key = c.secret_key;
      (void)Call(std::string(ActionName(a)), "{}", so);
    }
  }
  EXPECT_LE(api_->secret_bucket_count(), 16u);
  EXPECT_GT(api_->secret_bucket_count(), 0u);
}

// ---- successful actions ----

TEST_F(RestApiTest, DismissRoomKicksEveryoneAndAudits) {
  auto alice = std::make_shared<RecordingUser>();
  auto bob = std::make_shared<RecordingUser>();
  const RoomKey room = RoomKey::Numeric(main_.sdkappid, 1234);
  ASSERT_TRUE(rooms_.AddUser(room, {"alice", "anchor", 1}, "c1", 1, alice).ok());
  ASSERT_TRUE(rooms_.AddUser(room, {"bob", "audience", 2}, "c1", 2, bob).ok());
  const double before =
      Counter("aegis_api_requests_total", {{"action", "DismissRoom"}, {"result", "ok"}});

  json r = Call("DismissRoom", DismissBody(1234));
  EXPECT_EQ(CodeOf(r), "ok") << last_body_;
  EXPECT_EQ(r.size(), 1u) << "only RequestId: " << last_body_;
  ASSERT_EQ(alice->kicks.size(), 1u);
  EXPECT_EQ(alice->kicks[0].reason, RemoveReason::kRoomDismissed);
  ASSERT_EQ(bob->kicks.size(), 1u);
  EXPECT_FALSE(rooms_.Find(room).has_value());
  EXPECT_EQ(Counter("aegis_api_requests_total", {{"action", "DismissRoom"}, {"result", "ok"}}),
            before + 1);

  auto audit = AuditWithAction("api.DismissRoom");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_EQ(audit[0].target, "room:" + std::to_string(main_.sdkappid) + "/1234");
  EXPECT_EQ(audit[0].request_id, r["RequestId"].get<std::string>());
  EXPECT_EQ(audit[0].actor.rfind("secret:", 0), 0u);
  EXPECT_EQ(audit[0].actor.find(main_.secret_id), std::string::npos);
  EXPECT_FALSE(audit[0].client_ip_masked.empty());
  EXPECT_FALSE(audit[0].client_ip_hash.empty());

  // Again: gone.
  EXPECT_EQ(CodeOf(Call("DismissRoom", DismissBody(1234))), "FailedOperation.RoomNotExist");
  audit = AuditWithAction("api.DismissRoom");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].result, "FailedOperation.RoomNotExist");
  auto verify = store_->audit().Verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok) << verify->problem;
}

TEST_F(RestApiTest, DismissRoomByStrRoomIdOnlyTouchesStringRoom) {
  auto numeric = std::make_shared<RecordingUser>();
  auto str = std::make_shared<RecordingUser>();
  ASSERT_TRUE(
      rooms_.AddUser(RoomKey::Numeric(main_.sdkappid, 1234), {"n", "anchor", 0}, "c", 0, numeric)
          .ok());
  ASSERT_TRUE(
      rooms_.AddUser(RoomKey::String(main_.sdkappid, "1234"), {"s", "anchor", 0}, "c", 0, str)
          .ok());
  EXPECT_EQ(CodeOf(Call("DismissRoomByStrRoomId",
                        json{{"SdkAppId", main_.sdkappid}, {"RoomId", "1234"}}.dump())),
            "ok");
  EXPECT_EQ(str->kicks.size(), 1u);
  EXPECT_TRUE(numeric->kicks.empty());
  EXPECT_EQ(AuditWithAction("api.DismissRoomByStrRoomId").size(), 1u);
}

TEST_F(RestApiTest, RemoveUserRemovesOnlyNamedUsers) {
  std::map<std::string, std::shared_ptr<RecordingUser>> users;
  const RoomKey room = RoomKey::Numeric(main_.sdkappid, 77);
  for (const char* id : {"alice", "bob", "carol"}) {
    users[id] = std::make_shared<RecordingUser>();
    ASSERT_TRUE(rooms_.AddUser(room, {id, "anchor", 0}, "c", 0, users[id]).ok());
  }
  json body = {{"SdkAppId", main_.sdkappid}, {"RoomId", 77}, {"UserIds", {"bob", "zed"}}};
  EXPECT_EQ(CodeOf(Call("RemoveUser", body.dump())), "ok") << last_body_;
  EXPECT_TRUE(users["alice"]->kicks.empty());
  ASSERT_EQ(users["bob"]->kicks.size(), 1u);
  EXPECT_EQ(users["bob"]->kicks[0].reason, RemoveReason::kRemovedByApi);
  EXPECT_TRUE(users["carol"]->kicks.empty());
  auto snap = rooms_.Find(room);
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->users.size(), 2u);

  auto audit = AuditWithAction("api.RemoveUser");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_NE(audit[0].detail.find("requested=2 removed=1"), std::string::npos);
  EXPECT_EQ(audit[0].detail.find("bob"), std::string::npos) << "user ids masked";

  body["RoomId"] = 78;
  EXPECT_EQ(CodeOf(Call("RemoveUser", body.dump())), "FailedOperation.RoomNotExist");
}

TEST_F(RestApiTest, RemoveUserByStrRoomId) {
  auto a = std::make_shared<RecordingUser>();
  auto b = std::make_shared<RecordingUser>();
  const RoomKey room = RoomKey::String(main_.sdkappid, "room_1001");
  ASSERT_TRUE(rooms_.AddUser(room, {"user_1", "anchor", 0}, "c", 0, a).ok());
  ASSERT_TRUE(rooms_.AddUser(room, {"user_2", "anchor", 0}, "c", 0, b).ok());
  json body = {{"SdkAppId", main_.sdkappid}, {"RoomId", "room_1001"}, {"UserIds", {"user_1"}}};
  EXPECT_EQ(CodeOf(Call("RemoveUserByStrRoomId", body.dump())), "ok");
  EXPECT_EQ(a->kicks.size(), 1u);
  EXPECT_TRUE(b->kicks.empty());
  EXPECT_EQ(AuditWithAction("api.RemoveUserByStrRoomId").size(), 1u);
}

TEST_F(RestApiTest, DescribeRoomInfoEmpty) {
  json r =
      Call("DescribeRoomInfo",
           json{{"SdkAppId", main_.sdkappid}, {"StartTime", 1699990000}, {"EndTime", 1699999000}}
               .dump());
  EXPECT_EQ(CodeOf(r), "ok") << last_body_;
  EXPECT_EQ(r["Total"], 0);
  EXPECT_TRUE(r["RoomList"].is_array());
  EXPECT_TRUE(r["RoomList"].empty());
  EXPECT_TRUE(AuditWithAction("api.DescribeRoomInfo").empty()) << "reads are not audited";
}

TEST_F(RestApiTest, DescribeRoomInfoAndUserInfoFromHistory) {
  auto app = store_->OpenApp(main_.sdkappid);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  const std::string comm = std::to_string(main_.sdkappid) + "_223_1699995000";
  ASSERT_TRUE((*app)->RecordRoomCreated({comm, "223", false, "alice", 1699995000, 0}).ok());
  store::UserSession s;
  s.comm_id = comm;
  s.user_id = "alice";
  s.role = "anchor";
  s.joined_at = 1699995000;
  s.sdk_version = "5.0.0";
  s.os = "web";
  s.client_ip_masked = "10.1.*.*";
  ASSERT_TRUE((*app)->RecordSessionJoined(s).ok());
  s.user_id = "bob";
  s.joined_at = 1699995100;
  ASSERT_TRUE((*app)->RecordSessionJoined(s).ok());
  ASSERT_TRUE((*app)->RecordSessionLeft(comm, "bob", 1699995200, "left").ok());

  json rooms =
      Call("DescribeRoomInfo",
           json{{"SdkAppId", main_.sdkappid}, {"StartTime", 1699990000}, {"EndTime", 1699999000}}
               .dump());
  ASSERT_EQ(CodeOf(rooms), "ok") << last_body_;
  EXPECT_EQ(rooms["Total"], 1);
  ASSERT_EQ(rooms["RoomList"].size(), 1u);
  const json& room = rooms["RoomList"][0];
  EXPECT_EQ(room["CommId"], comm);
  EXPECT_EQ(room["RoomString"], "223");
  EXPECT_EQ(room["CreateTime"], 1699995000);
  EXPECT_EQ(room["IsFinished"], false);
  EXPECT_EQ(room["UserId"], "alice");

  json users = Call("DescribeUserInfo", json{{"SdkAppId", main_.sdkappid},
                                             {"CommId", comm},
                                             {"StartTime", 1699990000},
                                             {"EndTime", 1699999000}}
                                            .dump());
  ASSERT_EQ(CodeOf(users), "ok") << last_body_;
  EXPECT_EQ(users["Total"], 2);
  ASSERT_EQ(users["UserList"].size(), 2u);
  for (const json& u : users["UserList"]) {
    EXPECT_EQ(u["RoomStr"], "223");
    EXPECT_EQ(u["ClientIp"], "10.1.*.*");
    if (u["UserId"] == "bob") {
      EXPECT_EQ(u["Finished"], true);
      EXPECT_EQ(u["LeaveTs"], 1699995200);
    } else {
      EXPECT_EQ(u["Finished"], false);
      EXPECT_EQ(u["LeaveTs"], clock_.NowUnixSeconds());
    }
  }
  json only_bob = Call("DescribeUserInfo", json{{"SdkAppId", main_.sdkappid},
                                                {"CommId", comm},
                                                {"StartTime", 1699990000},
                                                {"EndTime", 1699999000},
                                                {"UserIds", {"bob"}}}
                                               .dump());
  ASSERT_EQ(CodeOf(only_bob), "ok");
  ASSERT_EQ(only_bob["UserList"].size(), 1u);
  EXPECT_EQ(only_bob["UserList"][0]["UserId"], "bob");
}

// The store answers store_not_found when an application's database file is
// missing; that is ResourceNotFound, not InternalError.
TEST_F(RestApiTest, MissingHistoryDatabaseIsResourceNotFound) {
  const std::string db = dir_.path() + "/apps/" + std::to_string(main_.sdkappid) + ".db";
  ASSERT_TRUE(std::filesystem::exists(db)) << db;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(db + suffix);
  }
  json r =
      Call("DescribeRoomInfo",
           json{{"SdkAppId", main_.sdkappid}, {"StartTime", 1699990000}, {"EndTime", 1699999000}}
               .dump());
  EXPECT_EQ(CodeOf(r), "ResourceNotFound") << last_body_;
  r = Call("DescribeUserInfo", json{{"SdkAppId", main_.sdkappid},
                                    {"CommId", "c"},
                                    {"StartTime", 1699990000},
                                    {"EndTime", 1699999000}}
                                   .dump());
  EXPECT_EQ(CodeOf(r), "ResourceNotFound") << last_body_;
}

TEST_F(RestApiTest, ErrorEnvelopeShape) {
  json r = Call("Nope", "{}");
  ASSERT_TRUE(r.contains("Error"));
  EXPECT_TRUE(r["Error"]["Code"].is_string());
  EXPECT_TRUE(r["Error"]["Message"].is_string());
  EXPECT_TRUE(r["RequestId"].is_string());
  EXPECT_EQ(last_headers_["cache-control"], "no-store");
}

TEST_F(RestApiTest, RequestMetricsLabelsAreBounded) {
  const std::string weird = "Dismiss\nRoom{evil=\"1\"}";
  EXPECT_EQ(CodeOf(Call(weird, "{}")), "InvalidAction");
  const std::string rendered = ops::Metrics::Global().Render();
  EXPECT_EQ(rendered.find("evil"), std::string::npos);
}

}  // namespace
}  // namespace aegis::api
