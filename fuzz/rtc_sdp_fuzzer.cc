// libFuzzer target for the SDP parser, writer and negotiation (untrusted
// offers from browsers). Invariants (FZ-02): a parsed model writes, and the
// text parses back to an equal model; BuildAnswer never crashes and, when it
// succeeds, its answer writes and parses; BuildSubscribeOffer fed with the
// offer's own (hostile) codecs and ids either fails cleanly or writes.
// Seeds: fuzz/corpus/rtc_sdp (the browser fixtures of tests/rtc/sdp).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rtc/sdp/negotiation.h"
#include "rtc/sdp/sdp.h"

namespace {

using aegis::Result;
using namespace aegis::rtc;  // NOLINT(google-build-using-namespace)

[[noreturn]] void Die() { std::abort(); }

const LocalCapabilities& Caps() {
  static const LocalCapabilities caps = [] {
    LocalCapabilities c;
    c.ice_ufrag = "fuzzUfrag";
    c.ice_pwd = "fuzzPassword0123456789ab";
    c.fingerprint = {"sha-256",
                     "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:"
                     "33:44:55:66:77:88:99"};
    IceCandidate udp;
    udp.foundation = "1";
    udp.priority = 2130706431;
    udp.address = "192.0.2.1";
    udp.port = 40000;
    IceCandidate tcp = udp;
    tcp.foundation = "2";
    tcp.transport = "tcp";
    tcp.tcp_type = "passive";
    c.candidates = {udp, tcp};
    return c;
  }();
  return caps;
}

// Writes `model`, parses the text back and requires equality.
void WriteAndReparse(const SessionDescription& model, bool allow_too_large) {
  Result<std::string> text = WriteSdp(model);
  if (!text.ok()) {
    if (allow_too_large && text.status().code() == "sdp_too_large") return;
    Die();
  }
  Result<SessionDescription> again = ParseSdp(*text);
  if (!again.ok() || !(*again == model)) Die();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseCandidate(text);

  Result<SessionDescription> offer = ParseSdp(text);
  if (!offer.ok()) return 0;
  // CRLF normalisation can grow LF-only input; only then may the writer hit its cap.
  WriteAndReparse(*offer, size > kMaxSdpBytes / 2);

  Result<SessionDescription> answer = BuildAnswer(*offer, Caps());
  if (answer.ok()) WriteAndReparse(*answer, false);

  SubscribeOfferOptions options;
  for (const MediaSection& m : offer->media) {
    if (!m.IsRtp() || m.codecs.empty()) continue;
    SubscribeTrack t;
    t.mid = m.mid.empty() ? "x" + std::to_string(options.tracks.size()) : m.mid;
    t.kind = m.kind;
    t.codecs = m.codecs;
    t.extensions = m.extmaps;
    t.ssrc = m.ssrcs.empty() ? 1 : m.ssrcs.front().ssrc;
    if (m.ssrcs.size() > 1) t.rtx_ssrc = m.ssrcs.back().ssrc;
    t.cname = m.ssrcs.empty() || !m.ssrcs.front().value ? "c" : *m.ssrcs.front().value;
    t.stream_id = m.msids.empty() ? "-" : m.msids.front().stream_id;
    t.track_id =
        m.msids.empty() || m.msids.front().track_id.empty() ? "t" : m.msids.front().track_id;
    options.tracks.push_back(std::move(t));
  }
  options.data_channel = size % 2 == 0;
  Result<SessionDescription> sub = BuildSubscribeOffer(options, Caps());
  if (sub.ok()) {
    // Hostile codec names/fmtp can be valid for the model yet unwritable
    // (e.g. a space inside a codec name): the writer must refuse cleanly.
    Result<std::string> written = WriteSdp(*sub);
    if (written.ok()) {
      Result<SessionDescription> again = ParseSdp(*written);
      if (!again.ok() || !(*again == *sub)) Die();
    }
  }
  return 0;
}
