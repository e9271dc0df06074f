#include "auth/usersig.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "crypto/primitives.h"
#include "test_support.h"

namespace aegis::auth {
namespace {

using nlohmann::json;

constexpr uint32_t kSdkAppId = 1400000001;
constexpr char kKey[] = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
constexpr int64_t kTime = 1'700'000'000;

// ---- ticket crafting helpers (independent of the code under test) ----

std::string Deflate(const std::string& text, int level = Z_DEFAULT_COMPRESSION) {
  uLongf len = compressBound(static_cast<uLong>(text.size()));
  std::string out(len, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &len,
                      reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()),
                      level),
            Z_OK);
  out.resize(len);
  return out;
}

std::string Inflate(const std::string& data) {
  std::string out(1 << 20, '\0');
  uLongf len = out.size();
  EXPECT_EQ(
      uncompress(reinterpret_cast<Bytef*>(out.data()), &len,
                 reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size())),
      Z_OK);
  out.resize(len);
  return out;
}

std::string Escape(std::string b64) {
  for (char& c : b64) {
    c = c == '+' ? '*' : c == '/' ? '-' : c == '=' ? '_' : c;
  }
  return b64;
}

std::string Unescape(std::string t) {
  for (char& c : t) {
    c = c == '*' ? '+' : c == '-' ? '/' : c == '_' ? '=' : c;
  }
  return t;
}

std::string TicketFromBytes(const std::string& bytes) {
  return Escape(crypto::Base64Encode(crypto::AsBytes(bytes)));
}
std::string TicketFromJsonText(const std::string& text) { return TicketFromBytes(Deflate(text)); }

std::string TicketToJsonText(const std::string& ticket) {
  auto bytes = crypto::Base64Decode(Unescape(ticket));
  EXPECT_TRUE(bytes.has_value());
  return bytes ? Inflate(std::string(bytes->begin(), bytes->end())) : std::string();
}
json TicketToJson(const std::string& ticket) { return json::parse(TicketToJsonText(ticket)); }

std::string Content(const std::string& id, const std::string& sdkappid, const std::string& time,
                    const std::string& expire, const std::string* userbuf_b64) {
  std::string c = "TLS.identifier:" + id + "\nTLS.sdkappid:" + sdkappid + "\nTLS.time:" + time +
                  "\nTLS.expire:" + expire + "\n";
  if (userbuf_b64 != nullptr) {
    c += "TLS.userbuf:" + *userbuf_b64 + "\n";
  }
  return c;
}

std::string Mac(const std::string& key, const std::string& content) {
  return crypto::Base64Encode(crypto::HmacSha256(crypto::AsBytes(key), crypto::AsBytes(content)));
}

// A correctly signed ticket with arbitrary (possibly inconsistent) fields.
std::string CraftTicket(const std::string& id, uint32_t sdkappid, int64_t time, int64_t expire,
                        const std::optional<PrivateMapKey>& pmk, const std::string& key = kKey) {
  json doc = {{"TLS.ver", "2.0"},
              {"TLS.identifier", id},
              {"TLS.sdkappid", sdkappid},
              {"TLS.time", time},
              {"TLS.expire", expire}};
  std::string userbuf_b64;
  if (pmk) {
    userbuf_b64 = crypto::Base64Encode(EncodeUserBuf(*pmk));
    doc["TLS.userbuf"] = userbuf_b64;
  }
  doc["TLS.sig"] = Mac(key, Content(id, std::to_string(sdkappid), std::to_string(time),
                                    std::to_string(expire), pmk ? &userbuf_b64 : nullptr));
  return TicketFromJsonText(doc.dump());
}

UserSigCheck Check(const std::string& user_id, int64_t now, uint32_t sdkappid = kSdkAppId,
                   std::vector<std::string> keys = {kKey}) {
  UserSigCheck c;
  c.sdkappid = sdkappid;
  c.user_id = user_id;
  c.keys = std::move(keys);
  c.now = now;
  c.clock_skew_s = 300;
  return c;
}

PrivateMapKey NumericPmk(const std::string& account, uint32_t room, uint32_t expire_at) {
  PrivateMapKey p;
  p.version = 0;
  p.account = account;
  p.sdkappid = kSdkAppId;
  p.room_id = room;
  p.expire_at = expire_at;
  p.privilege_map = kPrivAll;
  return p;
}

PrivateMapKey StringPmk(const std::string& account, const std::string& room, uint32_t expire_at) {
  PrivateMapKey p = NumericPmk(account, 0, expire_at);
  p.version = 1;
  p.str_room_id = room;
  p.privilege_map = kPrivEnterRoom | kPrivRecvAudio | kPrivRecvVideo;
  return p;
}

void ExpectSamePmk(const PrivateMapKey& a, const PrivateMapKey& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.account, b.account);
  EXPECT_EQ(a.sdkappid, b.sdkappid);
  EXPECT_EQ(a.room_id, b.room_id);
  EXPECT_EQ(a.expire_at, b.expire_at);
  EXPECT_EQ(a.privilege_map, b.privilege_map);
  EXPECT_EQ(a.account_type, b.account_type);
  EXPECT_EQ(a.str_room_id, b.str_room_id);
}

