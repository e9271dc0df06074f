// Signalling codec: every request type decodes to the right struct, a table
// of malformed inputs each yields its stable code, encoders produce compact
// JSON that parses back, and client messages round-trip.
#include "signal/messages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace aegis::signal {
namespace {

using json = nlohmann::json;

const char* kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

template <typename T>
T DecodeAs(const std::string& text) {
  Result<ClientMessage> r = DecodeClientMessage(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " for " << text;
  if (!r.ok() || !std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "wrong alternative for " << text;
    return T{};
  }
  return std::get<T>(*r);
}

std::string Msg(const json& j) { return j.dump(); }

TEST(SignalDecode, JoinNumericRoom) {
  auto m = DecodeAs<JoinRequest>(Msg({{"type", "join"},
                                      {"id", 1},
                                      {"sdkAppId", 1400000001},
                                      {"userId", "alice_01"},
                                      {"userSig", "eJyrVkrOz*abc-_"},
                                      {"roomId", 1234},
                                      {"role", "anchor"}}));
  EXPECT_EQ(m.id, RequestId(int64_t{1}));
  EXPECT_EQ(m.sdk_app_id, 1400000001U);
  EXPECT_EQ(m.user_id, "alice_01");
  EXPECT_EQ(m.user_sig, "eJyrVkrOz*abc-_");
  EXPECT_EQ(m.room_id, 1234U);
  EXPECT_TRUE(m.str_room_id.empty());
  EXPECT_EQ(m.role, Role::kAnchor);
  EXPECT_FALSE(m.private_map_key.has_value());
  EXPECT_FALSE(m.e2ee);  // absent: a plain client
}

TEST(SignalDecode, JoinStringRoomWithOptionals) {
  auto m = DecodeAs<JoinRequest>(Msg({{"type", "join"},
                                      {"id", "req-1"},
                                      {"sdkAppId", 4294967295U},
                                      {"userId", "b"},
                                      {"userSig", "sig"},
                                      {"strRoomId", "Room [1] {a|b} ~x, y"},
                                      {"role", "audience"},
                                      {"privateMapKey", "pmk"},
                                      {"sdkVersion", "aegis-web 0.1.0"},
                                      {"os", "Linux x86_64"},
                                      {"e2ee", true}}));
  EXPECT_EQ(m.id, RequestId(std::string("req-1")));
  EXPECT_TRUE(m.e2ee);
  EXPECT_EQ(m.sdk_app_id, 4294967295U);
  EXPECT_EQ(m.room_id, 0U);
  EXPECT_EQ(m.str_room_id, "Room [1] {a|b} ~x, y");
  EXPECT_EQ(m.role, Role::kAudience);
  EXPECT_EQ(m.private_map_key, "pmk");
  EXPECT_EQ(m.sdk_version, "aegis-web 0.1.0");
  EXPECT_EQ(m.os, "Linux x86_64");
}

TEST(SignalDecode, RoomIdBounds) {
  json base = {{"type", "join"}, {"id", 1},        {"sdkAppId", 1},
               {"userId", "u"},  {"userSig", "s"}, {"role", "anchor"}};
  json lo = base;
  lo["roomId"] = 1;
  EXPECT_EQ(DecodeAs<JoinRequest>(Msg(lo)).room_id, 1U);
  json hi = base;
  hi["roomId"] = 4294967294U;
  EXPECT_EQ(DecodeAs<JoinRequest>(Msg(hi)).room_id, 4294967294U);
  json s = base;
  s["strRoomId"] = std::string(64, 'r');
  EXPECT_EQ(DecodeAs<JoinRequest>(Msg(s)).str_room_id, std::string(64, 'r'));
  json u = base;
  u["roomId"] = 7;
  u["userId"] = std::string(32, 'u');
  EXPECT_EQ(DecodeAs<JoinRequest>(Msg(u)).user_id, std::string(32, 'u'));
}

TEST(SignalDecode, LeaveAndHeartbeat) {
  EXPECT_EQ(DecodeAs<LeaveRequest>(R"({"type":"leave","id":2})").id, RequestId(int64_t{2}));
  EXPECT_EQ(DecodeAs<HeartbeatRequest>(R"({"id":2147483648,"type":"heartbeat"})").id,
            RequestId(int64_t{2147483648}));
}

TEST(SignalDecode, Publish) {
  auto m = DecodeAs<PublishRequest>(
      Msg({{"type", "publish"},
           {"id", 3},
           {"sdp", kOffer},
           {"tracks",
            {{{"trackId", "mic-1"}, {"kind", "audio"}, {"source", "microphone"}, {"muted", true}},
             {{"trackId", "cam_1"}, {"kind", "video"}, {"source", "camera"}},
             {{"trackId", "scr"}, {"kind", "video"}, {"source", "screen"}, {"muted", false}}}}}));
  EXPECT_EQ(m.sdp, kOffer);
  ASSERT_EQ(m.tracks.size(), 3U);
  EXPECT_EQ(m.tracks[0], (TrackInfo{"mic-1", TrackKind::kAudio, TrackSource::kMicrophone, true}));
  EXPECT_EQ(m.tracks[1], (TrackInfo{"cam_1", TrackKind::kVideo, TrackSource::kCamera, false}));
  EXPECT_EQ(m.tracks[2], (TrackInfo{"scr", TrackKind::kVideo, TrackSource::kScreen, false}));
}

// No tracks: a data-only publish connection (room messages).
TEST(SignalDecode, PublishWithoutTracks) {
  auto m = DecodeAs<PublishRequest>(
      Msg({{"type", "publish"}, {"id", 3}, {"sdp", kOffer}, {"tracks", json::array()}}));
  EXPECT_EQ(m.sdp, kOffer);
  EXPECT_TRUE(m.tracks.empty());
}

TEST(SignalDecode, VolumeAndActiveSpeakerEvents) {
  EXPECT_EQ(EncodeEvent(VolumeEvent{{{"alice", 80}, {"bob", 31}}}),
            R"({"type":"volume","volumes":[{"userId":"alice","volume":80},)"
            R"({"userId":"bob","volume":31}]})");
  EXPECT_EQ(EncodeEvent(ActiveSpeakerEvent{"alice"}),
            R"({"type":"active-speaker","userId":"alice"})");
}

TEST(SignalDecode, Unpublish) {
  auto m = DecodeAs<UnpublishRequest>(R"({"type":"unpublish","id":4,"trackIds":["a","b-2"]})");
  EXPECT_EQ(m.track_ids, (std::vector<std::string>{"a", "b-2"}));
}

TEST(SignalDecode, Subscribe) {
  auto m = DecodeAs<SubscribeRequest>(
      Msg({{"type", "subscribe"}, {"id", 5}, {"offerId", 9}, {"sdp", kOffer}}));
  EXPECT_EQ(m.offer_id, 9);
  EXPECT_EQ(m.sdp, kOffer);
}

TEST(SignalDecode, Mute) {
  auto m = DecodeAs<MuteRequest>(R"({"type":"mute","id":6,"trackId":"cam","muted":true})");
  EXPECT_EQ(m.track_id, "cam");
  EXPECT_TRUE(m.muted);
}

TEST(SignalDecode, VideoControls) {
  auto q = DecodeAs<SetVideoQualityRequest>(
      R"({"type":"set-video-quality","id":1,"userId":"alice","quality":"high"})");
  EXPECT_EQ(q.user_id, "alice");
  EXPECT_EQ(q.quality, VideoQuality::kHigh);
  EXPECT_EQ(q.source, TrackSource::kCamera);
  auto p = DecodeAs<PauseVideoRequest>(
      R"({"type":"pause-video","id":2,"userId":"bob","paused":true,"source":"screen"})");
  EXPECT_EQ(p.user_id, "bob");
  EXPECT_TRUE(p.paused);
  EXPECT_EQ(p.source, TrackSource::kScreen);
  for (const char* bad : {
           R"({"type":"set-video-quality","id":1,"userId":"alice","quality":"best"})",
           R"({"type":"set-video-quality","id":1,"userId":"a b","quality":"low"})",
           R"({"type":"set-video-quality","id":1,"userId":"alice"})",
           R"({"type":"set-video-quality","id":1,"userId":"alice","quality":"low","x":1})",
           R"({"type":"pause-video","id":1,"userId":"alice","paused":"yes"})",
           R"({"type":"pause-video","id":1,"userId":"alice","paused":true,"source":"microphone"})",
       }) {
    EXPECT_FALSE(DecodeClientMessage(bad).ok()) << bad;
  }
}

TEST(SignalDecode, IceCandidate) {
  auto m = DecodeAs<IceCandidateRequest>(
      Msg({{"type", "ice-candidate"},
           {"id", 7},
           {"pc", "subscribe"},
           {"candidate", "candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host"},
           {"sdpMid", "0"},
           {"sdpMLineIndex", 0}}));
  EXPECT_EQ(m.pc, PcKind::kSubscribe);
  EXPECT_EQ(m.candidate, "candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host");
  EXPECT_EQ(m.sdp_mid, "0");
  EXPECT_EQ(m.sdp_mline_index, 0);
  auto end = DecodeAs<IceCandidateRequest>(
      R"({"type":"ice-candidate","id":8,"pc":"publish","candidate":""})");
  EXPECT_EQ(end.pc, PcKind::kPublish);
  EXPECT_TRUE(end.candidate.empty());
  EXPECT_FALSE(end.sdp_mid.has_value());
}

TEST(SignalDecode, Resume) {
  auto m = DecodeAs<ResumeRequest>(
      R"({"type":"resume","id":"r","sessionToken":"abcdefghijklmnop_-123"})");
  EXPECT_EQ(m.session_token, "abcdefghijklmnop_-123");
}

TEST(SignalDecode, SwitchRole) {
  EXPECT_EQ(DecodeAs<SwitchRoleRequest>(R"({"type":"switch-role","id":1,"role":"audience"})").role,
            Role::kAudience);
  EXPECT_EQ(DecodeAs<SwitchRoleRequest>(R"({"type":"switch-role","id":2,"role":"anchor"})").role,
            Role::kAnchor);
}

TEST(SignalDecode, ErrorIdIsReportedWhenValid) {
  std::optional<RequestId> id;
  auto r = DecodeClientMessage(R"({"type":"nope","id":42})", &id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "unknown_type");
  EXPECT_EQ(id, RequestId(int64_t{42}));
  r = DecodeClientMessage(R"({"type":"nope","id":0})", &id);
  EXPECT_FALSE(id.has_value());
  r = DecodeClientMessage("garbage", &id);
  EXPECT_FALSE(id.has_value());
}

struct BadCase {
  const char* name;
  std::string text;
  const char* code;
};

std::string JoinWith(const char* key, const json& value) {
  json j = {{"type", "join"}, {"id", 1},        {"sdkAppId", 1400000001}, {"userId", "alice"},
            {"userSig", "s"}, {"roomId", 1234}, {"role", "anchor"}};
  if (value.is_discarded()) {
    j.erase(key);
  } else {
    j[key] = value;
  }
  return j.dump();
}

std::string StrJoin(const json& str_room_id) {
  json j = json::parse(JoinWith("roomId", json(json::value_t::discarded)));
  j["strRoomId"] = str_room_id;
  return j.dump();
}

std::string Nested(int depth) {
  std::string s = R"({"type":"heartbeat","id":1,"x":)";
  for (int i = 0; i < depth; ++i) {
    s += "[";
  }
  for (int i = 0; i < depth; ++i) {
    s += "]";
  }
  return s + "}";
}

std::vector<BadCase> BadCases() {
  const json discard = json(json::value_t::discarded);
  std::string big = R"({"type":"heartbeat","id":1,"pad":")" + std::string(1 << 20, 'a') + "\"}";
  std::string big_sdp =
      json{{"type", "subscribe"}, {"id", 1}, {"offerId", 1}, {"sdp", std::string(32769, 'a')}}
          .dump();
  json track = {{"trackId", "t"}, {"kind", "audio"}, {"source", "microphone"}};
  json many_tracks = json::array();
  for (int i = 0; i < 17; ++i) {
    json t = track;
    t["trackId"] = "t" + std::to_string(i);
    many_tracks.push_back(t);
  }
  auto publish = [&](const json& tracks) {
    return json{{"type", "publish"}, {"id", 1}, {"sdp", kOffer}, {"tracks", tracks}}.dump();
  };
  json track_extra = track;
  track_extra["rid"] = "h";
  json track_bad_source = track;
  track_bad_source["source"] = "camera";
  json track_bad_id = track;
  track_bad_id["trackId"] = "a b";
  return {
      {"not json", "hello", "bad_message"},
      {"empty", "", "bad_message"},
      {"truncated", R"({"type":"leave","id":1)", "bad_message"},
      {"array at top", R"([{"type":"leave","id":1}])", "bad_message"},
      {"string at top", R"("leave")", "bad_message"},
      {"invalid utf8", "{\"type\":\"leave\",\"id\":\"\xff\"}", "bad_message"},
      {"missing type", R"({"id":1})", "missing_field"},
      {"missing id", R"({"type":"leave"})", "missing_field"},
      {"type not string", R"({"type":5,"id":1})", "invalid_field"},
      {"unknown type", R"({"type":"explode","id":1})", "unknown_type"},
      {"unknown field", R"({"type":"leave","id":1,"force":true})", "bad_message"},
      {"unknown field in join", JoinWith("admin", true), "bad_message"},
      {"duplicate keys", R"({"type":"leave","id":1,"id":2})", "bad_message"},
      {"duplicate nested keys", publish(json::array()).replace(0, 1, "{\"x\":{\"a\":1,\"a\":1},"),
       "bad_message"},
      {"id 0", R"({"type":"leave","id":0})", "invalid_field"},
      {"id negative", R"({"type":"leave","id":-1})", "invalid_field"},
      {"id too big", R"({"type":"leave","id":2147483649})", "invalid_field"},
      {"id huge", R"({"type":"leave","id":1e30})", "invalid_field"},
      {"id float", R"({"type":"leave","id":1.5})", "invalid_field"},
      {"id bool", R"({"type":"leave","id":true})", "invalid_field"},
      {"id null", R"({"type":"leave","id":null})", "invalid_field"},
      {"id empty string", R"({"type":"leave","id":""})", "invalid_field"},
      {"id string 65", json{{"type", "leave"}, {"id", std::string(65, 'i')}}.dump(),
       "invalid_field"},
      {"id string newline", R"({"type":"leave","id":"a\nb"})", "invalid_field"},
      {"sdkAppId string", JoinWith("sdkAppId", "1400000001"), "invalid_field"},
      {"sdkAppId 0", JoinWith("sdkAppId", 0), "invalid_field"},
      {"sdkAppId too big", JoinWith("sdkAppId", 4294967296LL), "invalid_field"},
      {"sdkAppId missing", JoinWith("sdkAppId", discard), "missing_field"},
      {"userId 33 chars", JoinWith("userId", std::string(33, 'u')), "invalid_field"},
      {"userId empty", JoinWith("userId", ""), "invalid_field"},
      {"userId bad char", JoinWith("userId", "al ice"), "invalid_field"},
      {"userId number", JoinWith("userId", 5), "invalid_field"},
      {"userId missing", JoinWith("userId", discard), "missing_field"},
      {"userSig missing", JoinWith("userSig", discard), "missing_field"},
      {"userSig empty", JoinWith("userSig", ""), "invalid_field"},
      {"userSig whitespace", JoinWith("userSig", "ab cd"), "invalid_field"},
      {"userSig too long", JoinWith("userSig", std::string(8193, 'a')), "too_large"},
      {"room id 0", JoinWith("roomId", 0), "invalid_field"},
      {"room id 4294967295", JoinWith("roomId", 4294967295U), "invalid_field"},
      {"room id negative", JoinWith("roomId", -5), "invalid_field"},
      {"room id string", JoinWith("roomId", "1234"), "invalid_field"},
      {"e2ee not a boolean", JoinWith("e2ee", "yes"), "invalid_field"},
      {"both room ids", JoinWith("strRoomId", "abc"), "invalid_field"},
      {"neither room id", JoinWith("roomId", discard), "missing_field"},
      {"str room 65 chars", StrJoin(std::string(65, 'r')), "invalid_field"},
      {"str room bad char", StrJoin("room*1"), "invalid_field"},
      {"str room quote", StrJoin("a\"b"), "invalid_field"},
      {"str room empty", StrJoin(""), "invalid_field"},
      {"role bad", JoinWith("role", "admin"), "invalid_field"},
      {"role missing", JoinWith("role", discard), "missing_field"},
      {"privateMapKey null", JoinWith("privateMapKey", nullptr), "invalid_field"},
      {"os with CR", JoinWith("os", "Linux\r\nX-Evil: 1"), "invalid_field"},
      {"CR in candidate",
       R"({"type":"ice-candidate","id":1,"pc":"publish","candidate":"candidate:1\r\na=x"})",
       "invalid_field"},
      {"LF in candidate",
       R"({"type":"ice-candidate","id":1,"pc":"publish","candidate":"candidate:1\na=x"})",
       "invalid_field"},
      {"NUL in candidate",
       R"({"type":"ice-candidate","id":1,"pc":"publish","candidate":"candidate:1\u0000"})",
       "invalid_field"},
      {"candidate too long",
       json{{"type", "ice-candidate"},
            {"id", 1},
            {"pc", "publish"},
            {"candidate", std::string(1025, 'c')}}
           .dump(),
       "too_large"},
      {"pc bad", R"({"type":"ice-candidate","id":1,"pc":"both","candidate":""})", "invalid_field"},
      {"sdpMLineIndex 256",
       R"({"type":"ice-candidate","id":1,"pc":"publish","candidate":"","sdpMLineIndex":256})",
       "invalid_field"},
      {"NUL in sdp", R"({"type":"subscribe","id":1,"offerId":1,"sdp":"v=0\r\n\u0000"})",
       "invalid_field"},
      {"empty sdp", R"({"type":"subscribe","id":1,"offerId":1,"sdp":""})", "invalid_field"},
      {"sdp not string", R"({"type":"subscribe","id":1,"offerId":1,"sdp":{"v":0}})",
       "invalid_field"},
      {"sdp over 32 KiB", big_sdp, "too_large"},
      {"offerId missing", json{{"type", "subscribe"}, {"id", 1}, {"sdp", kOffer}}.dump(),
       "missing_field"},
      {"1 MiB message", big, "too_large"},
      {"depth 100 nesting", Nested(100), "too_large"},
      {"depth 9 nesting", Nested(8), "too_large"},
      {"tracks missing", json{{"type", "publish"}, {"id", 1}, {"sdp", kOffer}}.dump(),
       "missing_field"},
      {"tracks not array", publish(track), "invalid_field"},
      {"17 tracks", publish(many_tracks), "too_large"},
      {"track not object", publish(json::array({"t"})), "invalid_field"},
      {"track unknown field", publish(json::array({track_extra})), "bad_message"},
      {"track source mismatch", publish(json::array({track_bad_source})), "invalid_field"},
      {"track id bad char", publish(json::array({track_bad_id})), "invalid_field"},
      {"track ids repeated", publish(json::array({track, track})), "invalid_field"},
      {"unpublish empty", R"({"type":"unpublish","id":1,"trackIds":[]})", "invalid_field"},
      {"unpublish number", R"({"type":"unpublish","id":1,"trackIds":[1]})", "invalid_field"},
      {"unpublish repeated", R"({"type":"unpublish","id":1,"trackIds":["a","a"]})",
       "invalid_field"},
      {"track id 65",
       json{{"type", "mute"}, {"id", 1}, {"trackId", std::string(65, 't')}, {"muted", true}}.dump(),
       "invalid_field"},
      {"muted not bool", R"({"type":"mute","id":1,"trackId":"t","muted":1})", "invalid_field"},
      {"muted missing", R"({"type":"mute","id":1,"trackId":"t"})", "missing_field"},
      {"session token short", R"({"type":"resume","id":1,"sessionToken":"abc"})", "invalid_field"},
      {"session token bad char", R"({"type":"resume","id":1,"sessionToken":"abcdefghijklmnop+"})",
       "invalid_field"},
      {"switch-role without role", R"({"type":"switch-role","id":1})", "missing_field"},
      {"switch-role unknown role", R"({"type":"switch-role","id":1,"role":"host"})",
       "invalid_field"},
      {"switch-role role not string", R"({"type":"switch-role","id":1,"role":1})", "invalid_field"},
      {"switch-role extra field", R"({"type":"switch-role","id":1,"role":"anchor","x":1})",
       "bad_message"},
      {"switch_role spelling", R"({"type":"switch_role","id":1,"role":"anchor"})", "unknown_type"},
  };
}

TEST(SignalDecode, MalformedTable) {
  for (const BadCase& c : BadCases()) {
    Result<ClientMessage> r = DecodeClientMessage(c.text);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_FALSE(r.status().message().empty()) << c.name;
  }
}

TEST(SignalDecode, ErrorsNeverEchoValues) {
  Result<ClientMessage> r = DecodeClientMessage(JoinWith("userId", "<script>alert(1)</script>"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("script"), std::string::npos);
  r = DecodeClientMessage(R"({"type":"leave","id":1,"<img src=x>":1})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("img"), std::string::npos);
}

TEST(SignalDecode, StructuralChecksRunBeforeFieldChecks) {
  // The duplicate is found by the pre-parse pass even though the message is
  // otherwise valid; last-one-wins parsing would have accepted it.
  Result<ClientMessage> r =
      DecodeClientMessage(R"({"type":"mute","id":1,"trackId":"a","muted":true,"muted":false})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "bad_message");
  EXPECT_NE(r.status().message().find("Duplicate"), std::string::npos);
  r = DecodeClientMessage(Nested(100));
  EXPECT_NE(r.status().message().find("Nesting"), std::string::npos);
  // Depth 8 (object + 7 arrays) is accepted by the parser; the unknown field
  // is what fails.
  r = DecodeClientMessage(Nested(7));
  EXPECT_EQ(r.status().code(), "bad_message");
  EXPECT_NE(r.status().message().find("Unknown field"), std::string::npos);
}

TEST(SignalDecode, SizeCapIsExact) {
  std::string head = R"({"type":"heartbeat","id":1,"p":")";
  std::string fits = head + std::string(kMaxMessageBytes - head.size() - 2, 'a') + "\"}";
  ASSERT_EQ(fits.size(), kMaxMessageBytes);
  Result<ClientMessage> r = DecodeClientMessage(fits);
  EXPECT_EQ(r.status().code(), "bad_message");  // unknown field, but not too_large
  r = DecodeClientMessage(fits + " ");
  EXPECT_EQ(r.status().code(), "too_large");
}

TEST(SignalEncode, OkAndError) {
  json ok = json::parse(EncodeOk(RequestId(int64_t{7}), {{"answer", "v=0"}}));
  EXPECT_EQ(ok, (json{{"type", "ok"}, {"id", 7}, {"data", {{"answer", "v=0"}}}}));
  json bare = json::parse(EncodeOk(RequestId(std::string("x"))));
  EXPECT_EQ(bare, (json{{"type", "ok"}, {"id", "x"}}));
  std::string text = EncodeError(RequestId(int64_t{3}), Status::Error("invalid_field", "bad"));
  EXPECT_EQ(text.find(' '), std::string::npos);  // compact
  json err = json::parse(text);
  EXPECT_EQ(err,
            (json{{"type", "error"}, {"id", 3}, {"code", "invalid_field"}, {"message", "bad"}}));
  json anon = json::parse(EncodeError(std::nullopt, Status::Error("bad_message", "\xff")));
  EXPECT_TRUE(anon["id"].is_null());
  EXPECT_EQ(anon["code"], "bad_message");
}

TEST(SignalEncode, Events) {
  TrackInfo cam{"cam", TrackKind::kVideo, TrackSource::kCamera, false};
  struct Case {
    ServerEvent event;
    json expected;
  };
  std::vector<Case> cases = {
      {UserJoinedEvent{"alice", Role::kAudience},
       {{"type", "user-joined"}, {"userId", "alice"}, {"role", "audience"}}},
      {UserLeftEvent{"bob", LeaveReason::kTimeout},
       {{"type", "user-left"}, {"userId", "bob"}, {"reason", "timeout"}}},
      {TrackPublishedEvent{"bob", cam},
       {{"type", "track-published"},
        {"userId", "bob"},
        {"track",
         {{"trackId", "cam"}, {"kind", "video"}, {"source", "camera"}, {"muted", false}}}}},
      {TrackUnpublishedEvent{"bob", "cam"},
       {{"type", "track-unpublished"}, {"userId", "bob"}, {"trackId", "cam"}}},
      {TrackMuteEvent{"bob", "cam", true},
       {{"type", "track-muted"}, {"userId", "bob"}, {"trackId", "cam"}}},
      {TrackMuteEvent{"bob", "cam", false},
       {{"type", "track-unmuted"}, {"userId", "bob"}, {"trackId", "cam"}}},
      {KickedEvent{KickReason::kRemovedByApi}, {{"type", "kicked"}, {"reason", "removed_by_api"}}},
      {KickedEvent{KickReason::kRoomDismissed}, {{"type", "kicked"}, {"reason", "room_dismissed"}}},
      {KickedEvent{KickReason::kKickedDuplicateLogin},
       {{"type", "kicked"}, {"reason", "kicked_duplicate_login"}}},
      {KickedEvent{KickReason::kUserSigExpired},
       {{"type", "kicked"}, {"reason", "usersig_expired"}}},
      {RoomDismissedEvent{}, {{"type", "room-dismissed"}}},
      {SubscribeOfferEvent{4, kOffer},
       {{"type", "subscribe-offer"}, {"offerId", 4}, {"sdp", kOffer}, {"tracks", json::array()}}},
      {SubscribeOfferEvent{
           5, kOffer, {{"3", "bob", "screen", TrackKind::kVideo, TrackSource::kScreen}}},
       {{"type", "subscribe-offer"},
        {"offerId", 5},
        {"sdp", kOffer},
        {"tracks",
         {{{"mid", "3"},
           {"userId", "bob"},
           {"trackId", "screen"},
           {"kind", "video"},
           {"source", "screen"}}}}}},
      {UserLeftEvent{"bob", LeaveReason::kRoleChanged},
       {{"type", "user-left"}, {"userId", "bob"}, {"reason", "role_changed"}}},
      {UserRoleChangedEvent{"bob", Role::kAudience},
       {{"type", "user-role-changed"}, {"userId", "bob"}, {"role", "audience"}}},
      {AudienceCountEvent{7}, {{"type", "audience-count"}, {"count", 7}}},
  };
  for (const Case& c : cases) {
    std::string text = EncodeEvent(c.event);
    EXPECT_EQ(text, c.expected.dump());  // compact, one line
    EXPECT_EQ(json::parse(text), c.expected);
  }
  EXPECT_EQ(ToString(LeaveReason::kLeft), "left");
  EXPECT_EQ(ToString(LeaveReason::kKicked), "kicked");
}

TEST(SignalEncode, ClientMessagesRoundTrip) {
  std::vector<std::string> inputs = {
      JoinWith("privateMapKey", "pmk"),
      JoinWith("e2ee", true),
      StrJoin("r 1"),
      R"({"type":"leave","id":1})",
      R"({"type":"heartbeat","id":"hb"})",
      json{{"type", "publish"},
           {"id", 3},
           {"sdp", kOffer},
           {"tracks", {{{"trackId", "a"}, {"kind", "audio"}, {"source", "screen"}}}}}
          .dump(),
      R"({"type":"unpublish","id":4,"trackIds":["a"]})",
      json{{"type", "subscribe"}, {"id", 5}, {"offerId", 2}, {"sdp", kOffer}}.dump(),
      R"({"type":"mute","id":6,"trackId":"a","muted":false})",
      R"({"type":"ice-candidate","id":7,"pc":"publish","candidate":"c","sdpMid":"0","sdpMLineIndex":1})",
      R"({"type":"resume","id":8,"sessionToken":"0123456789abcdef"})",
      R"({"type":"switch-role","id":9,"role":"audience"})",
      R"({"type":"set-video-quality","id":10,"userId":"u1","quality":"low"})",
      R"({"type":"set-video-quality","id":11,"userId":"u1","quality":"auto","source":"screen"})",
      R"({"type":"pause-video","id":12,"userId":"u-2","paused":true})",
  };
  for (const std::string& in : inputs) {
    Result<ClientMessage> a = DecodeClientMessage(in);
    ASSERT_TRUE(a.ok()) << in << " " << a.status().ToString();
    std::string text = EncodeClientMessage(*a);
    Result<ClientMessage> b = DecodeClientMessage(text);
    ASSERT_TRUE(b.ok()) << text << " " << b.status().ToString();
    EXPECT_EQ(*a, *b) << text;
    EXPECT_EQ(TypeOf(*a), json::parse(in)["type"].get<std::string>());
    EXPECT_EQ(IdOf(*a), IdOf(*b));
  }
}

TEST(SignalValidators, StrRoomIdCharset) {
  EXPECT_TRUE(IsValidStrRoomId("AZaz09 !#$%&()+-:;<=.>?@[]^_{}|~,"));
  for (char c : std::string("\"'*/\\`\t\n")) {
    EXPECT_FALSE(IsValidStrRoomId(std::string("a") + c)) << int(c);
  }
  EXPECT_FALSE(IsValidStrRoomId(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidStrRoomId("é"));
  EXPECT_TRUE(IsValidTrackId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidTrackId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidTrackId(""));
}

}  // namespace
}  // namespace aegis::signal
