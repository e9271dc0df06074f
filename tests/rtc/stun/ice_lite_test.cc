#include "rtc/stun/ice_lite.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rfc5769_vectors.h"
#include "rtc/stun/stun_message.h"

namespace aegis::rtc {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr char kLocalUfrag[] = "lufrag1";
constexpr char kLocalPwd[] = "localPassword0123456789AB";
constexpr char kRemoteUfrag[] = "rufr";
constexpr StunTransactionId kTid = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};

// What a browser (the controlling full agent) puts in a connectivity check.
struct RequestSpec {
  uint16_t method = kStunMethodBinding;
  StunClass cls = StunClass::kRequest;
  std::optional<std::string> username = std::string(kLocalUfrag) + ":" + kRemoteUfrag;
  std::optional<uint32_t> priority = 0x6e0001ff;
  bool controlling = true;
  bool controlled = false;
  bool use_candidate = false;
  std::optional<uint16_t> extra_attr;
  std::optional<std::string> mi_password = std::string(kLocalPwd);
  bool fingerprint = true;
  bool corrupt_fingerprint = false;
};

Bytes MakeRequest(const RequestSpec& spec) {
  std::array<uint8_t, 512> buf{};
  StunMessageBuilder b(buf, spec.method, spec.cls, kTid);
  if (spec.username) {
    EXPECT_TRUE(b.AddUsername(*spec.username).ok());
  }
  if (spec.priority) {
    EXPECT_TRUE(b.AddPriority(*spec.priority).ok());
  }
  if (spec.controlling) {
    EXPECT_TRUE(b.AddIceControlling(0x1122334455667788ull).ok());
  }
  if (spec.controlled) {
    EXPECT_TRUE(b.AddIceControlled(0x1122334455667788ull).ok());
  }
  if (spec.use_candidate) {
    EXPECT_TRUE(b.AddUseCandidate().ok());
  }
  if (spec.extra_attr) {
    const std::array<uint8_t, 4> v = {1, 2, 3, 4};
    EXPECT_TRUE(b.AddRaw(*spec.extra_attr, v).ok());
  }
  if (spec.mi_password) {
    EXPECT_TRUE(b.AddMessageIntegrity(*spec.mi_password).ok());
  }
  if (spec.fingerprint) {
    EXPECT_TRUE(b.AddFingerprint().ok());
  }
  auto built = b.Finish();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  Bytes out(built->begin(), built->end());
  if (spec.corrupt_fingerprint) out.back() ^= 0x01;
  return out;
}

Endpoint Ep(const char* ip, uint16_t port) { return *Endpoint::Parse(ip, port); }

class RecordingListener : public IceLiteServer::Listener {
 public:
  void OnSelectedTupleChanged(const Tuple& tuple) override { changes.push_back(tuple.endpoint); }
  std::vector<Endpoint> changes;
};

class IceLiteTest : public ::testing::Test {
 protected:
  IceLiteTest() : server_(MakeServer({})) {}

  static IceLiteServer MakeServer(IceLiteServer::Options options, bool remote_known = true) {
    auto created = IceLiteServer::Create(IceCredentials{kLocalUfrag, kLocalPwd}, options);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    IceLiteServer server = std::move(created).value();
    if (remote_known) {
      EXPECT_TRUE(server.SetRemoteUfrag(kRemoteUfrag).ok());
    }
    return server;
  }

  IceResult Handle(const Bytes& request, const Endpoint& from, int64_t now_ms = 1000) {
    return Handle(server_, request, from, now_ms);
  }
  IceResult Handle(IceLiteServer& server, const Bytes& request, const Endpoint& from,
                   int64_t now_ms) {
    return server.HandleRequest(request, from, now_ms, response_);
  }