// ---- tickets from the official npm generator ----

class OfficialTickets : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    doc_ = testing::RunNodeScript("gen_official_tickets.js", "", &error);
    error_ = error;
  }
  void SetUp() override {
    // Fail, never skip: a missing node or package is a broken test setup.
    ASSERT_FALSE(doc_.is_discarded()) << error_;
    ASSERT_EQ(doc_["sdkappid"].get<uint32_t>(), kSdkAppId);
    ASSERT_EQ(doc_["key"].get<std::string>(), kKey);
  }
  static std::string Ticket(const char* name) { return doc_[name]["ticket"].get<std::string>(); }
  static std::string User(const char* name) { return doc_[name]["user_id"].get<std::string>(); }
  // The ticket's own TLS.time, so tests do not depend on the wall clock.
  static int64_t IssuedAt(const std::string& ticket) {
    Result<UserSigInfo> info = DecodeUserSig(ticket);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->time : 0;
  }

  static json doc_;
  static std::string error_;
};
json OfficialTickets::doc_;
std::string OfficialTickets::error_;

TEST_F(OfficialTickets, GeneratorEmitsNumbersForNumericFields) {
  for (const char* name : {"plain", "numeric_room", "string_room", "short_expiry", "short_pmk"}) {
    json t = TicketToJson(Ticket(name));
    EXPECT_EQ(t["TLS.ver"], "2.0") << name;
    EXPECT_TRUE(t["TLS.identifier"].is_string()) << name;
    EXPECT_TRUE(t["TLS.sdkappid"].is_number_unsigned()) << name;
    EXPECT_TRUE(t["TLS.time"].is_number_unsigned()) << name;
    EXPECT_TRUE(t["TLS.expire"].is_number_unsigned()) << name;
    EXPECT_TRUE(t["TLS.sig"].is_string()) << name;
  }
}

TEST_F(OfficialTickets, PlainVerifies) {
  const std::string ticket = Ticket("plain");
  const int64_t t = IssuedAt(ticket);
  Result<UserSigInfo> info = VerifyUserSig(ticket, Check(User("plain"), t + 10));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->identifier, "alice_01");
  EXPECT_EQ(info->sdkappid, kSdkAppId);
  EXPECT_EQ(info->expire, 86400);
  EXPECT_GE(info->time, doc_["generated_at"].get<int64_t>());
  EXPECT_FALSE(info->private_map_key.has_value());
  EXPECT_EQ(info->matched_key_index, 0u);
}

TEST_F(OfficialTickets, NumericRoomPrivateMapKeyVerifies) {
  const std::string ticket = Ticket("numeric_room");
  const int64_t t = IssuedAt(ticket);
  Result<UserSigInfo> info = VerifyUserSig(ticket, Check("bob-2", t + 10));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->private_map_key.has_value());
  const PrivateMapKey& pmk = *info->private_map_key;
  EXPECT_EQ(pmk.version, 0);
  EXPECT_EQ(pmk.account, "bob-2");
  EXPECT_EQ(pmk.sdkappid, kSdkAppId);
  EXPECT_EQ(pmk.room_id, 1234u);
  EXPECT_EQ(pmk.privilege_map, 255u);
  EXPECT_EQ(pmk.account_type, 0u);
  // The generator computes now + expire as a float and truncates it.
  EXPECT_GE(pmk.expire_at, t + 300);
  EXPECT_LE(pmk.expire_at, t + 301);
  EXPECT_TRUE(CheckPrivateMapKeyRoom(pmk, 1234, "").ok());
  EXPECT_EQ(CheckPrivateMapKeyRoom(pmk, 1235, "").code(), "privatemapkey_room_mismatch");
  EXPECT_EQ(CheckPrivateMapKeyRoom(pmk, 0, "1234").code(), "privatemapkey_room_mismatch");
}

TEST_F(OfficialTickets, StringRoomPrivateMapKeyVerifies) {
  const std::string ticket = Ticket("string_room");
  const int64_t t = IssuedAt(ticket);
  Result<UserSigInfo> info = VerifyUserSig(ticket, Check("carol", t + 10));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->private_map_key.has_value());
  const PrivateMapKey& pmk = *info->private_map_key;
  EXPECT_EQ(pmk.version, 1);
  EXPECT_EQ(pmk.account, "carol");
  EXPECT_EQ(pmk.room_id, 0u);
  EXPECT_EQ(pmk.str_room_id, "room-A");
  EXPECT_EQ(pmk.privilege_map, 42u);
  EXPECT_TRUE(CheckPrivateMapKeyRoom(pmk, 0, "room-A").ok());
  EXPECT_EQ(CheckPrivateMapKeyRoom(pmk, 0, "room-B").code(), "privatemapkey_room_mismatch");
  EXPECT_EQ(CheckPrivateMapKeyRoom(pmk, 0, "").code(), "privatemapkey_room_mismatch");
}

