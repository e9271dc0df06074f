// Parser and writer on real-shaped browser SDPs: every field a browser sends
// lands in the model, and parse -> write -> parse gives an equal model.
#include <gtest/gtest.h>

#include <string>

#include "rtc/sdp/sdp.h"
#include "sdp_test_util.h"

namespace aegis::rtc {
namespace {

using testing::kFixtures;
using testing::ReadFixture;

SessionDescription MustParse(const std::string& text) {
  Result<SessionDescription> r = ParseSdp(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : SessionDescription{};
}

const Extmap* FindExt(const MediaSection& m, uint16_t id) {
  for (const Extmap& e : m.extmaps) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

TEST(SdpParse, AllFixturesParse) {
  for (const char* name : kFixtures) {
    const std::string text = ReadFixture(name);
    ASSERT_FALSE(text.empty()) << name;
    Result<SessionDescription> r = ParseSdp(text);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
  }
}

TEST(SdpParse, ChromiumSimulcastOffer) {
  const SessionDescription s = MustParse(ReadFixture("chromium_publish_simulcast.sdp"));
  EXPECT_EQ(s.origin.username, "-");
  EXPECT_EQ(s.origin.session_id, 6726219893127350541u);
  EXPECT_EQ(s.origin.session_version, 2u);
  EXPECT_EQ(s.origin.address, "127.0.0.1");
  EXPECT_TRUE(s.extmap_allow_mixed);
  ASSERT_TRUE(s.msid_semantic.has_value());
  EXPECT_EQ(s.msid_semantic->semantic, "WMS");
  ASSERT_EQ(s.msid_semantic->ids.size(), 1u);
  ASSERT_NE(s.FindGroup("BUNDLE"), nullptr);
  EXPECT_EQ(s.FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(s.media.size(), 2u);

  const MediaSection& audio = s.media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.port, 9);
  EXPECT_EQ(audio.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.direction, MediaDirection::kSendOnly);
  EXPECT_EQ(audio.ice.ufrag, "Vq7k");
  EXPECT_EQ(audio.ice.pwd, "Zc2v0ubz8d3Xq1mBQ9kHnL+4");
  EXPECT_EQ(audio.ice.options, (std::vector<std::string>{"trickle"}));
  ASSERT_EQ(audio.fingerprints.size(), 1u);
  EXPECT_EQ(audio.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(audio.setup, SetupRole::kActPass);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_TRUE(audio.rtcp_rsize);
  ASSERT_EQ(audio.codecs.size(), 8u);
  const RtpCodec* opus = audio.FindCodec(111);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->encoding_name, "opus");
  EXPECT_EQ(opus->clock_rate, 48000u);
  EXPECT_EQ(opus->channels, 2);
  EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(opus->feedback, (std::vector<std::string>{"transport-cc"}));
  EXPECT_EQ(audio.FindCodec(0)->encoding_name, "PCMU");
  EXPECT_EQ(audio.FindCodec(0)->channels, 0);
  ASSERT_EQ(audio.msids.size(), 1u);
  EXPECT_EQ(audio.msids[0].track_id, "2e1f5d0c-7a7b-4c55-b1a0-6f3e0d9b8c21");
  ASSERT_EQ(audio.ssrcs.size(), 2u);
  EXPECT_EQ(audio.ssrcs[0].ssrc, 3104785213u);
  EXPECT_EQ(audio.ssrcs[0].attribute, "cname");
  EXPECT_EQ(audio.ssrcs[0].value, "u4Hq8yJ0cWkDpT2n");
  EXPECT_EQ(audio.ssrcs[1].attribute, "msid");
  // a=rtcp is not modelled: kept as a name/value pair.
  ASSERT_EQ(audio.other_attributes.size(), 1u);
  EXPECT_EQ(audio.other_attributes[0].name, "rtcp");
  EXPECT_EQ(audio.other_attributes[0].value, "9 IN IP4 0.0.0.0");

  const MediaSection& video = s.media[1];
  EXPECT_EQ(video.codecs.size(), 25u);
  EXPECT_EQ(video.codecs[0].payload_type, 96);
  EXPECT_EQ(video.codecs[0].encoding_name, "VP8");
  EXPECT_EQ(video.codecs[0].feedback.size(), 5u);
  EXPECT_EQ(video.codecs[0].feedback[4], "nack pli");
  EXPECT_EQ(video.FindCodec(97)->fmtp, "apt=96");
  EXPECT_EQ(FmtpParameter(video.FindCodec(106)->fmtp, "profile-level-id"), "42e01f");
  ASSERT_NE(FindExt(video, 10), nullptr);
  EXPECT_EQ(FindExt(video, 10)->uri, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
  EXPECT_EQ(video.extmaps.size(), 11u);
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "q");
  EXPECT_EQ(video.rids[0].direction, RidDirection::kSend);
  ASSERT_TRUE(video.simulcast.has_value());
  ASSERT_EQ(video.simulcast->send.size(), 3u);
  EXPECT_EQ(video.simulcast->send[2][0].id, "f");
  EXPECT_TRUE(video.simulcast->recv.empty());
  EXPECT_TRUE(video.ssrcs.empty());
}

TEST(SdpParse, ChromiumPlainOfferCandidatesAndSsrcGroups) {
  const SessionDescription s = MustParse(ReadFixture("chromium_publish_plain.sdp"));
  const MediaSection& audio = s.media[0];
  EXPECT_EQ(audio.port, 54609);
  ASSERT_TRUE(audio.connection.has_value());
  EXPECT_EQ(audio.connection->address, "203.0.113.45");
  ASSERT_EQ(audio.candidates.size(), 4u);
  const IceCandidate& host = audio.candidates[0];
  EXPECT_EQ(host.foundation, "1467250027");
  EXPECT_EQ(host.component, 1);
  EXPECT_EQ(host.transport, "udp");
  EXPECT_EQ(host.priority, 2122260223u);
  EXPECT_EQ(host.address, "192.168.1.23");
  EXPECT_EQ(host.port, 54609);
  EXPECT_EQ(host.type, "host");
  ASSERT_EQ(host.extensions.size(), 3u);
  EXPECT_EQ(host.extensions[0], (std::pair<std::string, std::string>{"generation", "0"}));
  EXPECT_EQ(audio.candidates[1].address, "3f1c0a2b-6d7e-4b8a-9c1d-0e2f3a4b5c6d.local");
  const IceCandidate& srflx = audio.candidates[2];
  EXPECT_EQ(srflx.type, "srflx");
  EXPECT_EQ(srflx.related_address, "192.168.1.23");
  EXPECT_EQ(srflx.related_port, 54609);
  EXPECT_EQ(audio.candidates[3].tcp_type, "active");
  EXPECT_EQ(audio.candidates[3].port, 9);

  const MediaSection& video = s.media[1];
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{1722396128u, 2581043398u}));
  EXPECT_EQ(video.ssrcs.size(), 4u);
  EXPECT_FALSE(video.simulcast.has_value());
}

TEST(SdpParse, ChromiumRecvonlyWithDataChannel) {
  const SessionDescription s = MustParse(ReadFixture("chromium_recvonly_datachannel.sdp"));
  ASSERT_EQ(s.media.size(), 3u);
  EXPECT_EQ(s.media[0].direction, MediaDirection::kRecvOnly);
  EXPECT_EQ(s.media[1].direction, MediaDirection::kRecvOnly);
  ASSERT_TRUE(s.msid_semantic.has_value());
  EXPECT_TRUE(s.msid_semantic->ids.empty());
  const MediaSection& data = s.media[2];
  EXPECT_EQ(data.kind, "application");
  EXPECT_EQ(data.proto, "UDP/DTLS/SCTP");
  EXPECT_FALSE(data.IsRtp());
  EXPECT_TRUE(data.codecs.empty());
  EXPECT_EQ(data.formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 262144u);
  EXPECT_FALSE(data.direction.has_value());
}

TEST(SdpParse, FirefoxOffer) {
  const SessionDescription s = MustParse(ReadFixture("firefox_publish.sdp"));
  EXPECT_EQ(s.origin.username, "mozilla...THIS_IS_SDPARTA-121.0");
  ASSERT_EQ(s.fingerprints.size(), 1u);  // session level in Firefox
  EXPECT_EQ(s.ice.options, (std::vector<std::string>{"trickle"}));
  ASSERT_EQ(s.media.size(), 3u);
  const MediaSection& audio = s.media[0];
  EXPECT_TRUE(audio.fingerprints.empty());
  EXPECT_EQ(audio.ice.ufrag, "5d8e2a4f");
  EXPECT_TRUE(audio.end_of_candidates);
  ASSERT_EQ(audio.candidates.size(), 3u);
  EXPECT_EQ(audio.candidates[0].transport, "UDP");
  EXPECT_EQ(audio.candidates[1].tcp_type, "active");
  // fmtp comes before rtpmap in Firefox; both end up on the same codec.
  EXPECT_EQ(audio.FindCodec(109)->encoding_name, "opus");
  EXPECT_EQ(audio.FindCodec(109)->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  EXPECT_EQ(audio.FindCodec(9)->channels, 1);
  ASSERT_NE(FindExt(audio, 2), nullptr);
  EXPECT_EQ(FindExt(audio, 2)->direction, MediaDirection::kRecvOnly);
  const MediaSection& video = s.media[1];
  EXPECT_EQ(video.FindCodec(126)->encoding_name, "H264");
  EXPECT_EQ(video.FindCodec(126)->feedback.size(), 5u);
  EXPECT_EQ(video.ssrc_groups.size(), 3u);
  EXPECT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(s.media[2].direction, MediaDirection::kSendRecv);
  EXPECT_EQ(s.media[2].max_message_size, 1073741823u);
}

TEST(SdpRoundTrip, EveryFixtureSurvivesParseWriteParse) {
  for (const char* name : kFixtures) {
    const SessionDescription first = MustParse(ReadFixture(name));
    Result<std::string> text = WriteSdp(first);
    ASSERT_TRUE(text.ok()) << name << ": " << text.status().ToString();
    const SessionDescription second = MustParse(*text);
    EXPECT_EQ(first, second) << name;
    // Writing is deterministic and idempotent.
    Result<std::string> again = WriteSdp(second);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*text, *again) << name;
  }
}

TEST(SdpRoundTrip, WriterUsesCrlfOnly) {
  const SessionDescription s = MustParse(ReadFixture("firefox_publish.sdp"));
  const std::string text = *WriteSdp(s);
  ASSERT_GE(text.size(), 2u);
  EXPECT_EQ(text.substr(0, 5), "v=0\r\n");
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      EXPECT_EQ(text[i - 1], '\r') << "bare LF at " << i;
    }
  }
  EXPECT_NE(text.find("a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"),
            std::string::npos);
  EXPECT_NE(text.find("a=simulcast:send q;h;f\r\n"), std::string::npos);
}

