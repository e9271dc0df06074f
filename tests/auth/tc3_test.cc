#include "auth/tc3.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace aegis::auth {
namespace {

using nlohmann::json;

const std::vector<std::string> kSignedHeaders = {"content-type", "host"};
constexpr char kSecretId[] = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
constexpr char kSecretKey[] = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
constexpr int64_t kTs = 1763805600;  // 2025-11-22T10:00:00Z

Tc3Request MakeRequest(const std::string& host, const std::string& body) {
  Tc3Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"content-type", "application/json"},
               {"host", host},
               {"x-tc-action", "DismissRoom"},
               {"x-tc-timestamp", std::to_string(kTs)}};
  r.body = body;
  return r;
}

// ---- known answers from the official Node SDK ----

class SdkVectors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    doc_ = testing::RunNodeScript("gen_tc3_vector.js", "", &error);
    error_ = error;
  }
  void SetUp() override {
    // Fail, never skip: a missing node or SDK package is a broken test setup.
    ASSERT_FALSE(doc_.is_discarded()) << error_;
    ASSERT_EQ(doc_["vectors"].size(), 3u);
  }
  static Tc3Request RequestFor(const json& v) {
    Tc3Request r;
    r.method = v["method"].get<std::string>();
    r.path = "/";
    r.query = v["query"].get<std::string>();
    r.headers = {{"content-type", v["content_type"].get<std::string>()},
                 {"host", v["host"].get<std::string>()}};
    r.body = v["body"].get<std::string>();
    return r;
  }
  static json doc_;
  static std::string error_;
};
json SdkVectors::doc_;
std::string SdkVectors::error_;

