// Two DtlsTransports wired back to back in memory, plus a raw OpenSSL client
// for offers our own transport would never make (WR-02).
#include "rtc/dtls/dtls_transport.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "rtc/dtls/dtls_certificate.h"

namespace aegis::rtc {
namespace {

using Datagram = std::vector<uint8_t>;

class Peer : public DtlsTransport::Listener {
 public:
  void OnDtlsSend(std::span<const uint8_t> d) override {
    EXPECT_LE(d.size(), kDtlsDefaultMtu);
    sent.emplace_back(d.begin(), d.end());
  }
  void OnDtlsConnected(const SrtpKeys& k) override {
    ++connected;
    keys = k;
  }
  void OnDtlsFailed(const std::string& reason) override {
    ++failed;
    failure = reason;
  }
  void OnDtlsApplicationData(std::span<const uint8_t> d) override {
    app.emplace_back(d.begin(), d.end());
  }
  void OnDtlsClosed() override { ++closed; }

  std::vector<Datagram> TakeSent() {
    std::vector<Datagram> out;
    out.swap(sent);
    return out;
  }

  std::vector<Datagram> sent;
  std::vector<Datagram> app;
  std::optional<SrtpKeys> keys;
  std::string failure;
  int connected = 0;
  int failed = 0;
  int closed = 0;
};

std::unique_ptr<DtlsCertificate> NewCert() {
  auto c = DtlsCertificate::Generate();
  EXPECT_TRUE(c.ok());
  return std::move(c).value();
}

// Fingerprint of a certificate nobody uses.
std::string WrongFingerprint() { return NewCert()->fingerprint(); }

struct Pair {
  explicit Pair(std::vector<SrtpProfile> client_profiles = {},
                std::vector<SrtpProfile> server_profiles = {}, uint32_t retransmit_ms = 100)
      : client_cert(NewCert()), server_cert(NewCert()) {
    DtlsConfig cc;
    cc.role = DtlsRole::kClient;
    cc.certificate = client_cert.get();
    cc.initial_retransmit_ms = retransmit_ms;
    if (!client_profiles.empty()) cc.srtp_profiles = client_profiles;
    DtlsConfig sc;
    sc.role = DtlsRole::kServer;
    sc.certificate = server_cert.get();
    sc.initial_retransmit_ms = retransmit_ms;
    if (!server_profiles.empty()) sc.srtp_profiles = server_profiles;
    auto c = DtlsTransport::Create(cc, &client_peer);
    auto s = DtlsTransport::Create(sc, &server_peer);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    client = std::move(c).value();
    server = std::move(s).value();
  }

  void SetFingerprints(const std::string& server_sees_client,
                       const std::string& client_sees_server) {
    ASSERT_TRUE(server->SetRemoteFingerprint("sha-256", server_sees_client).ok());
    ASSERT_TRUE(client->SetRemoteFingerprint("sha-256", client_sees_server).ok());
  }
  void SetCorrectFingerprints() {
    SetFingerprints(client_cert->fingerprint(), server_cert->fingerprint());
  }
  void Start() {
    ASSERT_TRUE(server->Start().ok());
    ASSERT_TRUE(client->Start().ok());
  }

  // Delivers queued datagrams both ways until quiet. `drop` sees
  // (from_client, datagram) and returns true to lose it.
  void Pump(const std::function<bool(bool, const Datagram&)>& drop = nullptr) {
    for (int round = 0; round < 50; ++round) {
      auto from_client = client_peer.TakeSent();
      auto from_server = server_peer.TakeSent();
      if (from_client.empty() && from_server.empty()) return;
      for (const auto& d : from_client) {
        if (!drop || !drop(true, d)) server->ProcessDatagram(d);
      }
      for (const auto& d : from_server) {
        if (!drop || !drop(false, d)) client->ProcessDatagram(d);
      }
    }
    ADD_FAILURE() << "handshake did not settle";
  }

  void ExpectConnected() {
    EXPECT_EQ(client->state(), DtlsState::kConnected) << client_peer.failure;
    EXPECT_EQ(server->state(), DtlsState::kConnected) << server_peer.failure;
    ASSERT_EQ(client_peer.connected, 1);
    ASSERT_EQ(server_peer.connected, 1);
    ASSERT_TRUE(client_peer.keys && server_peer.keys);
    // Mirrored: what the client sends with, the server receives with.
    EXPECT_EQ(client_peer.keys->local, server_peer.keys->remote);
    EXPECT_EQ(client_peer.keys->remote, server_peer.keys->local);
    EXPECT_NE(client_peer.keys->local, client_peer.keys->remote);
    EXPECT_EQ(client_peer.keys->profile, server_peer.keys->profile);
  }