TEST_F(OfficialTickets, ShortExpiryExpiresAfterSkew) {
  const std::string ticket = Ticket("short_expiry");
  const int64_t t = IssuedAt(ticket);
  // Valid up to time + expire + skew inclusive.
  EXPECT_TRUE(VerifyUserSig(ticket, Check("dave", t + 5 + 300)).ok());
  EXPECT_EQ(VerifyUserSig(ticket, Check("dave", t + 5 + 301)).status().code(), "usersig_expired");
  UserSigCheck no_skew = Check("dave", t + 6);
  no_skew.clock_skew_s = 0;
  EXPECT_EQ(VerifyUserSig(ticket, no_skew).status().code(), "usersig_expired");
}

TEST_F(OfficialTickets, IssuedInTheFutureBeyondSkewIsRejected) {
  const std::string ticket = Ticket("plain");
  const int64_t t = IssuedAt(ticket);
  EXPECT_TRUE(VerifyUserSig(ticket, Check("alice_01", t - 300)).ok());
  EXPECT_EQ(VerifyUserSig(ticket, Check("alice_01", t - 301)).status().code(), "usersig_expired");
}

TEST_F(OfficialTickets, PrivateMapKeyExpiresIndependently) {
  const std::string ticket = Ticket("short_pmk");
  const int64_t t = IssuedAt(ticket);
  EXPECT_TRUE(VerifyUserSig(ticket, Check("erin", t + 60)).ok());
  EXPECT_EQ(VerifyUserSig(ticket, Check("erin", t + 61 + 300 + 1)).status().code(),
            "privatemapkey_expired");
}

TEST_F(OfficialTickets, WrongSdkAppIdIdentifierAndKey) {
  const std::string ticket = Ticket("plain");
  const int64_t now = IssuedAt(ticket) + 10;
  EXPECT_EQ(VerifyUserSig(ticket, Check("alice_01", now, kSdkAppId + 1)).status().code(),
            "usersig_sdkappid_mismatch");
  EXPECT_EQ(VerifyUserSig(ticket, Check("alice_02", now)).status().code(),
            "usersig_identifier_mismatch");
  EXPECT_EQ(VerifyUserSig(ticket, Check("alice_01", now, kSdkAppId, {"other-key"})).status().code(),
            "usersig_bad_signature");
  EXPECT_EQ(VerifyUserSig(ticket, Check("alice_01", now, kSdkAppId, {})).status().code(),
            "usersig_no_key");
  // Key rotation: any active key may match; report which.
  Result<UserSigInfo> rotated =
      VerifyUserSig(ticket, Check("alice_01", now, kSdkAppId, {"old-key", kKey, "new-key"}));
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->matched_key_index, 1u);
}

TEST_F(OfficialTickets, TamperedFieldsFailTheMac) {
  const std::string original = Ticket("numeric_room");
  const int64_t now = IssuedAt(original) + 10;
  const json doc = TicketToJson(original);

  auto reencode = [](const json& d) { return TicketFromJsonText(d.dump()); };
  // Sanity: re-encoding the untouched document still verifies.
  ASSERT_TRUE(VerifyUserSig(reencode(doc), Check("bob-2", now)).ok());

  json later = doc;
  later["TLS.expire"] = doc["TLS.expire"].get<int64_t>() + 86400;
  EXPECT_EQ(VerifyUserSig(reencode(later), Check("bob-2", now)).status().code(),
            "usersig_bad_signature");

  json earlier = doc;
  earlier["TLS.time"] = doc["TLS.time"].get<int64_t>() + 1;
  EXPECT_EQ(VerifyUserSig(reencode(earlier), Check("bob-2", now)).status().code(),
            "usersig_bad_signature");

  json other_user = doc;
  other_user["TLS.identifier"] = "mallory";
  EXPECT_EQ(VerifyUserSig(reencode(other_user), Check("mallory", now)).status().code(),
            "usersig_bad_signature");

  // Grant another room in the userbuf.
  auto userbuf = crypto::Base64Decode(doc["TLS.userbuf"].get<std::string>());
  ASSERT_TRUE(userbuf.has_value());
  Result<PrivateMapKey> pmk = DecodeUserBuf(*userbuf);
  ASSERT_TRUE(pmk.ok());
  pmk->room_id = 4321;
  json other_room = doc;
  other_room["TLS.userbuf"] = crypto::Base64Encode(EncodeUserBuf(*pmk));
  EXPECT_EQ(VerifyUserSig(reencode(other_room), Check("bob-2", now)).status().code(),
            "usersig_bad_signature");

  json dropped_userbuf = doc;
  dropped_userbuf.erase("TLS.userbuf");
  EXPECT_EQ(VerifyUserSig(reencode(dropped_userbuf), Check("bob-2", now)).status().code(),
            "usersig_bad_signature");

  // Flip one character of the MAC.
  json flipped = doc;
  std::string sig = doc["TLS.sig"].get<std::string>();
  sig[5] = sig[5] == 'A' ? 'B' : 'A';
  flipped["TLS.sig"] = sig;
  EXPECT_EQ(VerifyUserSig(reencode(flipped), Check("bob-2", now)).status().code(),
            "usersig_bad_signature");
}