  // Checks the response is a well-formed Binding error with `code`, echoing the
  // transaction id, with MI (under the local pwd) iff `with_mi`, and FINGERPRINT.
  void ExpectError(const IceResult& r, uint16_t code, bool with_mi) {
    ASSERT_EQ(r.action, IceAction::kErrorResponse);
    EXPECT_EQ(r.error_code, code);
    auto parsed = StunMessage::Parse(r.response);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->method(), kStunMethodBinding);
    EXPECT_EQ(parsed->message_class(), StunClass::kErrorResponse);
    EXPECT_TRUE(std::equal(kTid.begin(), kTid.end(), parsed->transaction_id().begin()));
    ASSERT_TRUE(parsed->error_code().has_value());
    EXPECT_EQ(parsed->error_code()->code, code);
    EXPECT_FALSE(parsed->error_code()->reason.empty());
    EXPECT_EQ(parsed->has_message_integrity(), with_mi);
    if (with_mi) {
      EXPECT_TRUE(parsed->CheckIntegrity(std::string_view(kLocalPwd)));
    }
    EXPECT_TRUE(parsed->CheckFingerprint());
  }

  void ExpectSuccess(const IceResult& r, const Endpoint& from) {
    ASSERT_EQ(r.action, IceAction::kSuccessResponse);
    auto parsed = StunMessage::Parse(r.response);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->method(), kStunMethodBinding);
    EXPECT_EQ(parsed->message_class(), StunClass::kSuccessResponse);
    EXPECT_TRUE(std::equal(kTid.begin(), kTid.end(), parsed->transaction_id().begin()));
    EXPECT_EQ(parsed->xor_mapped_address(), from);
    EXPECT_TRUE(parsed->CheckIntegrity(std::string_view(kLocalPwd)));
    EXPECT_TRUE(parsed->CheckFingerprint());
  }

  IceLiteServer server_;
  std::array<uint8_t, 256> response_{};
  const Endpoint peer_ = Ep("198.51.100.7", 50000);
};

// --- STUN-02 response matrix

TEST_F(IceLiteTest, ValidCheckSucceeds) {
  const IceResult r = Handle(MakeRequest({}), peer_);
  ExpectSuccess(r, peer_);
  EXPECT_TRUE(r.selected_tuple_changed);
  EXPECT_EQ(server_.selected_tuple(), peer_);
  EXPECT_FALSE(server_.nominated());
  EXPECT_TRUE(server_.IsValidTuple(peer_, 1000));
  EXPECT_TRUE(server_.IsConsentFresh(1000));
}

TEST_F(IceLiteTest, ValidCheckFromIpv6) {
  const Endpoint v6 = Ep("2001:db8::42", 61000);
  ExpectSuccess(Handle(MakeRequest({}), v6), v6);
}

TEST_F(IceLiteTest, NonBindingMethodIs400) {
  RequestSpec spec;
  spec.method = 0x003;  // Allocate
  ExpectError(Handle(MakeRequest(spec), peer_), 400, false);
}

TEST_F(IceLiteTest, MissingUsernameIs400) {
  RequestSpec spec;
  spec.username.reset();
  ExpectError(Handle(MakeRequest(spec), peer_), 400, false);
}

TEST_F(IceLiteTest, MissingIntegrityIs400) {
  RequestSpec spec;
  spec.mi_password.reset();
  ExpectError(Handle(MakeRequest(spec), peer_), 400, false);
}

TEST_F(IceLiteTest, MissingUsernameAndIntegrityIs400) {
  RequestSpec spec;
  spec.username.reset();
  spec.mi_password.reset();
  ExpectError(Handle(MakeRequest(spec), peer_), 400, false);
}

TEST_F(IceLiteTest, MissingFingerprintIs400) {
  RequestSpec spec;
  spec.fingerprint = false;
  ExpectError(Handle(MakeRequest(spec), peer_), 400, false);
}

TEST_F(IceLiteTest, BadFingerprintIsDropped) {
  RequestSpec spec;
  spec.corrupt_fingerprint = true;
  const IceResult r = Handle(MakeRequest(spec), peer_);
  EXPECT_EQ(r.action, IceAction::kDrop);
  EXPECT_EQ(r.drop_reason, IceDropReason::kBadFingerprint);
  EXPECT_TRUE(r.response.empty());
}

TEST_F(IceLiteTest, WrongUsernameIs401) {
  for (const std::string& username :
       {std::string("other:rufr"), std::string("lufrag1:other"), std::string("rufr:lufrag1"),
        std::string("lufrag1"), std::string("lufrag1:"), std::string("lufrag12:rufr"),
        std::string("lufrag:rufr"), std::string(""), std::string("lufrag1:rufr:x")}) {
    RequestSpec spec;
    spec.username = username;
    ExpectError(Handle(MakeRequest(spec), peer_), 401, false);
  }
  EXPECT_FALSE(server_.selected_tuple().has_value());
}

TEST_F(IceLiteTest, BadHmacIs401) {
  RequestSpec spec;
  spec.mi_password = "wrongPassword0123456789AB";
  ExpectError(Handle(MakeRequest(spec), peer_), 401, false);
  EXPECT_FALSE(server_.IsValidTuple(peer_, 1000));
  EXPECT_EQ(server_.stats().auth_failures, 1u);
}

