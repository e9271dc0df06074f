#include "api/params.h"

#include <gtest/gtest.h>

#include <string>

#include "api/actions.h"

namespace aegis::api {
namespace {

constexpr int64_t kNow = 1'700'000'000;

std::string Code(Action action, const std::string& body) {
  auto r = ValidateActionRequest(action, body, kNow);
  return r.ok() ? "ok" : r.status().code();
}

TEST(ParseJsonObjectTest, AcceptsObjectsAndEmptyBody) {
  EXPECT_TRUE(ParseJsonObject("{}").ok());
  EXPECT_TRUE(ParseJsonObject("  \n").ok());
  EXPECT_TRUE(ParseJsonObject("").ok());
  EXPECT_TRUE(ParseJsonObject(R"({"a":[1,{"b":null}]})").ok());
}

TEST(ParseJsonObjectTest, RejectsMalformedWithClearMessage) {
  for (const char* bad : {"{", "{\"a\":}", "[1]", "42", "\"s\"", "null", "{\"a\":1}x", "{'a':1}",
                          "{\"a\":1,}", "\xff\xfe", "{\"a\":\"\xc3\x28\"}"}) {
    auto r = ParseJsonObject(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), "InvalidParameter") << bad;
    EXPECT_FALSE(r.status().message().empty());
  }
  auto r = ParseJsonObject("{\"a\": tru}");
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(ParseJsonObject("[]").status().message().find("JSON object"), std::string::npos);
}

TEST(ParseJsonObjectTest, DepthCap) {
  std::string deep(10000, '[');
  deep = "{\"a\":" + deep;
  auto r = ParseJsonObject(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "InvalidParameter");
  EXPECT_NE(r.status().message().find("deeper"), std::string::npos);

  std::string ok =
      "{\"a\":" + std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']') + "}";
  EXPECT_TRUE(ParseJsonObject(ok).ok());
  std::string too_deep =
      "{\"a\":" + std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']') + "}";
  EXPECT_FALSE(ParseJsonObject(too_deep).ok());
}

TEST(ParseJsonObjectTest, RejectsDuplicateKeys) {
  auto r = ParseJsonObject(R"({"RoomId":1,"RoomId":2})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "InvalidParameter");
  EXPECT_NE(r.status().message().find("Duplicate member `RoomId`"), std::string::npos);
  EXPECT_FALSE(ParseJsonObject(R"({"a":{"x":1,"x":1}})").ok());
  EXPECT_TRUE(ParseJsonObject(R"({"a":{"x":1},"b":{"x":1}})").ok());
}

TEST(CharsetTest, Rules) {
  EXPECT_TRUE(MatchesCharset("user_1-A", Charset::kUserId));
  EXPECT_FALSE(MatchesCharset("user.1", Charset::kUserId));
  EXPECT_FALSE(MatchesCharset("us er", Charset::kUserId));
  EXPECT_TRUE(MatchesCharset("a b!#$%&()+-:;<=.>?@[]^_{}|~,", Charset::kStrRoomId));
  EXPECT_FALSE(MatchesCharset("a/b", Charset::kStrRoomId));
  EXPECT_FALSE(MatchesCharset("a\"b", Charset::kStrRoomId));
  EXPECT_FALSE(MatchesCharset("caf\xc3\xa9", Charset::kStrRoomId));
  EXPECT_FALSE(MatchesCharset(std::string("a\0b", 3), Charset::kStrRoomId));
}

TEST(ValidateActionRequestTest, DismissRoom) {
  auto r =
      ValidateActionRequest(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":1234})", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& d = std::get<DismissRoomRequest>(*r);
  EXPECT_EQ(d.room, RoomKey::Numeric(1400000001, 1234));

  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001})"), "MissingParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"RoomId":1})"), "MissingParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":"1234"})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":"1400000001","RoomId":1})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":1.5})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":true})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":null})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":[1]})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":0})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":-1})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":4294967295})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":4294967294})"), "ok");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":18446744073709551615})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":0,"RoomId":1})"), "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":4294967296,"RoomId":1})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"RoomId":1,"Extra":1})"),
            "UnknownParameter");
  EXPECT_EQ(Code(Action::kDismissRoom, R"({"SdkAppId":1400000001,"roomid":1})"), "UnknownParameter")
      << "names are case-sensitive; a wrong case is never silently ignored";
}