TEST(SdpParse, AcceptsLfOnlyLineEndsAndBlankTrailingLines) {
  std::string text = ReadFixture("chromium_publish_plain.sdp");
  std::string lf;
  for (char c : text) {
    if (c != '\r') lf.push_back(c);
  }
  const SessionDescription a = MustParse(text);
  const SessionDescription b = MustParse(lf + "\n\n");
  EXPECT_EQ(a, b);
}

TEST(SdpParse, SimulcastAlternativesAndPaused) {
  const std::string text =
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\n"
      "a=rid:a send pt=96;max-width=1280\r\na=rid:b send\r\na=rid:c recv\r\n"
      "a=simulcast:send a,~b recv c\r\n";
  const SessionDescription s = MustParse(text);
  const Simulcast& sim = *s.media[0].simulcast;
  ASSERT_EQ(sim.send.size(), 1u);
  ASSERT_EQ(sim.send[0].size(), 2u);
  EXPECT_FALSE(sim.send[0][0].paused);
  EXPECT_TRUE(sim.send[0][1].paused);
  EXPECT_EQ(sim.recv[0][0].id, "c");
  EXPECT_EQ(s.media[0].rids[0].params, "pt=96;max-width=1280");
  EXPECT_EQ(MustParse(*WriteSdp(s)), s);
}