TEST_F(OfficialTickets, FlippingAnyTicketCharacterNeverVerifies) {
  const std::string original = Ticket("plain");
  const int64_t now = IssuedAt(original) + 10;
  const Result<UserSigInfo> base = VerifyUserSig(original, Check("alice_01", now));
  ASSERT_TRUE(base.ok());
  size_t accepted = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    std::string t = original;
    t[i] = t[i] == 'x' ? 'y' : 'x';
    Result<UserSigInfo> r = VerifyUserSig(t, Check("alice_01", now));
    if (!r.ok()) continue;
    // Deflate ignores the unused padding bits of its last byte, so a flip there
    // inflates to the very same signed JSON. That is not a forgery: the content
    // must be identical, and only a handful of trailing positions may do it.
    ++accepted;
    EXPECT_GE(i + 16, original.size()) << "position " << i;
    EXPECT_EQ(r->identifier, base->identifier);
    EXPECT_EQ(r->sdkappid, base->sdkappid);
    EXPECT_EQ(r->time, base->time);
    EXPECT_EQ(r->expire, base->expire);
  }
  EXPECT_LE(accepted, 2u);
}

// ---- Aegis-generated tickets checked by the official library ----

TEST(GenUserSig, VerifiedByOfficialLibrary) {
  struct Case {
    std::string user;
    std::optional<PrivateMapKey> pmk;
  };
  const Case cases[] = {
      {"alice_01", std::nullopt},
      {"bob-2", NumericPmk("bob-2", 1234, kTime + 300)},
      {"carol", StringPmk("carol", "room-A", kTime + 600)},
  };
  for (const Case& c : cases) {
    UserSigGenParams p;
    p.sdkappid = kSdkAppId;
    p.key = kKey;
    p.user_id = c.user;
    p.time = kTime;
    p.expire = 86400;
    p.private_map_key = c.pmk;
    Result<std::string> ticket = GenUserSig(p);
    ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();

    std::string error;
    json checked = testing::RunNodeScript(
        "gen_official_tickets.js",
        "check " + std::to_string(kSdkAppId) + " " + kKey + " " + testing::ShellQuote(*ticket),
        &error);
    ASSERT_FALSE(checked.is_discarded()) << error;
    EXPECT_TRUE(checked["mac_ok"].get<bool>()) << c.user;
    const json& d = checked["doc"];
    EXPECT_EQ(d["TLS.ver"], "2.0");
    EXPECT_EQ(d["TLS.identifier"], c.user);
    EXPECT_TRUE(d["TLS.sdkappid"].is_number());
    EXPECT_EQ(d["TLS.sdkappid"].get<uint32_t>(), kSdkAppId);
    EXPECT_EQ(d["TLS.time"].get<int64_t>(), kTime);
    EXPECT_EQ(d["TLS.expire"].get<int64_t>(), 86400);
    if (c.pmk) {
      const json& u = checked["userbuf"];
      EXPECT_TRUE(u["consumed_all"].get<bool>());
      EXPECT_EQ(u["version"], c.pmk->version);
      EXPECT_EQ(u["account"], c.pmk->account);
      EXPECT_EQ(u["sdkappid"], c.pmk->sdkappid);
      EXPECT_EQ(u["room_id"], c.pmk->room_id);
      EXPECT_EQ(u["expire_at"], c.pmk->expire_at);
      EXPECT_EQ(u["privilege_map"], c.pmk->privilege_map);
      if (c.pmk->version == 1) {
        EXPECT_EQ(u["str_room_id"], c.pmk->str_room_id);
      }
    } else {
      EXPECT_FALSE(checked.contains("userbuf"));
    }

    Result<UserSigInfo> info = VerifyUserSig(*ticket, Check(c.user, kTime + 1));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    if (c.pmk) {
      ASSERT_TRUE(info->private_map_key.has_value());
      ExpectSamePmk(*info->private_map_key, *c.pmk);
    }
  }
}

TEST(GenUserSig, RejectsBadParams) {
  UserSigGenParams p;
  p.sdkappid = kSdkAppId;
  p.key = kKey;
  p.user_id = "ok_user";
  p.time = kTime;
  EXPECT_TRUE(GenUserSig(p).ok());

  for (const char* bad : {"", "has space", "a.b", "ümlaut", "123456789012345678901234567890123"}) {
    UserSigGenParams q = p;
    q.user_id = bad;
    EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_userid") << bad;
  }
  UserSigGenParams q = p;
  q.sdkappid = 0;
  EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_params");
  q = p;
  q.key.clear();
  EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_params");
  q = p;
  q.expire = 0;
  EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_params");
  q = p;
  q.time = -1;
  EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_params");
  q = p;
  q.private_map_key = NumericPmk("someone_else", 1, kTime + 10);
  EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_params");
  q = p;
  q.private_map_key = StringPmk("ok_user", "", kTime + 10);
  EXPECT_EQ(GenUserSig(q).status().code(), "usersig_bad_params");
}