  std::unique_ptr<DtlsCertificate> client_cert;
  std::unique_ptr<DtlsCertificate> server_cert;
  Peer client_peer;
  Peer server_peer;
  std::unique_ptr<DtlsTransport> client;
  std::unique_ptr<DtlsTransport> server;
};

void ExpectNoKeys(const Peer& p) {
  EXPECT_EQ(p.connected, 0);
  EXPECT_FALSE(p.keys.has_value());
}

TEST(DtlsTransport, HandshakeDerivesMirroredAes256GcmKeys) {
  Pair p;
  p.SetCorrectFingerprints();
  p.Start();
  p.Pump();
  p.ExpectConnected();
  const SrtpKeys& k = *p.client_peer.keys;
  EXPECT_EQ(k.profile, SrtpProfile::kAeadAes256Gcm);
  EXPECT_EQ(k.local.size(), 32u + 12u);
  EXPECT_EQ(k.remote.size(), 32u + 12u);
  EXPECT_EQ(p.client->srtp_profile(), SrtpProfile::kAeadAes256Gcm);
  EXPECT_EQ(p.server->srtp_profile(), SrtpProfile::kAeadAes256Gcm);
  EXPECT_FALSE(p.client_peer.keys->local == Datagram(44, 0));
}

TEST(DtlsTransport, ClientOfferingOnlyAes128CmGetsIt) {
  Pair p({SrtpProfile::kAes128CmHmacSha1_80});
  p.SetCorrectFingerprints();
  p.Start();
  p.Pump();
  p.ExpectConnected();
  EXPECT_EQ(p.server_peer.keys->profile, SrtpProfile::kAes128CmHmacSha1_80);
  EXPECT_EQ(p.server_peer.keys->local.size(), 16u + 14u);
}

TEST(DtlsTransport, ServerPreferenceOrderWithPartialOverlap) {
  Pair p({SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAeadAes128Gcm});
  p.SetCorrectFingerprints();
  p.Start();
  p.Pump();
  p.ExpectConnected();
  // Server prefers AEAD (WR-03 order) even though the client listed CM first.
  EXPECT_EQ(p.server_peer.keys->profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(p.server_peer.keys->local.size(), 16u + 12u);
}

TEST(DtlsTransport, DatagramsRespectMtuAndApplicationDataFlows) {
  Pair p;
  p.SetCorrectFingerprints();
  p.Start();
  p.Pump();  // Peer::OnDtlsSend checks every datagram <= 1200 bytes
  p.ExpectConnected();
  const Datagram msg = {1, 2, 3, 4, 5};
  ASSERT_TRUE(p.client->SendApplicationData(msg).ok());
  p.Pump();
  ASSERT_EQ(p.server_peer.app.size(), 1u);
  EXPECT_EQ(p.server_peer.app[0], msg);
  ASSERT_TRUE(p.server->SendApplicationData(msg).ok());
  p.Pump();
  ASSERT_EQ(p.client_peer.app.size(), 1u);
  const Datagram too_big(1300, 7);
  EXPECT_FALSE(p.client->SendApplicationData(too_big).ok());
  EXPECT_EQ(p.client->state(), DtlsState::kConnected);
}

TEST(DtlsTransport, CloseNotifyClosesPeer) {
  Pair p;
  p.SetCorrectFingerprints();
  p.Start();
  p.Pump();
  p.ExpectConnected();
  p.client->Close();
  p.Pump();
  EXPECT_EQ(p.client->state(), DtlsState::kClosed);
  EXPECT_EQ(p.server->state(), DtlsState::kClosed);
  EXPECT_EQ(p.server_peer.closed, 1);
}

// WR-04: server pins the wrong client fingerprint.
TEST(DtlsTransport, WrongClientFingerprintFailsBothNoKeys) {
  Pair p;
  p.SetFingerprints(WrongFingerprint(), p.server_cert->fingerprint());
  p.Start();
  p.Pump();
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);  // got the alert
  EXPECT_NE(p.server_peer.failure.find("fingerprint"), std::string::npos) << p.server_peer.failure;
  ExpectNoKeys(p.server_peer);
  ExpectNoKeys(p.client_peer);
}

// WR-04: client pins the wrong server fingerprint.
TEST(DtlsTransport, WrongServerFingerprintFailsBothNoKeys) {
  Pair p;
  p.SetFingerprints(p.client_cert->fingerprint(), WrongFingerprint());
  p.Start();
  p.Pump();
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_NE(p.client_peer.failure.find("fingerprint"), std::string::npos) << p.client_peer.failure;
  ExpectNoKeys(p.server_peer);
  ExpectNoKeys(p.client_peer);
}

// ex_webrtc GHSA-qwfw-ggxw-577c: completion without a verified fingerprint
// (here: none was ever set) must not export keys on the completing side, and
// the completing server must not release its Finished to the client.
TEST(DtlsTransport, CompletionWithoutRemoteFingerprintFails) {
  Pair p;
  ASSERT_TRUE(p.client->SetRemoteFingerprint("sha-256", p.server_cert->fingerprint()).ok());
  p.Start();
  p.Pump();
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_NE(p.server_peer.failure.find("fingerprint"), std::string::npos);
  ExpectNoKeys(p.server_peer);
  ExpectNoKeys(p.client_peer);
  EXPECT_NE(p.client->state(), DtlsState::kConnected);
}

TEST(DtlsTransport, ClientSideCompletionWithoutFingerprintFails) {
  Pair p;
  ASSERT_TRUE(p.server->SetRemoteFingerprint("sha-256", p.client_cert->fingerprint()).ok());
  p.Start();
  p.Pump();
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);
  ExpectNoKeys(p.client_peer);
}

TEST(DtlsTransport, SetRemoteFingerprintValidates) {
  Pair p;
  const std::string good = p.client_cert->fingerprint();
  EXPECT_FALSE(p.server->SetRemoteFingerprint("sha-1", good).ok());
  EXPECT_FALSE(p.server->SetRemoteFingerprint("md5", good).ok());
  EXPECT_FALSE(p.server->SetRemoteFingerprint("sha-384", good).ok());  // wrong length
  EXPECT_FALSE(p.server->SetRemoteFingerprint("sha-256", good.substr(3)).ok());
  EXPECT_FALSE(p.server->SetRemoteFingerprint("sha-256", "zz" + good.substr(2)).ok());
  EXPECT_TRUE(p.server->SetRemoteFingerprint("SHA-256", good).ok());
}

TEST(DtlsTransport, CreateValidatesConfig) {
  Peer peer;
  DtlsConfig c;
  EXPECT_FALSE(DtlsTransport::Create(c, &peer).ok());  // no certificate
  auto cert = NewCert();
  c.certificate = cert.get();
  EXPECT_FALSE(DtlsTransport::Create(c, nullptr).ok());
  c.srtp_profiles.clear();
  EXPECT_FALSE(DtlsTransport::Create(c, &peer).ok());
  c.srtp_profiles = {SrtpProfile::kAeadAes128Gcm};
  c.mtu = 2000;
  EXPECT_FALSE(DtlsTransport::Create(c, &peer).ok());
  c.mtu = kDtlsDefaultMtu;
  EXPECT_TRUE(DtlsTransport::Create(c, &peer).ok());
}

TEST(DtlsTransport, GarbageBeforeHandshakeIsHarmless) {
  Pair p;
  p.SetCorrectFingerprints();
  ASSERT_TRUE(p.server->Start().ok());
  std::mt19937 rng(1234);
  for (int i = 0; i < 500; ++i) {
    Datagram d(1 + rng() % 200);
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    // Half of them look like DTLS handshake records to get past RFC 7983.
    if (i % 2 == 0) {
      d[0] = 22;
      if (d.size() > 2) {
        d[1] = 0xfe;
        d[2] = 0xfd;
      }
    }
    p.server->ProcessDatagram(d);
  }
  // Non-DTLS and oversized datagrams are ignored outright.
  p.server->ProcessDatagram(Datagram(1501, 22));
  p.server->ProcessDatagram(Datagram{});
  p.server->ProcessDatagram(Datagram(100, 0));
  EXPECT_EQ(p.server_peer.connected, 0);
  if (p.server->state() == DtlsState::kFailed) GTEST_SKIP() << "failed cleanly";
  ASSERT_EQ(p.server->state(), DtlsState::kConnecting);
  ASSERT_TRUE(p.client->Start().ok());
  p.Pump();
  p.ExpectConnected();
}

TEST(DtlsTransport, TruncatedRecordsDoNotBreakLaterHandshake) {
  Pair p;
  p.SetCorrectFingerprints();
  p.Start();
  auto hello = p.client_peer.TakeSent();
  ASSERT_FALSE(hello.empty());
  for (size_t len = 1; len < hello[0].size(); ++len) {
    p.server->ProcessDatagram(std::span<const uint8_t>(hello[0].data(), len));
  }
  EXPECT_EQ(p.server->state(), DtlsState::kConnecting) << p.server_peer.failure;
  p.server_peer.sent.clear();
  for (const auto& d : hello) p.server->ProcessDatagram(d);
  p.Pump();
  p.ExpectConnected();
}

// pion/dtls GHSA-cm8f-h6j3-p25c: a handshake fragment of length zero must not
// loop or crash; the transport stays usable.
TEST(DtlsTransport, ZeroLengthHandshakeFragmentTerminates) {
  Pair p;
  p.SetCorrectFingerprints();
  ASSERT_TRUE(p.server->Start().ok());
  const Datagram record = {
      22, 0xfe, 0xfd,           // handshake, DTLS 1.2
      0,  0,                    // epoch
      0,  0,    0,    0, 0, 0,  // sequence
      0,  12,                   // length
      1,                        // ClientHello
      0,  0,    100,            // message length 100
      0,  0,                    // message_seq
      0,  0,    0,              // fragment_offset
      0,  0,    0,              // fragment_length 0
  };
  for (int i = 0; i < 10; ++i) p.server->ProcessDatagram(record);
  EXPECT_EQ(p.server_peer.connected, 0);
  // OpenSSL rejects the message as malformed: a clean, terminal failure with
  // at most an alert sent, and later input is ignored.
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_EQ(p.server_peer.failed, 1);
  EXPECT_LE(p.server_peer.sent.size(), 1u);
  p.server->ProcessDatagram(record);
  EXPECT_EQ(p.server_peer.failed, 1);
  // A fresh transport (the owner's recovery) handshakes normally.
  Pair fresh;
  fresh.SetCorrectFingerprints();
  fresh.Start();
  fresh.Pump();
  fresh.ExpectConnected();
}

TEST(DtlsTransport, RetransmitsDroppedFirstFlightOnTimer) {
  Pair p({}, {}, /*retransmit_ms=*/10);
  p.SetCorrectFingerprints();
  p.Start();
  EXPECT_FALSE(p.server->NextTimeoutMs().has_value());
  ASSERT_FALSE(p.client_peer.TakeSent().empty());  // ClientHello lost
  auto timeout = p.client->NextTimeoutMs();
  ASSERT_TRUE(timeout.has_value());
  // OpenSSL 3.0 may back off once while sending the first flight.
  EXPECT_LE(*timeout, 20);
  p.client->OnTimer();  // not expired yet: nothing resent
  for (int i = 0; i < 100 && p.client_peer.sent.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(*p.client->NextTimeoutMs() + 1));
    p.client->OnTimer();
  }
  ASSERT_FALSE(p.client_peer.sent.empty());
  // Next timer backed off.
  auto next = p.client->NextTimeoutMs();
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, *timeout);
  EXPECT_LE(*next, 4000);
  p.Pump();
  p.ExpectConnected();
}

