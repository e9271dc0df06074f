// libFuzzer target for the TC3-HMAC-SHA256 Authorization header parser and
// verifier (untrusted REST client input). The input is split at the first
// newline: header, then request body; headers and timestamps are fixed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/tc3.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view header = input.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : input.substr(nl + 1);

  aegis::Result<aegis::auth::Tc3Authorization> auth = aegis::auth::ParseTc3Authorization(header);
  if (!auth.ok()) {
    return 0;
  }
  if (auth->signature.size() != 64 || auth->signed_headers.empty()) {
    std::abort();  // the parser promised these
  }
  aegis::auth::Tc3Request request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"content-type", "application/json"},
                     {"host", body.size() % 2 == 0 ? "127.0.0.1:8443" : "[::1]:8443"}};
  request.body = std::string(body);
  for (const std::string& name : auth->signed_headers) {
    request.headers.emplace(name, "v");
  }
  constexpr int64_t kNow = 1763805600;
  (void)aegis::auth::VerifyTc3(request, *auth, "secret", kNow, kNow + 10, 300);
  (void)aegis::auth::VerifyTc3(request, *auth, "secret", INT64_MAX, INT64_MIN, 300);
  return 0;
}