TEST(SdpParse, SessionLevelDirectionIsKeptAsAnAttribute) {
  // RFC 8866 allows a session-level direction; WebRTC never sends one.
  const SessionDescription s =
      MustParse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=recvonly\r\n");
  EXPECT_TRUE(s.HasAttribute("recvonly"));
  EXPECT_TRUE(s.media.empty());
  EXPECT_EQ(MustParse(*WriteSdp(s)), s);
}

TEST(SdpCandidate, TrickleCandidateParsesAndWrites) {
  const std::string line =
      "candidate:842163049 1 udp 1686052607 203.0.113.45 54609 typ srflx raddr 192.168.1.23 "
      "rport 54609 generation 0 ufrag b8Ty network-id 1";
  Result<IceCandidate> c = ParseCandidate(line);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->related_port, 54609);
  EXPECT_EQ(c->extensions.size(), 3u);
  EXPECT_TRUE(ParseCandidate("a=" + line).ok());
  Result<std::string> written = WriteCandidate(*c);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, line);

  EXPECT_EQ(ParseCandidate("candidate:1 1 udp 1 1.2.3.4 70000 typ host").status().code(),
            "sdp_malformed");
  EXPECT_EQ(ParseCandidate("candidate:1 1 udp 1 1.2.3.4 7 typ host\r\na=x").status().code(),
            "sdp_illegal_char");
  EXPECT_EQ(ParseCandidate("foo").status().code(), "sdp_malformed");
}