TEST(ValidateActionRequestTest, UnknownParameterMessageNeverEchoesOddNames) {
  auto r = ValidateActionRequest(Action::kDismissRoom, R"({"SdkAppId":1,"RoomId":1,"<script>":1})",
                                 kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "UnknownParameter");
  EXPECT_EQ(r.status().message().find("<script>"), std::string::npos);
  auto named = ValidateActionRequest(Action::kDismissRoom, R"({"SdkAppId":1,"RoomID":1})", kNow);
  EXPECT_NE(named.status().message().find("`RoomID`"), std::string::npos);
}

TEST(ValidateActionRequestTest, DismissRoomByStrRoomId) {
  auto r = ValidateActionRequest(Action::kDismissRoomByStrRoomId,
                                 R"({"SdkAppId":1400000001,"RoomId":"abc 1"})", kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<DismissRoomRequest>(*r).room, RoomKey::String(1400000001, "abc 1"));
  EXPECT_EQ(Code(Action::kDismissRoomByStrRoomId, R"({"SdkAppId":1400000001,"RoomId":1234})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kDismissRoomByStrRoomId, R"({"SdkAppId":1400000001,"RoomId":""})"),
            "InvalidParameterValue");
  const std::string max(64, 'r');
  EXPECT_EQ(
      Code(Action::kDismissRoomByStrRoomId, R"({"SdkAppId":1400000001,"RoomId":")" + max + "\"}"),
      "ok");
  EXPECT_EQ(
      Code(Action::kDismissRoomByStrRoomId, R"({"SdkAppId":1400000001,"RoomId":")" + max + "r\"}"),
      "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDismissRoomByStrRoomId, R"({"SdkAppId":1400000001,"RoomId":"a/b"})"),
            "InvalidParameterValue");
  EXPECT_EQ(
      Code(Action::kDismissRoomByStrRoomId, R"({"SdkAppId":1400000001,"RoomId":"caf\u00e9"})"),
      "InvalidParameterValue");
}

TEST(ValidateActionRequestTest, RemoveUser) {
  auto r = ValidateActionRequest(
      Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":["a","b","a"]})", kNow);
  ASSERT_TRUE(r.ok());
  const auto& req = std::get<RemoveUserRequest>(*r);
  EXPECT_EQ(req.room, RoomKey::Numeric(1400000001, 7));
  EXPECT_EQ(req.user_ids, (std::vector<std::string>{"a", "b"})) << "deduplicated, order kept";

  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7})"), "MissingParameter");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":[]})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":"a"})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":[1]})"),
            "InvalidParameter");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":[""]})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":[")" +
                                          std::string(33, 'u') + "\"]}"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":[")" +
                                          std::string(32, 'u') + "\"]}"),
            "ok");
  EXPECT_EQ(Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":["a.b"]})"),
            "InvalidParameterValue");
  std::string eleven = "[";
  for (int i = 0; i < 11; ++i) {
    eleven += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  }
  eleven += "]";
  EXPECT_EQ(
      Code(Action::kRemoveUser, R"({"SdkAppId":1400000001,"RoomId":7,"UserIds":)" + eleven + "}"),
      "InvalidParameterValue");
}

TEST(ValidateActionRequestTest, HugeArrayIsRejectedByCount) {
  std::string huge = "[";
  for (int i = 0; i < 100000; ++i) {
    huge += i ? ",\"u\"" : "\"u\"";
  }
  huge += "]";
  auto r =
      ValidateActionRequest(Action::kRemoveUserByStrRoomId,
                            R"({"SdkAppId":1400000001,"RoomId":"r","UserIds":)" + huge + "}", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "InvalidParameterValue");
  EXPECT_NE(r.status().message().find("1 to 10 items"), std::string::npos);
}