TEST(GenUserSig, TimeZeroMeansNowAndFillsPmkDefaults) {
  UserSigGenParams p;
  p.sdkappid = kSdkAppId;
  p.key = kKey;
  p.user_id = "frank";
  PrivateMapKey pmk;
  pmk.room_id = 9;
  pmk.expire_at = 4'000'000'000u;
  p.private_map_key = pmk;
  const int64_t before = SystemClock::Instance().NowUnixSeconds();
  Result<std::string> ticket = GenUserSig(p);
  ASSERT_TRUE(ticket.ok());
  Result<UserSigInfo> info = DecodeUserSig(*ticket);
  ASSERT_TRUE(info.ok());
  EXPECT_GE(info->time, before);
  EXPECT_LE(info->time, before + 5);
  EXPECT_EQ(info->expire, 86400 * 180);
  ASSERT_TRUE(info->private_map_key.has_value());
  EXPECT_EQ(info->private_map_key->account, "frank");
  EXPECT_EQ(info->private_map_key->sdkappid, kSdkAppId);
}

// ---- verification of crafted tickets ----

TEST(VerifyUserSig, PrivateMapKeyMismatches) {
  PrivateMapKey other_app = NumericPmk("gina", 1, kTime + 600);
  other_app.sdkappid = kSdkAppId + 1;
  EXPECT_EQ(VerifyUserSig(CraftTicket("gina", kSdkAppId, kTime, 86400, other_app),
                          Check("gina", kTime + 1))
                .status()
                .code(),
            "privatemapkey_sdkappid_mismatch");
  EXPECT_EQ(VerifyUserSig(
                CraftTicket("gina", kSdkAppId, kTime, 86400, NumericPmk("hank", 1, kTime + 600)),
                Check("gina", kTime + 1))
                .status()
                .code(),
            "privatemapkey_identifier_mismatch");
  EXPECT_EQ(
      VerifyUserSig(CraftTicket("gina", kSdkAppId, kTime, 86400, NumericPmk("gina", 1, kTime + 10)),
                    Check("gina", kTime + 10 + 301))
          .status()
          .code(),
      "privatemapkey_expired");
}

TEST(VerifyUserSig, AcceptsStringNumericFieldsFromLenientGenerators) {
  const std::string content =
      Content("ivy", std::to_string(kSdkAppId), std::to_string(kTime), "86400", nullptr);
  json doc = {{"TLS.ver", "2.0"},
              {"TLS.identifier", "ivy"},
              {"TLS.sdkappid", std::to_string(kSdkAppId)},
              {"TLS.time", std::to_string(kTime)},
              {"TLS.expire", "86400"},
              {"TLS.sig", Mac(kKey, content)}};
  Result<UserSigInfo> info = VerifyUserSig(TicketFromJsonText(doc.dump()), Check("ivy", kTime));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sdkappid, kSdkAppId);
  EXPECT_EQ(info->time, kTime);
  EXPECT_EQ(info->expire, 86400);
}

TEST(VerifyUserSig, AcceptsEscapedSlashesAndUnpaddedTickets) {
  // PHP's json_encode writes "\/" inside TLS.sig.
  const std::string content =
      Content("jay", std::to_string(kSdkAppId), std::to_string(kTime), "86400", nullptr);
  std::string sig = Mac(kKey, content);
  std::string escaped;
  for (char c : sig) {
    escaped += c == '/' ? std::string("\\/") : std::string(1, c);
  }
  const std::string text = "{\"TLS.ver\":\"2.0\",\"TLS.identifier\":\"jay\",\"TLS.sdkappid\":" +
                           std::to_string(kSdkAppId) +
                           ",\"TLS.expire\":86400,\"TLS.time\":" + std::to_string(kTime) +
                           ",\"TLS.sig\":\"" + escaped + "\"}";
  std::string ticket = TicketFromJsonText(text);
  EXPECT_TRUE(VerifyUserSig(ticket, Check("jay", kTime)).ok());
  while (!ticket.empty() && ticket.back() == '_') {
    ticket.pop_back();
  }
  EXPECT_TRUE(VerifyUserSig(ticket, Check("jay", kTime)).ok());
}

TEST(VerifyUserSig, InvalidPresentedUserIdNeverMatches) {
  const std::string ticket = CraftTicket("a b", kSdkAppId, kTime, 86400, std::nullopt);
  EXPECT_EQ(VerifyUserSig(ticket, Check("a b", kTime)).status().code(),
            "usersig_identifier_mismatch");
}

// ---- malformed input table ----

struct MalformedCase {
  const char* name;
  std::string ticket;
  const char* code;
};

std::string Doc(const std::string& members) { return TicketFromJsonText("{" + members + "}"); }

const std::string kGoodSig = "\"TLS.sig\":\"" + std::string(43, 'A') + "=\"";
const std::string kBase =
    "\"TLS.ver\":\"2.0\",\"TLS.identifier\":\"u\",\"TLS.sdkappid\":1400000001,"
    "\"TLS.time\":1700000000,\"TLS.expire\":86400,";

std::string WithField(const std::string& name, const std::string& value) {
  json doc = json::parse("{" + kBase + kGoodSig + "}");
  if (value.empty()) {
    doc.erase(name);
  } else {
    doc[name] = json::parse(value);
  }
  return TicketFromJsonText(doc.dump());
}