TEST(DtlsTransport, RetransmitsAfterDroppedServerFlight) {
  Pair p({}, {}, /*retransmit_ms=*/10);
  p.SetCorrectFingerprints();
  p.Start();
  int server_flights_dropped = 0;
  p.Pump([&](bool from_client, const Datagram&) {
    if (!from_client && server_flights_dropped < 1) {
      return true;
    }
    return false;
  });
  // Pump drops every server datagram of the first exchange; mark it done.
  server_flights_dropped = 1;
  EXPECT_EQ(p.client->state(), DtlsState::kConnecting);
  for (int i = 0; i < 100 && p.client->state() != DtlsState::kConnected; ++i) {
    auto t = p.client->NextTimeoutMs();
    ASSERT_TRUE(t.has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(*t + 1));
    p.client->OnTimer();
    p.server->OnTimer();
    p.Pump();
  }
  p.ExpectConnected();
}

// A raw OpenSSL DTLS client offering whatever the test asks for (WR-02).
class RawClient {
 public:
  RawClient(const char* ciphers, const DtlsCertificate& cert) {
    ctx_ = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_set_security_level(ctx_, 0);  // allow NULL / weak suites to be offered
    SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx_, DTLS1_2_VERSION);
    ok_ = SSL_CTX_set_cipher_list(ctx_, ciphers) == 1;
    (void)SSL_CTX_set_tlsext_use_srtp(ctx_, "SRTP_AES128_CM_SHA1_80");
    SSL_CTX_use_certificate(ctx_, cert.certificate());
    SSL_CTX_use_PrivateKey(ctx_, cert.private_key());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    ssl_ = SSL_new(ctx_);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);
    SSL_set_connect_state(ssl_);
  }
  ~RawClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  // Returns true when the handshake completed.
  bool Step() { return SSL_do_handshake(ssl_) == 1; }
  std::vector<Datagram> TakeSent() {
    std::vector<Datagram> out;
    const size_t n = BIO_ctrl_pending(wbio_);
    if (n > 0) {
      Datagram d(n);
      BIO_read(wbio_, d.data(), static_cast<int>(n));
      out.push_back(std::move(d));
    }
    return out;
  }
  void Receive(const Datagram& d) { BIO_write(rbio_, d.data(), static_cast<int>(d.size())); }
  bool Renegotiate() { return SSL_renegotiate(ssl_) == 1; }
  bool Write(const Datagram& d) {
    return SSL_write(ssl_, d.data(), static_cast<int>(d.size())) == static_cast<int>(d.size());
  }
  // Reads whatever arrived (alerts included); returns the bytes of app data.
  int Read() {
    std::array<uint8_t, 1500> buf{};
    return SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  bool ok_ = false;
};