TEST(SdpFmtp, ParameterLookup) {
  const std::string f = "level-asymmetry-allowed=1; packetization-mode=1;Profile-Level-Id=42e01f";
  EXPECT_EQ(FmtpParameter(f, "packetization-mode"), "1");
  EXPECT_EQ(FmtpParameter(f, "profile-level-id"), "42e01f");
  EXPECT_FALSE(FmtpParameter(f, "apt").has_value());
  EXPECT_FALSE(FmtpParameter("", "apt").has_value());
  EXPECT_EQ(FmtpParameter("apt=96", "apt"), "96");
}

// FZ-10: nothing a caller puts in the model can add a line to what we emit.
TEST(SdpWriter, RejectsLineInjectionInEveryKindOfField) {
  const SessionDescription base = MustParse(ReadFixture("chromium_publish_plain.sdp"));
  struct Case {
    const char* what;
    void (*mutate)(SessionDescription&);
  };
  const Case cases[] = {
      {"session name CRLF", [](SessionDescription& s) { s.session_name = "x\r\na=ice-lite"; }},
      {"origin user NUL",
       [](SessionDescription& s) { s.origin.username = std::string("a\0b", 3); }},
      {"mid LF", [](SessionDescription& s) { s.media[0].mid = "0\na=mid:9"; }},
      {"ufrag CR", [](SessionDescription& s) { s.media[0].ice.ufrag = "abcd\r"; }},
      {"msid track CRLF",
       [](SessionDescription& s) { s.media[0].msids[0].track_id = "t\r\na=crypto:1"; }},
      {"ssrc cname LF", [](SessionDescription& s) { s.media[1].ssrcs[0].value = "c\nv=0"; }},
      {"fmtp CR", [](SessionDescription& s) { s.media[1].codecs[0].fmtp = "x=1\rfoo"; }},
      {"candidate address LF",
       [](SessionDescription& s) { s.media[0].candidates[0].address = "1.2.3.4\n"; }},
      {"other attribute value CRLF",
       [](SessionDescription& s) { s.media[0].other_attributes[0].value = "9\r\na=setup:active"; }},
      {"rid id with space", [](SessionDescription& s) { s.media[1].rids.push_back({"a b"}); }},
      {"extmap uri with space",
       [](SessionDescription& s) { s.media[1].extmaps[0].uri = "urn:x a=evil"; }},
      {"payload type 200", [](SessionDescription& s) { s.media[1].codecs[0].payload_type = 200; }},
      {"long token", [](SessionDescription& s) { s.media[0].ice.pwd = std::string(300, 'a'); }},
  };
  for (const Case& c : cases) {
    SessionDescription s = base;
    c.mutate(s);
    Result<std::string> out = WriteSdp(s);
    EXPECT_FALSE(out.ok()) << c.what;
  }
  SessionDescription ok = base;
  EXPECT_TRUE(WriteSdp(ok).ok());
  SessionDescription cr = base;
  cr.session_name = "x\r\na=ice-lite";
  EXPECT_EQ(WriteSdp(cr).status().code(), "sdp_illegal_char");
}

TEST(SdpWriter, WriterOverflowClassIsBoundedNotCrashing) {
  // CVE-2020-13901 was a writer overflow: build a model with maximal fields
  // everywhere and check the writer refuses (too large) rather than misbehaves.
  SessionDescription s = MustParse(ReadFixture("chromium_publish_simulcast.sdp"));
  const MediaSection video = s.media[1];
  while (s.media.size() < kMaxSdpMediaSections) {
    MediaSection m = video;
    m.mid = "m" + std::to_string(s.media.size()) + std::string(200, 'x');
    s.media.push_back(m);
  }
  Result<std::string> out = WriteSdp(s);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), "sdp_too_large");
}

}  // namespace
}  // namespace aegis::rtc
