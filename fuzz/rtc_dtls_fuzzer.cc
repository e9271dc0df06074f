// libFuzzer target for DtlsTransport (FZ-01, WR-02/WR-04): the input's first
// byte picks the role, the rest is a sequence of datagrams, each prefixed by
// a 2-byte big-endian length. A transport that fails or closes is recreated
// (mediasoup habit) so later datagrams still reach a live handshake.
// Invariants: nothing crashes or hangs, every emitted datagram fits the MTU,
// and the transport never connects: the remote fingerprint is pinned to a
// certificate whose key the input cannot know.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "rtc/dtls/dtls_certificate.h"
#include "rtc/dtls/dtls_transport.h"

namespace {

using aegis::rtc::DtlsCertificate;
using aegis::rtc::DtlsConfig;
using aegis::rtc::DtlsRole;
using aegis::rtc::DtlsState;
using aegis::rtc::DtlsTransport;
using aegis::rtc::SrtpKeys;

void Check(bool condition) {
  if (!condition) std::abort();
}

class Sink : public DtlsTransport::Listener {
 public:
  void OnDtlsSend(std::span<const uint8_t> d) override {
    Check(!d.empty() && d.size() <= aegis::rtc::kDtlsDefaultMtu);
  }
  void OnDtlsConnected(const SrtpKeys& /*keys*/) override { std::abort(); }
  void OnDtlsFailed(const std::string& /*reason*/) override {}
  void OnDtlsApplicationData(std::span<const uint8_t> /*data*/) override { std::abort(); }
};

const DtlsCertificate& LocalCert() {
  static const std::unique_ptr<DtlsCertificate> cert = [] {
    auto c = DtlsCertificate::Generate();
    Check(c.ok());
    return std::move(c).value();
  }();
  return *cert;
}

const std::string& UnreachableFingerprint() {
  static const std::string fp = [] {
    auto c = DtlsCertificate::Generate();
    Check(c.ok());
    return (*c)->fingerprint();
  }();
  return fp;
}

std::unique_ptr<DtlsTransport> NewTransport(DtlsRole role, Sink* sink) {
  DtlsConfig config;
  config.role = role;
  config.certificate = &LocalCert();
  auto t = DtlsTransport::Create(config, sink);
  Check(t.ok());
  Check((*t)->SetRemoteFingerprint("sha-256", UnreachableFingerprint()).ok());
  Check((*t)->Start().ok());
  return std::move(t).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const DtlsRole role = (data[0] & 1) ? DtlsRole::kClient : DtlsRole::kServer;
  Sink sink;
  std::unique_ptr<DtlsTransport> transport = NewTransport(role, &sink);
  size_t pos = 1;
  while (pos + 2 <= size) {
    const size_t len = (static_cast<size_t>(data[pos]) << 8) | data[pos + 1];
    pos += 2;
    const size_t take = len < size - pos ? len : size - pos;
    transport->ProcessDatagram(std::span<const uint8_t>(data + pos, take));
    pos += take;
    (void)transport->NextTimeoutMs();
    Check(transport->state() != DtlsState::kConnected);
    if (transport->state() == DtlsState::kFailed || transport->state() == DtlsState::kClosed) {
      transport = NewTransport(role, &sink);
    }
  }
  return 0;
}