TEST(ValidateActionRequestTest, DescribeRoomInfo) {
  const std::string base = R"("SdkAppId":1400000001,"StartTime":1699990000,"EndTime":1699999000)";
  auto r = ValidateActionRequest(Action::kDescribeRoomInfo, "{" + base + "}", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& q = std::get<DescribeRoomInfoRequest>(*r);
  EXPECT_EQ(q.page_number, 0);
  EXPECT_EQ(q.page_size, 10);
  EXPECT_FALSE(q.room_id.has_value());

  auto paged =
      ValidateActionRequest(Action::kDescribeRoomInfo,
                            "{" + base + R"(,"PageNumber":2,"PageSize":50,"RoomId":"223"})", kNow);
  ASSERT_TRUE(paged.ok());
  EXPECT_EQ(std::get<DescribeRoomInfoRequest>(*paged).page_number, 2);
  EXPECT_EQ(std::get<DescribeRoomInfoRequest>(*paged).page_size, 50);
  EXPECT_EQ(*std::get<DescribeRoomInfoRequest>(*paged).room_id, "223");
  // Only one of the two: defaults (the convention).
  auto half =
      ValidateActionRequest(Action::kDescribeRoomInfo, "{" + base + R"(,"PageSize":50})", kNow);
  EXPECT_EQ(std::get<DescribeRoomInfoRequest>(*half).page_size, 10);

  EXPECT_EQ(Code(Action::kDescribeRoomInfo, "{" + base + R"(,"PageSize":101,"PageNumber":0})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDescribeRoomInfo, "{" + base + R"(,"PageSize":0,"PageNumber":0})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDescribeRoomInfo, "{" + base + R"(,"PageNumber":-1,"PageSize":1})"),
            "InvalidParameterValue");
  // Window rules.
  EXPECT_EQ(Code(Action::kDescribeRoomInfo,
                 R"({"SdkAppId":1400000001,"StartTime":1699999000,"EndTime":1699990000})"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDescribeRoomInfo,
                 R"({"SdkAppId":1400000001,"StartTime":1699900000,"EndTime":1699990000})"),
            "InvalidParameterValue")
      << "more than 24 h";
  EXPECT_EQ(Code(Action::kDescribeRoomInfo,
                 R"({"SdkAppId":1400000001,"StartTime":1698000000,"EndTime":1698001000})"),
            "InvalidParameterValue")
      << "older than 14 days";
  EXPECT_EQ(Code(Action::kDescribeRoomInfo, R"({"SdkAppId":1400000001,"StartTime":1699990000})"),
            "MissingParameter");
  EXPECT_EQ(Code(Action::kDescribeRoomInfo, "{" + base + R"(,"RoomId":""})"),
            "InvalidParameterValue");
}

TEST(ValidateActionRequestTest, DescribeUserInfo) {
  const std::string base =
      R"("SdkAppId":1400000001,"CommId":"1400000001_223_1699990000","StartTime":1699990000,"EndTime":1699999000)";
  auto r = ValidateActionRequest(Action::kDescribeUserInfo, "{" + base + "}", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& q = std::get<DescribeUserInfoRequest>(*r);
  EXPECT_EQ(q.page_size, 6);
  EXPECT_TRUE(q.user_ids.empty());
  EXPECT_EQ(
      Code(Action::kDescribeUserInfo,
           R"({"SdkAppId":1400000001,"CommId":"c","StartTime":1699980000,"EndTime":1699999000})"),
      "InvalidParameterValue")
      << "more than 4 h";
  EXPECT_EQ(Code(Action::kDescribeUserInfo, "{" + base + R"(,"UserIds":[]})"),
            "InvalidParameterValue");
  std::string many = "[";
  for (int i = 0; i < 101; ++i) {
    many += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  }
  many += "]";
  EXPECT_EQ(Code(Action::kDescribeUserInfo, "{" + base + R"(,"UserIds":)" + many + "}"),
            "InvalidParameterValue");
  EXPECT_EQ(Code(Action::kDescribeUserInfo, "{" + base + R"(,"UserIds":["alice"]})"), "ok");
  EXPECT_EQ(Code(Action::kDescribeUserInfo,
                 R"({"SdkAppId":1400000001,"StartTime":1699990000,"EndTime":1699999000})"),
            "MissingParameter");
}

TEST(ValidateActionRequestTest, ActionNames) {
  for (Action a : kAllActions) {
    EXPECT_EQ(ParseActionName(ActionName(a)), a);
  }
  EXPECT_FALSE(ParseActionName("dismissroom").has_value());
  EXPECT_FALSE(ParseActionName("").has_value());
  EXPECT_TRUE(IsWriteAction(Action::kRemoveUserByStrRoomId));
  EXPECT_FALSE(IsWriteAction(Action::kDescribeUserInfo));
}

}  // namespace
}  // namespace aegis::api