TEST_F(IceLiteTest, PeerClaimingControlledIs487) {
  RequestSpec spec;
  spec.controlling = false;
  spec.controlled = true;
  ExpectError(Handle(MakeRequest(spec), peer_), 487, true);
  EXPECT_FALSE(server_.IsValidTuple(peer_, 1000));
}

TEST_F(IceLiteTest, MissingPriorityIs400WithIntegrity) {
  RequestSpec spec;
  spec.priority.reset();
  ExpectError(Handle(MakeRequest(spec), peer_), 400, true);
  EXPECT_FALSE(server_.IsValidTuple(peer_, 1000));
}

TEST_F(IceLiteTest, UnknownComprehensionRequiredIs420) {
  RequestSpec spec;
  spec.extra_attr = 0x7001;
  const IceResult r = Handle(MakeRequest(spec), peer_);
  ExpectError(r, 420, true);
  auto parsed = StunMessage::Parse(r.response);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(Bytes(parsed->unknown_attributes().begin(), parsed->unknown_attributes().end()),
            (Bytes{0x70, 0x01}));
}

TEST_F(IceLiteTest, UnknownOptionalAttributeIsIgnored) {
  RequestSpec spec;
  spec.extra_attr = 0xC057;  // Chrome's GOOG-NETWORK-INFO
  ExpectSuccess(Handle(MakeRequest(spec), peer_), peer_);
}

TEST_F(IceLiteTest, NeitherControllingNorControlledIsAccepted) {
  RequestSpec spec;
  spec.controlling = false;
  ExpectSuccess(Handle(MakeRequest(spec), peer_), peer_);
}

TEST_F(IceLiteTest, IndicationsAndResponsesAreDropped) {
  for (StunClass cls :
       {StunClass::kIndication, StunClass::kSuccessResponse, StunClass::kErrorResponse}) {
    RequestSpec spec;
    spec.cls = cls;
    const IceResult r = Handle(MakeRequest(spec), peer_);
    EXPECT_EQ(r.action, IceAction::kDrop);
    EXPECT_EQ(r.drop_reason, IceDropReason::kNotRequest);
  }
}

TEST_F(IceLiteTest, MalformedIsDropped) {
  Bytes m = MakeRequest({});
  m[3] += 4;  // length no longer matches
  const IceResult r = Handle(m, peer_);
  EXPECT_EQ(r.action, IceAction::kDrop);
  EXPECT_EQ(r.drop_reason, IceDropReason::kMalformed);
  EXPECT_EQ(Handle(Bytes{}, peer_).drop_reason, IceDropReason::kMalformed);
}

TEST_F(IceLiteTest, SmallResponseBufferDropsWithoutStateChange) {
  std::array<uint8_t, 40> small{};
  const Bytes req = MakeRequest({});
  const IceResult r = server_.HandleRequest(req, peer_, 1000, small);
  EXPECT_EQ(r.action, IceAction::kDrop);
  EXPECT_EQ(r.drop_reason, IceDropReason::kResponseBufferSmall);
  EXPECT_FALSE(server_.selected_tuple().has_value());
}

TEST_F(IceLiteTest, UnknownRemoteUfragAcceptsAnyNonEmptyRemotePart) {
  IceLiteServer server = MakeServer({}, /*remote_known=*/false);
  RequestSpec spec;
  spec.username = std::string(kLocalUfrag) + ":whatever";
  ExpectSuccess(Handle(server, MakeRequest(spec), peer_, 1000), peer_);
  spec.username = std::string(kLocalUfrag) + ":";
  ExpectError(Handle(server, MakeRequest(spec), peer_, 1000), 401, false);
  // Once SDP tells us the remote ufrag, it is enforced.
  ASSERT_TRUE(server.SetRemoteUfrag(kRemoteUfrag).ok());
  spec.username = std::string(kLocalUfrag) + ":whatever";
  ExpectError(Handle(server, MakeRequest(spec), peer_, 1000), 401, false);
}