TEST_F(SdkVectors, ParseAndVerifyEveryVector) {
  const int64_t ts = doc_["timestamp"].get<int64_t>();
  const std::string secret_key = doc_["secret_key"].get<std::string>();
  for (const json& v : doc_["vectors"]) {
    const std::string name = v["name"].get<std::string>();
    Result<Tc3Authorization> auth = ParseTc3Authorization(v["authorization"].get<std::string>());
    ASSERT_TRUE(auth.ok()) << name << ": " << auth.status().ToString();
    EXPECT_EQ(auth->secret_id, doc_["secret_id"].get<std::string>());
    EXPECT_EQ(auth->date, "2025-11-22");
    EXPECT_EQ(auth->service, v["service"].get<std::string>());
    EXPECT_EQ(auth->signed_headers, kSignedHeaders);
    Status s = VerifyTc3(RequestFor(v), *auth, secret_key, ts, ts + 1, 300);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
}

TEST_F(SdkVectors, Tc3SignMatchesTheSdk) {
  const int64_t ts = doc_["timestamp"].get<int64_t>();
  for (const json& v : doc_["vectors"]) {
    Tc3Request r = RequestFor(v);
    // The SDK signs the URL hostname: no port.
    if (v["name"] == "port_quirk") {
      r.headers["host"] = "127.0.0.1";
    }
    const std::string header = Tc3AuthorizationHeader(
        r, kSignedHeaders, doc_["secret_id"].get<std::string>(),
        doc_["secret_key"].get<std::string>(), ts, v["service"].get<std::string>());
    EXPECT_EQ(header, v["authorization"].get<std::string>()) << v["name"];
  }
}

TEST_F(SdkVectors, PortQuirkNeedsTheRetryWithoutPort) {
  const json& v = doc_["vectors"][0];
  ASSERT_EQ(v["name"], "port_quirk");
  ASSERT_EQ(v["host"], "127.0.0.1:8443");
  Result<Tc3Authorization> auth = ParseTc3Authorization(v["authorization"].get<std::string>());
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->service, "127");
  const Tc3Request r = RequestFor(v);
  // Signing with the host exactly as sent gives a different signature...
  EXPECT_NE(Tc3Sign(r, kSignedHeaders, kSecretKey, kTs, "2025-11-22", "127"), auth->signature);
  // ...yet verification succeeds thanks to the port-stripped retry.
  EXPECT_TRUE(VerifyTc3(r, *auth, kSecretKey, kTs, kTs, 300).ok());
  // Another port is not "the same host" once signed without port either way,
  // but a different host name is.
  Tc3Request other_host = r;
  other_host.headers["host"] = "127.0.0.2:8443";
  EXPECT_EQ(VerifyTc3(other_host, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");
}

TEST_F(SdkVectors, TamperedRequestsFail) {
  const json& v = doc_["vectors"][1];
  Result<Tc3Authorization> auth = ParseTc3Authorization(v["authorization"].get<std::string>());
  ASSERT_TRUE(auth.ok());
  const Tc3Request good = RequestFor(v);
  ASSERT_TRUE(VerifyTc3(good, *auth, kSecretKey, kTs, kTs, 300).ok());

  Tc3Request body = good;
  body.body[body.body.size() - 3] ^= 1;
  EXPECT_EQ(VerifyTc3(body, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Request content_type = good;
  content_type.headers["content-type"] = "text/plain";
  EXPECT_EQ(VerifyTc3(content_type, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Request host = good;
  host.headers["host"] = "evil.example.com";
  EXPECT_EQ(VerifyTc3(host, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Request method = good;
  method.method = "GET";
  EXPECT_EQ(VerifyTc3(method, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Request query = good;
  query.query = "a=b";
  EXPECT_EQ(VerifyTc3(query, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  EXPECT_EQ(VerifyTc3(good, *auth, "wrong-secret", kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  // Same signature claimed for another timestamp on the same day.
  EXPECT_EQ(VerifyTc3(good, *auth, kSecretKey, kTs + 1, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Authorization other_service = *auth;
  other_service.service = "cvm";
  EXPECT_EQ(VerifyTc3(good, other_service, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Authorization flipped = *auth;
  flipped.signature[10] = flipped.signature[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(VerifyTc3(good, flipped, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");

  Tc3Request missing = good;
  missing.headers.erase("content-type");
  EXPECT_EQ(VerifyTc3(missing, *auth, kSecretKey, kTs, kTs, 300).code(), "MissingParameter");
}

// ---- our own signer/verifier ----

TEST(Tc3, TimestampWindow) {
  const Tc3Request r = MakeRequest("trtc.example.com", "{}");
  const std::string header =
      Tc3AuthorizationHeader(r, kSignedHeaders, kSecretId, kSecretKey, kTs, "trtc");
  Result<Tc3Authorization> auth = ParseTc3Authorization(header);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_TRUE(VerifyTc3(r, *auth, kSecretKey, kTs, kTs + 300, 300).ok());
  EXPECT_TRUE(VerifyTc3(r, *auth, kSecretKey, kTs, kTs - 300, 300).ok());
  EXPECT_EQ(VerifyTc3(r, *auth, kSecretKey, kTs, kTs + 301, 300).code(),
            "AuthFailure.SignatureExpire");
  EXPECT_EQ(VerifyTc3(r, *auth, kSecretKey, kTs, kTs - 301, 300).code(),
            "AuthFailure.SignatureExpire");
  EXPECT_EQ(VerifyTc3(r, *auth, kSecretKey, INT64_MIN, INT64_MAX, 300).code(),
            "AuthFailure.SignatureExpire");
}

TEST(Tc3, ScopeDateMustMatchTimestamp) {
  const Tc3Request r = MakeRequest("trtc.example.com", "{}");
  Result<Tc3Authorization> auth = ParseTc3Authorization(
      Tc3AuthorizationHeader(r, kSignedHeaders, kSecretId, kSecretKey, kTs, "trtc"));
  ASSERT_TRUE(auth.ok());
  Tc3Authorization other_day = *auth;
  other_day.date = "2025-11-21";
  EXPECT_EQ(VerifyTc3(r, other_day, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");
  // A signature made the previous day (just before midnight) and checked
  // just after midnight keeps its own scope date and still verifies.
  const int64_t midnight = 1763769600;  // 2025-11-22T00:00:00Z
  Result<Tc3Authorization> late = ParseTc3Authorization(
      Tc3AuthorizationHeader(r, kSignedHeaders, kSecretId, kSecretKey, midnight - 1, "trtc"));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->date, "2025-11-21");
  EXPECT_TRUE(VerifyTc3(r, *late, kSecretKey, midnight - 1, midnight + 10, 300).ok());
}

TEST(Tc3, LowercasedHeaderValuesAlsoAccepted) {
  // The API docs lowercase header values; the SDKs do not.
  Tc3Request sent = MakeRequest("Trtc.Example.com", "{}");
  sent.headers["content-type"] = "Application/JSON";
  Tc3Request docs_form = sent;
  docs_form.headers["content-type"] = "application/json";
  docs_form.headers["host"] = "trtc.example.com";
  Result<Tc3Authorization> auth = ParseTc3Authorization(
      Tc3AuthorizationHeader(docs_form, kSignedHeaders, kSecretId, kSecretKey, kTs, "trtc"));
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(VerifyTc3(sent, *auth, kSecretKey, kTs, kTs, 300).ok());
}

TEST(Tc3, IPv6HostPortQuirk) {
  Tc3Request signed_form = MakeRequest("[::1]", "{}");
  Tc3Request sent = MakeRequest("[::1]:8443", "{}");
  Result<Tc3Authorization> auth = ParseTc3Authorization(Tc3AuthorizationHeader(
      signed_form, kSignedHeaders, kSecretId, kSecretKey, kTs, "[::1]:8443"));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_TRUE(VerifyTc3(sent, *auth, kSecretKey, kTs, kTs, 300).ok());
}

TEST(Tc3, ExtraSignedHeaders) {
  const Tc3Request r = MakeRequest("trtc.example.com", "{\"a\":1}");
  const std::vector<std::string> names = {"content-type", "host", "x-tc-action"};
  Result<Tc3Authorization> auth =
      ParseTc3Authorization(Tc3AuthorizationHeader(r, names, kSecretId, kSecretKey, kTs, "trtc"));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_TRUE(VerifyTc3(r, *auth, kSecretKey, kTs, kTs, 300).ok());
  Tc3Request other_action = r;
  other_action.headers["x-tc-action"] = "CreateRoom";
  EXPECT_EQ(VerifyTc3(other_action, *auth, kSecretKey, kTs, kTs, 300).code(),
            "AuthFailure.SignatureFailure");
}

TEST(Tc3, DateFormatting) {
  EXPECT_EQ(Tc3Date(0), "1970-01-01");
  EXPECT_EQ(Tc3Date(kTs), "2025-11-22");
  EXPECT_EQ(Tc3Date(951782400), "2000-02-29");
  EXPECT_EQ(Tc3Date(1767225599), "2025-12-31");
  EXPECT_EQ(Tc3Date(1767225600), "2026-01-01");
  EXPECT_EQ(Tc3Date(-1), "1969-12-31");
}

// ---- header parser ----

TEST(ParseTc3Authorization, AcceptsSdkShape) {
  const std::string sig(64, 'a');
  Result<Tc3Authorization> a = ParseTc3Authorization(
      "TC3-HMAC-SHA256 Credential=AKIDx/2026-11-22/trtc/tc3_request, "
      "SignedHeaders=content-type;host, Signature=" +
      sig);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->secret_id, "AKIDx");
  EXPECT_EQ(a->date, "2026-11-22");
  EXPECT_EQ(a->service, "trtc");
  EXPECT_EQ(a->signature, sig);
  // Without spaces after the commas, and components in another order.
  EXPECT_TRUE(ParseTc3Authorization("TC3-HMAC-SHA256 Signature=" + sig +
                                    ",SignedHeaders=content-type;host,"
                                    "Credential=AKIDx/2026-11-22/trtc/tc3_request")
                  .ok());
  // The canonical request needs the names sorted; an unsorted list is refused.
  Result<Tc3Authorization> unsorted = ParseTc3Authorization(
      "TC3-HMAC-SHA256 Credential=AKIDx/2026-11-22/trtc/tc3_request, "
      "SignedHeaders=host;content-type, Signature=" +
      sig);
  ASSERT_FALSE(unsorted.ok());
  EXPECT_EQ(unsorted.status().code(), "AuthFailure.InvalidAuthorization");
  EXPECT_NE(unsorted.status().message().find("sorted"), std::string::npos);
}

TEST(ParseTc3Authorization, RejectsMalformed) {
  const std::string sig(64, '0');
  const std::string cred = "Credential=AKIDx/2026-11-22/trtc/tc3_request";
  const std::string sh = "SignedHeaders=content-type;host";
  auto h = [&](const std::string& c, const std::string& s, const std::string& g) {
    return "TC3-HMAC-SHA256 " + c + ", " + s + ", Signature=" + g;
  };
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"other algorithm", "HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig},
      {"lowercase algorithm", "tc3-hmac-sha256 " + cred + ", " + sh + ", Signature=" + sig},
      {"no space", "TC3-HMAC-SHA256" + cred + ", " + sh + ", Signature=" + sig},
      {"only algorithm", "TC3-HMAC-SHA256 "},
      {"missing signature", "TC3-HMAC-SHA256 " + cred + ", " + sh},
      {"duplicate component", "TC3-HMAC-SHA256 " + cred + ", " + cred + ", Signature=" + sig},
      {"unknown component", "TC3-HMAC-SHA256 " + cred + ", Foo=bar, Signature=" + sig},
      {"four components", h(cred, sh, sig) + ", Foo=bar"},
      {"no equals", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders, Signature=" + sig},
      {"empty value", h("Credential=", sh, sig)},
      {"short scope", h("Credential=AKIDx/2026-11-22/tc3_request", sh, sig)},
      {"long scope", h("Credential=AKIDx/2026-11-22/trtc/x/tc3_request", sh, sig)},
      {"bad terminator", h("Credential=AKIDx/2026-11-22/trtc/tc4_request", sh, sig)},
      {"empty secret id", h("Credential=/2026-11-22/trtc/tc3_request", sh, sig)},
      {"secret id charset", h("Credential=AK ID/2026-11-22/trtc/tc3_request", sh, sig)},
      {"secret id too long",
       h("Credential=" + std::string(129, 'A') + "/2026-11-22/trtc/tc3_request", sh, sig)},
      {"date format", h("Credential=AKIDx/20261122/trtc/tc3_request", sh, sig)},
      {"date letters", h("Credential=AKIDx/2026-1a-22/trtc/tc3_request", sh, sig)},
      {"month 13", h("Credential=AKIDx/2026-13-22/trtc/tc3_request", sh, sig)},
      {"day 0", h("Credential=AKIDx/2026-11-00/trtc/tc3_request", sh, sig)},
      {"empty service", h("Credential=AKIDx/2026-11-22//tc3_request", sh, sig)},
      {"service charset", h("Credential=AKIDx/2026-11-22/tr tc/tc3_request", sh, sig)},
      {"no host signed", h(cred, "SignedHeaders=content-type", sig)},
      {"no content-type signed", h(cred, "SignedHeaders=host", sig)},
      {"uppercase header", h(cred, "SignedHeaders=Content-Type;host", sig)},
      {"empty header name", h(cred, "SignedHeaders=content-type;;host", sig)},
      {"duplicate header", h(cred, "SignedHeaders=content-type;host;host", sig)},
      {"header charset", h(cred, "SignedHeaders=content-type;host;x:y", sig)},
      {"short signature", h(cred, sh, std::string(63, '0'))},
      {"long signature", h(cred, sh, std::string(65, '0'))},
      {"uppercase hex", h(cred, sh, std::string(64, 'A'))},
      {"non hex", h(cred, sh, std::string(64, 'g'))},
      {"too long", h(cred, sh, sig) + std::string(3000, ' ')},
  };
  for (const auto& [name, header] : cases) {
    EXPECT_EQ(ParseTc3Authorization(header).status().code(), "AuthFailure.InvalidAuthorization")
        << name;
  }
  std::string many = "SignedHeaders=content-type;host";
  for (int i = 0; i < 20; ++i) {
    many += ";x-h" + std::to_string(i);
  }
  EXPECT_EQ(ParseTc3Authorization(h(cred, many, sig)).status().code(),
            "AuthFailure.InvalidAuthorization");
}

}  // namespace
}  // namespace aegis::auth
