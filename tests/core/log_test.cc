#include "core/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/mask.h"

namespace aegis {
namespace {

class LogCapture {
 public:
  LogCapture() {
    Logger::Global().SetSink([this](std::string_view line) { lines_.emplace_back(line); });
    Logger::Global().SetLevel(LogLevel::kDebug);
  }
  ~LogCapture() {
    Logger::Global().SetSink(nullptr);
    Logger::Global().SetLevel(LogLevel::kInfo);
  }
  std::string All() const {
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all;
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

// Secrets of every kind Aegis handles, generated for this test (not real).
const std::string kAppKey = "5b1e0f4d2c3a49e8b7f6a5d4c3b2a1908f7e6d5c4b3a29180f1e2d3c4b5a6978";
const std::string kSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const std::string kUserSig =
    "eJwtzEELgjAYxvHvsnPE3OZ0QocQOkRBUEcvMl-nS3NjzrSi754bHp-n9-I*UJZfg*e4oAgFDKO1yx0vD6s2mu";
const std::string kPassword = "correct horse battery staple 42";
const std::string kTc3Signature =
    "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c";

TEST(Logger, WritesOneJsonObjectPerLine) {
  LogCapture cap;
  LogInfo("test", "hello", {{"n", 3}});
  ASSERT_EQ(cap.lines().size(), 1u);
  const auto j = nlohmann::json::parse(cap.lines()[0]);
  EXPECT_EQ(j["msg"], "hello");
  EXPECT_EQ(j["component"], "test");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["n"], 3);
  EXPECT_TRUE(j["time"].get<std::string>().ends_with("Z"));
}

TEST(Logger, SecretsNeverReachTheSink) {
  LogCapture cap;
  // As named fields...
  LogInfo("auth", "request",
          {{"app_key", kAppKey},
           {"SecretKey", kSecretKey},
           {"userSig", kUserSig},
           {"password", kPassword},
           {"authorization", "TC3-HMAC-SHA256 Signature=" + kTc3Signature}});
  // ...inside free text and under innocent field names...
  LogWarn("api", "bad request with key " + kAppKey + " and sig " + kUserSig,
          {{"detail", "Signature=" + kTc3Signature + " secret " + kSecretKey},
           {"nested", {{"token", kPassword}, {"list", {kAppKey}}}}});
  const std::string all = cap.All();
  for (const std::string& secret : {kAppKey, kSecretKey, kUserSig, kPassword, kTc3Signature}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << "leaked: " << secret;
  }
  EXPECT_NE(all.find("[redacted]"), std::string::npos);
}

TEST(Logger, IdentifiersOfCredentialsStayReadable) {
  LogCapture cap;
  LogInfo("api", "auth failed",
          {{"SecretId", MaskCredentialId("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE")},
           {"user", MaskUserId("alice_example")},
           {"ip", MaskIp("10.1.2.3")}});
  const auto j = nlohmann::json::parse(cap.lines().at(0));
  EXPECT_EQ(j["SecretId"], "AKID***LE");
  EXPECT_EQ(j["user"], "al***le");
  EXPECT_EQ(j["ip"], "10.1.*.*");
}

TEST(Logger, ControlCharactersCannotSplitRecords) {
  LogCapture cap;
  LogInfo("signal", "user agent", {{"ua", "evil\r\n{\"level\":\"error\"}\x1b[31m"}});
  ASSERT_EQ(cap.lines().size(), 1u);
  EXPECT_EQ(cap.lines()[0].find('\n'), std::string::npos);
  EXPECT_EQ(cap.lines()[0].find('\x1b'), std::string::npos);
}

TEST(Logger, InvalidUtf8DoesNotThrow) {
  LogCapture cap;
  LogInfo("x", std::string("bad \xff\xfe bytes"));
  EXPECT_EQ(cap.lines().size(), 1u);
}

TEST(Logger, LevelFilters) {
  LogCapture cap;
  Logger::Global().SetLevel(LogLevel::kWarn);
  LogInfo("x", "dropped");
  LogError("x", "kept");
  ASSERT_EQ(cap.lines().size(), 1u);
  EXPECT_NE(cap.lines()[0].find("kept"), std::string::npos);
}

TEST(ParseLogLevel, AcceptsKnownNames) {
  LogLevel l = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("DEBUG", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("warn", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace aegis