// The RFC 5769 request authenticates against a server holding its credentials;
// it carries ICE-CONTROLLED, so an ICE-lite server answers 487 (with MI).
TEST_F(IceLiteTest, Rfc5769RequestGetsRoleConflict) {
  auto created =
      IceLiteServer::Create(IceCredentials{"evtj", std::string(testing::kRfc5769Password)});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  IceLiteServer server = std::move(created).value();
  ASSERT_TRUE(server.SetRemoteUfrag("h6vY").ok());
  const Bytes req(std::begin(testing::kRfc5769Request), std::end(testing::kRfc5769Request));
  const IceResult r = server.HandleRequest(req, peer_, 0, response_);
  ASSERT_EQ(r.action, IceAction::kErrorResponse);
  EXPECT_EQ(r.error_code, 487);
  auto parsed = StunMessage::Parse(r.response);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->CheckIntegrity(testing::kRfc5769Password));
  EXPECT_TRUE(parsed->CheckFingerprint());
}

// --- Credentials (STUN-05 entropy)

TEST(IceCredentialsTest, GenerateIsStrongAndValid) {
  std::set<std::string> pwds;
  for (int i = 0; i < 50; ++i) {
    const IceCredentials c = IceCredentials::Generate();
    EXPECT_GE(c.ufrag.size(), 4u);
    EXPECT_GE(c.pwd.size(), 24u);
    // [A-Za-z0-9]: log2(62) * size bits >= 128.
    EXPECT_GE(static_cast<double>(c.pwd.size()) * 5.954, 128.0);
    EXPECT_TRUE(IceCredentials::Validate(c).ok());
    pwds.insert(c.pwd);
  }
  EXPECT_EQ(pwds.size(), 50u);
}

TEST(IceCredentialsTest, ValidateRejectsWeakOrBadCharacters) {
  EXPECT_TRUE(IceCredentials::Validate({"abcd", std::string(22, 'a')}).ok());
  EXPECT_TRUE(IceCredentials::Validate({"a+/d", "abcdefghijklmnopqrst+/"}).ok());
  EXPECT_EQ(IceCredentials::Validate({"abc", std::string(22, 'a')}).code(), "ice_bad_ufrag");
  EXPECT_EQ(IceCredentials::Validate({"ab:d", std::string(22, 'a')}).code(), "ice_bad_ufrag");
  EXPECT_EQ(IceCredentials::Validate({std::string(257, 'a'), std::string(22, 'a')}).code(),
            "ice_bad_ufrag");
  EXPECT_EQ(IceCredentials::Validate({"abcd", std::string(21, 'a')}).code(), "ice_bad_pwd");
  EXPECT_EQ(IceCredentials::Validate({"abcd", std::string(21, 'a') + "\n"}).code(), "ice_bad_pwd");
  EXPECT_FALSE(IceLiteServer::Create(IceCredentials{"abcd", "short"}).ok());
}

TEST_F(IceLiteTest, SetRemoteUfragValidates) {
  EXPECT_FALSE(server_.SetRemoteUfrag("abc").ok());
  EXPECT_FALSE(server_.SetRemoteUfrag("ab\r\nc").ok());
  EXPECT_FALSE(server_.SetRemoteUfrag("ab:cd").ok());
  EXPECT_EQ(server_.remote_ufrag(), kRemoteUfrag);
}

// --- Consent freshness (RFC 7675)