TEST(DecodeUserSig, BaselineOfTheMalformedTableDecodes) {
  EXPECT_TRUE(DecodeUserSig(Doc(kBase + kGoodSig)).ok());
}

TEST(DecodeUserSig, MalformedTable) {
  const std::string valid = Doc(kBase + kGoodSig);
  std::string trailing_garbage;
  {
    std::string bytes = Deflate("{" + kBase + kGoodSig + "}") + "XYZ";
    trailing_garbage = TicketFromBytes(bytes);
  }
  std::string truncated_stream;
  {
    std::string bytes = Deflate("{" + kBase + kGoodSig + "}");
    truncated_stream = TicketFromBytes(bytes.substr(0, bytes.size() - 6));
  }
  std::string raw_deflate;  // no zlib header: not what generators emit
  {
    std::string bytes = Deflate("{" + kBase + kGoodSig + "}");
    raw_deflate = TicketFromBytes(bytes.substr(2));
  }

  const MalformedCase cases[] = {
      {"empty", "", "usersig_malformed"},
      {"not base64", "!!!!", "usersig_malformed"},
      {"standard alphabet plus", valid.substr(0, 8) + "+" + valid.substr(9), "usersig_malformed"},
      {"length 1 mod 4", "eJwr_", "usersig_malformed"},
      {"base64 of plain text", TicketFromBytes("hello world"), "usersig_malformed"},
      {"truncated zlib", truncated_stream, "usersig_malformed"},
      {"raw deflate", raw_deflate, "usersig_malformed"},
      {"trailing garbage", trailing_garbage, "usersig_malformed"},
      {"not json", TicketFromJsonText("not json"), "usersig_malformed"},
      {"json array", TicketFromJsonText("[1,2,3]"), "usersig_malformed"},
      {"json string", TicketFromJsonText("\"TLS\""), "usersig_malformed"},
      {"json then garbage", TicketFromJsonText("{" + kBase + kGoodSig + "} x"),
       "usersig_malformed"},
      {"empty object", Doc(""), "usersig_bad_version"},
      {"version 1 ticket", Doc("\"TLS.version\":\"201512300000\""), "usersig_bad_version"},
      {"wrong version", WithField("TLS.ver", "\"3.0\""), "usersig_bad_version"},
      {"numeric version", WithField("TLS.ver", "2.0"), "usersig_malformed"},
      {"missing identifier", WithField("TLS.identifier", ""), "usersig_malformed"},
      {"numeric identifier", WithField("TLS.identifier", "12"), "usersig_malformed"},
      {"empty identifier", WithField("TLS.identifier", "\"\""), "usersig_malformed"},
      {"missing sdkappid", WithField("TLS.sdkappid", ""), "usersig_malformed"},
      {"negative sdkappid", WithField("TLS.sdkappid", "-1"), "usersig_malformed"},
      {"float sdkappid", WithField("TLS.sdkappid", "1.5"), "usersig_malformed"},
      {"sdkappid > u32", WithField("TLS.sdkappid", "4294967296"), "usersig_malformed"},
      {"bool sdkappid", WithField("TLS.sdkappid", "true"), "usersig_malformed"},
      {"null sdkappid", WithField("TLS.sdkappid", "null"), "usersig_malformed"},
      {"object sdkappid", WithField("TLS.sdkappid", "{}"), "usersig_malformed"},
      {"non-decimal string", WithField("TLS.sdkappid", "\"abc\""), "usersig_malformed"},
      {"leading zero string", WithField("TLS.sdkappid", "\"01400000001\""), "usersig_malformed"},
      {"signed string", WithField("TLS.time", "\"+1700000000\""), "usersig_malformed"},
      {"empty string number", WithField("TLS.time", "\"\""), "usersig_malformed"},
      {"missing time", WithField("TLS.time", ""), "usersig_malformed"},
      {"time beyond 2^53", WithField("TLS.time", "9007199254740992"), "usersig_malformed"},
      {"huge time", WithField("TLS.time", "18446744073709551615"), "usersig_malformed"},
      {"negative expire", WithField("TLS.expire", "-86400"), "usersig_malformed"},
      {"missing expire", WithField("TLS.expire", ""), "usersig_malformed"},
      {"array expire", WithField("TLS.expire", "[86400]"), "usersig_malformed"},
      {"missing sig", WithField("TLS.sig", ""), "usersig_malformed"},
      {"numeric sig", WithField("TLS.sig", "5"), "usersig_malformed"},
      {"sig not base64", WithField("TLS.sig", "\"%%%%\""), "usersig_malformed"},
      {"sig too short", WithField("TLS.sig", "\"AAAA\""), "usersig_malformed"},
      {"userbuf not string", WithField("TLS.userbuf", "7"), "usersig_malformed"},
      {"userbuf not base64", WithField("TLS.userbuf", "\"@@@@\""), "usersig_malformed"},
      {"userbuf empty", WithField("TLS.userbuf", "\"\""), "privatemapkey_malformed"},
      {"userbuf truncated", WithField("TLS.userbuf", "\"AAAB\""), "privatemapkey_malformed"},
      {"duplicate identifier", Doc(kBase + "\"TLS.identifier\":\"v\"," + kGoodSig),
       "usersig_malformed"},
      {"duplicate sig", Doc(kBase + kGoodSig + "," + kGoodSig), "usersig_malformed"},
      {"invalid utf-8", Doc(kBase + "\"x\":\"\xff\xfe\"," + kGoodSig), "usersig_malformed"},
      {"deep nesting", TicketFromJsonText(std::string(8000, '[') + std::string(8000, ']')),
       "usersig_malformed"},
  };
  for (const MalformedCase& c : cases) {
    Result<UserSigInfo> r = DecodeUserSig(c.ticket);
    EXPECT_EQ(r.status().code(), c.code) << c.name;
    // Verification reports the same decoding failure.
    EXPECT_EQ(VerifyUserSig(c.ticket, Check("u", kTime)).status().code(), c.code) << c.name;
  }
}

