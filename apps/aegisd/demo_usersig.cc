#include "demo_usersig.h"

#include <nlohmann/json.hpp>
#include <string>

#include "auth/usersig.h"
#include "core/log.h"

namespace aegis::aegisd {
namespace {

net::HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  net::HttpResponse res;
  res.status = status;
  res.headers["content-type"] = "application/json";
  res.headers["cache-control"] = "no-store";
  res.body = body.dump();
  return res;
}

net::HttpResponse Error(int status, const char* code, const char* message) {
  return JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
}

// The value of `name` in a query string, without percent-decoding: user ids
// are [A-Za-z0-9_-] only, so anything encoded is invalid anyway.
std::string QueryValue(const std::string& query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    const size_t end = std::min(query.find('&', pos), query.size());
    const std::string_view part(query.data() + pos, end - pos);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace

std::function<net::HttpResponse(const net::HttpRequest&)> MakeDemoUserSigHandler(
    store::ControlStore& store) {
  return [&store](const net::HttpRequest& request) {
    const std::string user_id = QueryValue(request.query, "userId");
    if (!auth::IsValidUserId(user_id)) {
      return Error(400, "invalid_field", "userId must be 1 to 32 characters of [A-Za-z0-9_-].");
    }
    // The demo application: the "demo" app of the "demo" account (bootstrap.h).
    auto apps = store.ListApplications(std::nullopt);
    if (!apps.ok()) return Error(500, "internal", "The store is not available.");
    uint32_t sdkappid = 0;
    for (const store::Application& app : *apps) {
      if (app.name == "demo" && app.status == "enabled") sdkappid = app.sdkappid;
    }
    if (sdkappid == 0) return Error(404, "not_found", "There is no demo application.");
    auto keys = store.VerifyingAppKeys(sdkappid);
    if (!keys.ok() || keys->empty()) return Error(500, "internal", "No application key.");
    auth::UserSigGenParams params;
    params.sdkappid = sdkappid;
    params.key = keys->front().key;  // newest active key (ORDER BY key_id DESC)
    params.user_id = user_id;
    params.expire = kDemoUserSigExpireS;
    auto sig = auth::GenUserSig(params);
    if (!sig.ok()) return Error(500, "internal", "Could not create a UserSig.");
    LogInfo("demo", "demo UserSig issued", {{"sdkappid", sdkappid}});
    return JsonResponse(200, {{"sdkAppId", sdkappid},
                              {"userId", user_id},
                              {"userSig", *sig},
                              {"expireSeconds", kDemoUserSigExpireS}});
  };
}

}  // namespace aegis::aegisd