TEST_F(IceLiteTest, ConsentExpiresAfter30Seconds) {
  EXPECT_FALSE(server_.IsConsentFresh(0));
  ExpectSuccess(Handle(MakeRequest({}), peer_, 0), peer_);
  EXPECT_TRUE(server_.IsConsentFresh(29'999));
  EXPECT_FALSE(server_.IsConsentFresh(30'000));
  EXPECT_FALSE(server_.IsValidTuple(peer_, 30'000));
  // A fresh check at t=20 s extends consent to t=50 s.
  ExpectSuccess(Handle(MakeRequest({}), peer_, 20'000), peer_);
  EXPECT_TRUE(server_.IsConsentFresh(49'999));
  EXPECT_FALSE(server_.IsConsentFresh(50'000));
}

TEST_F(IceLiteTest, FailedChecksDoNotRefreshConsent) {
  ExpectSuccess(Handle(MakeRequest({}), peer_, 0), peer_);
  RequestSpec bad;
  bad.mi_password = "wrongPassword0123456789AB";
  ExpectError(Handle(MakeRequest(bad), peer_, 25'000), 401, false);
  RequestSpec controlled;
  controlled.controlling = false;
  controlled.controlled = true;
  ExpectError(Handle(MakeRequest(controlled), peer_, 26'000), 487, true);
  EXPECT_FALSE(server_.IsConsentFresh(30'000));
}

TEST_F(IceLiteTest, CustomConsentTimeout) {
  IceLiteServer::Options options;
  options.consent_timeout_ms = 5'000;
  IceLiteServer server = MakeServer(options);
  ExpectSuccess(Handle(server, MakeRequest({}), peer_, 0), peer_);
  EXPECT_TRUE(server.IsConsentFresh(4'999));
  EXPECT_FALSE(server.IsConsentFresh(5'000));
  options.consent_timeout_ms = 0;
  EXPECT_FALSE(IceLiteServer::Create(IceCredentials{kLocalUfrag, kLocalPwd}, options).ok());
}

// --- Failed-authentication rate limit (STUN-05)

TEST_F(IceLiteTest, FailedAuthIsRateLimitedPerTuple) {
  RequestSpec bad;
  bad.mi_password = "wrongPassword0123456789AB";
  const Bytes bad_req = MakeRequest(bad);
  for (int i = 0; i < 10; ++i) ExpectError(Handle(bad_req, peer_, 0), 401, false);
  IceResult r = Handle(bad_req, peer_, 0);
  EXPECT_EQ(r.action, IceAction::kDrop);
  EXPECT_EQ(r.drop_reason, IceDropReason::kRateLimited);
  // An exhausted unvalidated tuple is not even checked: a correct guess is
  // dropped too, so the limit bounds guessing.
  r = Handle(MakeRequest({}), peer_, 0);
  EXPECT_EQ(r.drop_reason, IceDropReason::kRateLimited);
  EXPECT_FALSE(server_.selected_tuple().has_value());
  // Another tuple has its own budget.
  const Endpoint other = Ep("198.51.100.7", 50001);
  ExpectError(Handle(bad_req, other, 0), 401, false);
  // 10/s refill: one more failure is allowed after 100 ms.
  ExpectError(Handle(bad_req, peer_, 100), 401, false);
  EXPECT_EQ(Handle(bad_req, peer_, 100).drop_reason, IceDropReason::kRateLimited);
  // After the bucket refills, a valid request from that tuple succeeds.
  ExpectSuccess(Handle(MakeRequest({}), peer_, 300), peer_);
  EXPECT_GE(server_.stats().rate_limited, 3u);
}

TEST_F(IceLiteTest, ValidatedTupleKeepsWorkingWhileItsFailuresAreLimited) {
  ExpectSuccess(Handle(MakeRequest({}), peer_, 0), peer_);
  RequestSpec bad;
  bad.mi_password = "wrongPassword0123456789AB";
  const Bytes bad_req = MakeRequest(bad);
  // A spoofer using the peer's address burns the peer's failure budget...
  for (int i = 0; i < 10; ++i) ExpectError(Handle(bad_req, peer_, 10), 401, false);
  EXPECT_EQ(Handle(bad_req, peer_, 10).drop_reason, IceDropReason::kRateLimited);
  // ...but cannot lock the real peer out: its valid checks still succeed.
  ExpectSuccess(Handle(MakeRequest({}), peer_, 10), peer_);
}

TEST_F(IceLiteTest, FailureTableIsBoundedAndFailsClosed) {
  IceLiteServer::Options options;
  options.max_failure_buckets = 2;
  IceLiteServer server = MakeServer(options);
  RequestSpec bad;
  bad.mi_password = "wrongPassword0123456789AB";
  const Bytes bad_req = MakeRequest(bad);
  const Endpoint a = Ep("203.0.113.1", 1), b = Ep("203.0.113.2", 2), c = Ep("203.0.113.3", 3);
  ExpectError(Handle(server, bad_req, a, 0), 401, false);
  ExpectError(Handle(server, bad_req, b, 0), 401, false);
  EXPECT_EQ(Handle(server, bad_req, c, 0).drop_reason, IceDropReason::kRateLimited);
  // A legitimate newcomer is unaffected: it never fails.
  ExpectSuccess(Handle(server, MakeRequest({}), c, 0), c);
  // Once a's bucket has refilled it is recycled.
  const Endpoint d = Ep("203.0.113.4", 4);
  ExpectError(Handle(server, bad_req, d, 1'000), 401, false);
}

// --- Tuples, nomination and address change

TEST_F(IceLiteTest, NominationAndAddressChange) {
  RecordingListener listener;
  server_.set_listener(&listener);
  const Endpoint a = Ep("198.51.100.7", 50000);
  const Endpoint b = Ep("203.0.113.9", 40000);

  RequestSpec nominate;
  nominate.use_candidate = true;
  IceResult r = Handle(MakeRequest(nominate), a, 0);
  ExpectSuccess(r, a);
  EXPECT_TRUE(r.selected_tuple_changed);
  EXPECT_EQ(server_.selected_tuple(), a);
  EXPECT_TRUE(server_.nominated());

  // b validates (e.g. a new interface) but is not nominated: media stays on a.
  r = Handle(MakeRequest({}), b, 1000);
  ExpectSuccess(r, b);
  EXPECT_FALSE(r.selected_tuple_changed);
  EXPECT_EQ(server_.selected_tuple(), a);
  EXPECT_TRUE(server_.IsValidTuple(b, 1000));

  // The peer nominates b: address change.
  r = Handle(MakeRequest(nominate), b, 2000);
  ExpectSuccess(r, b);
  EXPECT_TRUE(r.selected_tuple_changed);
  EXPECT_EQ(server_.selected_tuple(), b);
  EXPECT_TRUE(server_.nominated());

  // Re-nominating the same tuple is not a change.
  r = Handle(MakeRequest(nominate), b, 3000);
  EXPECT_FALSE(r.selected_tuple_changed);
  ASSERT_EQ(listener.changes.size(), 2u);
  EXPECT_EQ(listener.changes[0], a);
  EXPECT_EQ(listener.changes[1], b);
}

TEST_F(IceLiteTest, FailoverWhenSelectedLosesConsent) {
  const Endpoint a = Ep("198.51.100.7", 50000);
  const Endpoint b = Ep("198.51.100.7", 50002);  // NAT rebinding: new port
  ExpectSuccess(Handle(MakeRequest({}), a, 0), a);
  // While a still has consent, a non-nominated b does not take over.
  EXPECT_FALSE(Handle(MakeRequest({}), b, 10'000).selected_tuple_changed);
  EXPECT_EQ(server_.selected_tuple(), a);
  // a goes silent; b keeps checking and takes over once a's consent expired.
  const IceResult r = Handle(MakeRequest({}), b, 31'000);
  EXPECT_TRUE(r.selected_tuple_changed);
  EXPECT_EQ(server_.selected_tuple(), b);
  EXPECT_TRUE(server_.IsConsentFresh(31'000));
}

TEST_F(IceLiteTest, TupleTableIsBoundedAndKeepsSelected) {
  IceLiteServer::Options options;
  options.max_tuples = 2;
  IceLiteServer server = MakeServer(options);
  const Endpoint a = Ep("10.0.0.1", 1), b = Ep("10.0.0.2", 2), c = Ep("10.0.0.3", 3);
  ExpectSuccess(Handle(server, MakeRequest({}), a, 0), a);  // selected
  ExpectSuccess(Handle(server, MakeRequest({}), b, 1), b);
  ExpectSuccess(Handle(server, MakeRequest({}), c, 2), c);  // evicts b, not a
  EXPECT_TRUE(server.IsValidTuple(a, 3));
  EXPECT_FALSE(server.IsValidTuple(b, 3));
  EXPECT_TRUE(server.IsValidTuple(c, 3));
  EXPECT_EQ(server.selected_tuple(), a);
}

// MX-03: only tuples that passed an authenticated check are valid.
TEST_F(IceLiteTest, UnauthenticatedSenderIsNotAValidTuple) {
  const Endpoint attacker = Ep("192.0.2.66", 4444);
  ExpectSuccess(Handle(MakeRequest({}), peer_, 0), peer_);
  EXPECT_FALSE(server_.IsValidTuple(attacker, 0));
  RequestSpec bad;
  bad.mi_password = "wrongPassword0123456789AB";
  (void)Handle(MakeRequest(bad), attacker, 0);
  EXPECT_FALSE(server_.IsValidTuple(attacker, 0));
  EXPECT_EQ(server_.selected_tuple(), peer_);
}

TEST_F(IceLiteTest, StatsCount) {
  (void)Handle(MakeRequest({}), peer_);
  RequestSpec no_fp;
  no_fp.fingerprint = false;
  (void)Handle(MakeRequest(no_fp), peer_);
  (void)Handle(Bytes{1, 2, 3}, peer_);
  const auto& s = server_.stats();
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.success_responses, 1u);
  EXPECT_EQ(s.error_responses, 1u);
  EXPECT_EQ(s.dropped, 1u);
}

}  // namespace
}  // namespace aegis::rtc
