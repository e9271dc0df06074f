// GET /demo/usersig?userId=<id> — demo mode only (demo.enabled): mints a
// short-lived UserSig for the demo application so a first-time user of the
// demo page can just press Join. Never enabled in production configs. The
// ticket is returned once and never logged. Borrows the store.
#pragma once

#include <functional>

#include "net/http_types.h"
#include "store/store.h"

namespace aegis::aegisd {

inline constexpr int64_t kDemoUserSigExpireS = 3600;

std::function<net::HttpResponse(const net::HttpRequest&)> MakeDemoUserSigHandler(
    store::ControlStore& store);

}  // namespace aegis::aegisd