class WeakCipherTest : public testing::TestWithParam<const char*> {};

TEST_P(WeakCipherTest, ServerRefusesClientOfferingOnlyWeakSuites) {
  auto client_cert = NewCert();
  auto server_cert = NewCert();
  RawClient raw(GetParam(), *client_cert);
  ASSERT_TRUE(raw.ok()) << GetParam();
  Peer server_peer;
  DtlsConfig sc;
  sc.certificate = server_cert.get();
  auto server = DtlsTransport::Create(sc, &server_peer);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->SetRemoteFingerprint("sha-256", client_cert->fingerprint()).ok());
  ASSERT_TRUE((*server)->Start().ok());
  bool done = false;
  for (int round = 0; round < 20 && !done; ++round) {
    done = raw.Step();
    for (const auto& d : raw.TakeSent()) (*server)->ProcessDatagram(d);
    for (const auto& d : server_peer.TakeSent()) raw.Receive(d);
  }
  EXPECT_FALSE(done);
  EXPECT_EQ((*server)->state(), DtlsState::kFailed);
  ExpectNoKeys(server_peer);
}

// WR-02: a renegotiation attempt after the handshake is refused (OpenSSL
// answers no_renegotiation); no second key export, the session keeps working.
TEST(DtlsTransport, RenegotiationIsRefused) {
  auto client_cert = NewCert();
  auto server_cert = NewCert();
  RawClient raw("ECDHE-ECDSA-AES128-GCM-SHA256", *client_cert);
  ASSERT_TRUE(raw.ok());
  Peer server_peer;
  DtlsConfig sc;
  sc.certificate = server_cert.get();
  auto server = DtlsTransport::Create(sc, &server_peer);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->SetRemoteFingerprint("sha-256", client_cert->fingerprint()).ok());
  ASSERT_TRUE((*server)->Start().ok());
  bool done = false;
  for (int round = 0; round < 20 && !done; ++round) {
    done = raw.Step();
    for (const auto& d : raw.TakeSent()) (*server)->ProcessDatagram(d);
    for (const auto& d : server_peer.TakeSent()) raw.Receive(d);
  }
  ASSERT_TRUE(done);
  ASSERT_EQ((*server)->state(), DtlsState::kConnected) << server_peer.failure;
  ASSERT_EQ(server_peer.connected, 1);
  EXPECT_EQ(server_peer.keys->profile, SrtpProfile::kAes128CmHmacSha1_80);

  ASSERT_TRUE(raw.Renegotiate());
  size_t client_hellos = 0;
  std::vector<Datagram> replies;
  for (int round = 0; round < 5; ++round) {
    (void)raw.Step();
    for (const auto& d : raw.TakeSent()) {
      ++client_hellos;
      (*server)->ProcessDatagram(d);
    }
    for (auto& d : server_peer.TakeSent()) {
      raw.Receive(d);
      replies.push_back(std::move(d));
    }
    (void)raw.Read();
  }
  EXPECT_GE(client_hellos, 1u);
  // The server answers with one short alert record (no_renegotiation), never
  // a ServerHello flight, and exports nothing new. OpenSSL's client then
  // aborts with a fatal alert, which fails our side: also acceptable (WR-02).
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0][0], 21);  // alert
  EXPECT_LT(replies[0].size(), 64u);
  EXPECT_EQ(server_peer.connected, 1);
  EXPECT_NE((*server)->state(), DtlsState::kConnecting);
}

INSTANTIATE_TEST_SUITE_P(Wr02, WeakCipherTest,
                         testing::Values("AES128-GCM-SHA256:AES256-GCM-SHA384",  // no PFS
                                         "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384",  // CBC
                                         "ECDHE-ECDSA-NULL-SHA:NULL-SHA256"));  // NULL

}  // namespace
}  // namespace aegis::rtc