TEST(DecodeUserSig, UnknownFieldsAreIgnored) {
  EXPECT_TRUE(DecodeUserSig(Doc(kBase + "\"TLS.extra\":{\"a\":[1,2]}," + kGoodSig)).ok());
}

TEST(DecodeUserSig, ZipBombIsRejectedWithinTheInflateCap) {
  // ~3 MB of JSON whitespace deflates to ~3 KB: under the 4 KiB compressed
  // cap, so only the inflate cap stops it.
  const std::string bomb_text = "{" + kBase + kGoodSig + std::string(3 << 20, ' ') + "}";
  const std::string compressed = Deflate(bomb_text, 9);
  ASSERT_LE(compressed.size(), kMaxUserSigCompressedBytes);
  const std::string ticket = TicketFromBytes(compressed);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(DecodeUserSig(ticket).status().code(), "usersig_malformed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  // A bomb too big even compressed is rejected before inflating.
  const std::string big = Deflate(std::string(64 << 20, '\0'), 9);
  ASSERT_GT(big.size(), kMaxUserSigCompressedBytes);
  EXPECT_EQ(DecodeUserSig(TicketFromBytes(big)).status().code(), "usersig_malformed");
}

TEST(DecodeUserSig, InflatedSizeBoundary) {
  const std::string body = "{" + kBase + kGoodSig + "}";
  const std::string at_cap = body + std::string(kMaxUserSigInflatedBytes - body.size(), ' ');
  EXPECT_TRUE(DecodeUserSig(TicketFromJsonText(at_cap)).ok());
  EXPECT_EQ(DecodeUserSig(TicketFromJsonText(at_cap + " ")).status().code(), "usersig_malformed");
}

TEST(DecodeUserSig, CompressedSizeBoundary) {
  // Incompressible padding inside an ignored field, grown until the stream
  // crosses the 4 KiB compressed cap.
  const std::string random = crypto::Base64Encode(crypto::RandomBytes(6000));
  std::string last_ok;
  std::string first_too_big;
  for (size_t n = 2000; n < random.size() && first_too_big.empty(); n += 8) {
    const std::string text =
        "{" + kBase + "\"pad\":\"" + random.substr(0, n) + "\"," + kGoodSig + "}";
    const std::string compressed = Deflate(text, 9);
    (compressed.size() <= kMaxUserSigCompressedBytes ? last_ok : first_too_big) = compressed;
  }
  ASSERT_GT(last_ok.size(), kMaxUserSigCompressedBytes - 16);
  ASSERT_FALSE(first_too_big.empty());
  EXPECT_TRUE(DecodeUserSig(TicketFromBytes(last_ok)).ok());
  EXPECT_EQ(DecodeUserSig(TicketFromBytes(first_too_big)).status().code(), "usersig_malformed");

  // 4097 bytes still fit the text cap, so the compressed-size check itself fires.
  std::string padded = Deflate("{" + kBase + kGoodSig + "}");
  padded.resize(kMaxUserSigCompressedBytes + 1, '\0');
  Result<UserSigInfo> r = DecodeUserSig(TicketFromBytes(padded));
  EXPECT_EQ(r.status().code(), "usersig_malformed");
  EXPECT_NE(r.status().message().find("compressed"), std::string::npos) << r.status().message();

  EXPECT_EQ(DecodeUserSig(std::string(100000, 'A')).status().code(), "usersig_malformed");
}

// ---- userbuf codec ----

TEST(UserBuf, LayoutIsBigEndianAsTheOfficialGenerator) {
  PrivateMapKey p = StringPmk("ab", "r1", 0x01020304);
  p.sdkappid = 0x0A0B0C0D;
  p.privilege_map = 0xFF;
  p.account_type = 7;
  const std::vector<uint8_t> expected = {1,    0,    2,    'a',  'b',  // version, account
                                         0x0A, 0x0B, 0x0C, 0x0D,       // sdkappid
                                         0,    0,    0,    0,          // room id
                                         1,    2,    3,    4,          // expiry
                                         0,    0,    0,    0xFF,       // privileges
                                         0,    0,    0,    7,          // account type
                                         0,    2,    'r',  '1'};       // room string
  EXPECT_EQ(EncodeUserBuf(p), expected);
  Result<PrivateMapKey> back = DecodeUserBuf(expected);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSamePmk(*back, p);
}

TEST(UserBuf, TruncatedAtEveryLengthIsMalformed) {
  for (const PrivateMapKey& p :
       {NumericPmk("someone", 42, 1'800'000'000), StringPmk("someone", "room-xyz", 1)}) {
    const std::vector<uint8_t> full = EncodeUserBuf(p);
    for (size_t n = 0; n < full.size(); ++n) {
      std::span<const uint8_t> prefix(full.data(), n);
      EXPECT_EQ(DecodeUserBuf(prefix).status().code(), "privatemapkey_malformed") << n;
    }
    Result<PrivateMapKey> ok = DecodeUserBuf(full);
    ASSERT_TRUE(ok.ok());
    ExpectSamePmk(*ok, p);
    std::vector<uint8_t> longer = full;
    longer.push_back(0);
    EXPECT_EQ(DecodeUserBuf(longer).status().code(), "privatemapkey_malformed");
  }
}

TEST(UserBuf, LengthsBeyondTheBufferAndBadVersion) {
  std::vector<uint8_t> buf = EncodeUserBuf(NumericPmk("abc", 1, 2));
  std::vector<uint8_t> account_too_long = buf;
  account_too_long[1] = 0xFF;
  account_too_long[2] = 0xFF;
  EXPECT_EQ(DecodeUserBuf(account_too_long).status().code(), "privatemapkey_malformed");

  std::vector<uint8_t> v1 = EncodeUserBuf(StringPmk("abc", "room", 2));
  v1[v1.size() - 5] = 0x10;  // room length high byte
  EXPECT_EQ(DecodeUserBuf(v1).status().code(), "privatemapkey_malformed");

  std::vector<uint8_t> v2 = buf;
  v2[0] = 2;
  EXPECT_EQ(DecodeUserBuf(v2).status().code(), "privatemapkey_malformed");

  // A version 0 buffer carrying version 1's room tail is trailing garbage.
  std::vector<uint8_t> v0_with_room = EncodeUserBuf(StringPmk("abc", "room", 2));
  v0_with_room[0] = 0;
  EXPECT_EQ(DecodeUserBuf(v0_with_room).status().code(), "privatemapkey_malformed");
}

TEST(UserId, Rules) {
  EXPECT_TRUE(IsValidUserId("a"));
  EXPECT_TRUE(IsValidUserId("Az09_-"));
  EXPECT_TRUE(IsValidUserId(std::string(32, 'x')));
  EXPECT_FALSE(IsValidUserId(std::string(33, 'x')));
  EXPECT_FALSE(IsValidUserId(""));
  for (const char* bad : {"a b", "a.b", "a@b", "a/b", "a\nb", "é"}) {
    EXPECT_FALSE(IsValidUserId(bad)) << bad;
  }
  EXPECT_FALSE(IsValidUserId(std::string_view("a\0b", 3)));
}

TEST(CheckPrivateMapKeyRoom, NumericAndStringRoomsAreDistinct) {
  const PrivateMapKey numeric = NumericPmk("u", 1234, 0);
  EXPECT_TRUE(CheckPrivateMapKeyRoom(numeric, 1234, "").ok());
  EXPECT_FALSE(CheckPrivateMapKeyRoom(numeric, 0, "").ok());
  PrivateMapKey zero_room = NumericPmk("u", 0, 0);
  EXPECT_FALSE(CheckPrivateMapKeyRoom(zero_room, 0, "").ok());
  const PrivateMapKey str = StringPmk("u", "1234", 0);
  EXPECT_TRUE(CheckPrivateMapKeyRoom(str, 0, "1234").ok());
  EXPECT_FALSE(CheckPrivateMapKeyRoom(str, 1234, "").ok());
  EXPECT_FALSE(CheckPrivateMapKeyRoom(str, 1234, "1234").ok());
}

}  // namespace
}  // namespace aegis::auth

namespace aegis::auth {
namespace {

// A forged ticket is "bad signature" even when its times are also out of
// range: expiry is only judged on authentic tickets.
TEST(VerifyUserSigOrder, ForgedAndExpiredIsBadSignature) {
  UserSigGenParams p;
  p.sdkappid = 1400000001;
  p.key = std::string(64, 'f');  // not the application's key
  p.user_id = "mallory";
  p.time = 1'000'000'000;
  p.expire = 60;
  Result<std::string> forged = GenUserSig(p);
  ASSERT_TRUE(forged.ok());
  UserSigCheck check;
  check.sdkappid = 1400000001;
  check.user_id = "mallory";
  check.keys = {std::string(64, 'a')};
  check.now = 1'700'000'000;
  EXPECT_EQ(VerifyUserSig(*forged, check).status().code(), "usersig_bad_signature");
  check.keys = {p.key};  // authentic but expired
  EXPECT_EQ(VerifyUserSig(*forged, check).status().code(), "usersig_expired");
}

}  // namespace
}  // namespace aegis::auth
