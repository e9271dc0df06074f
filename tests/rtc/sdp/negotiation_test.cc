// BuildAnswer on browser offers (what a browser needs is in the answer, and
// nothing we cannot receive), WR-01 rejections each with its own message, and
// BuildSubscribeOffer including its FZ-10 input checks.
#include "rtc/sdp/negotiation.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sdp_test_util.h"

namespace aegis::rtc {
namespace {

using testing::ReadFixture;
using testing::ServerCaps;

SessionDescription ParseOrDie(const std::string& text) {
  Result<SessionDescription> r = ParseSdp(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : SessionDescription{};
}

// Builds the answer, writes it, parses the text back and returns that model,
// so every check below is on what the browser would actually receive.
SessionDescription AnswerFor(const std::string& fixture, std::string* text_out = nullptr) {
  const SessionDescription offer = ParseOrDie(ReadFixture(fixture));
  Result<SessionDescription> answer = BuildAnswer(offer, ServerCaps());
  EXPECT_TRUE(answer.ok()) << fixture << ": " << answer.status().ToString();
  if (!answer.ok()) return {};
  Result<std::string> text = WriteSdp(*answer);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return {};
  if (text_out != nullptr) *text_out = *text;
  return ParseOrDie(*text);
}

std::vector<uint8_t> Pts(const MediaSection& m) {
  std::vector<uint8_t> out;
  for (const RtpCodec& c : m.codecs) out.push_back(c.payload_type);
  return out;
}

std::vector<uint16_t> ExtIds(const MediaSection& m) {
  std::vector<uint16_t> out;
  for (const Extmap& e : m.extmaps) out.push_back(e.id);
  return out;
}

void ExpectServerTransport(const MediaSection& m) {
  EXPECT_EQ(m.ice.ufrag, "aegisSrv");
  EXPECT_EQ(m.ice.pwd, "Srv0pwd1Srv0pwd1Srv0pwd1");
  ASSERT_EQ(m.fingerprints.size(), 1u);
  EXPECT_EQ(m.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(m.fingerprints[0].value, testing::kServerFingerprint);
  EXPECT_EQ(m.setup, SetupRole::kPassive);
  ASSERT_EQ(m.candidates.size(), 2u);
  EXPECT_EQ(m.candidates[0].transport, "udp");
  EXPECT_EQ(m.candidates[1].transport, "tcp");
  EXPECT_EQ(m.candidates[1].tcp_type, "passive");
  EXPECT_TRUE(m.end_of_candidates);
}

TEST(BuildAnswer, ChromiumSimulcastPublish) {
  std::string text;
  const SessionDescription a = AnswerFor("chromium_publish_simulcast.sdp", &text);
  EXPECT_TRUE(a.ice_lite);
  EXPECT_TRUE(a.extmap_allow_mixed);  // echoed: the RTP parser reads both header forms
  ASSERT_NE(a.FindGroup("BUNDLE"), nullptr);
  EXPECT_EQ(a.FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(a.media.size(), 2u);

  const MediaSection& audio = a.media[0];
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(audio.direction, MediaDirection::kRecvOnly);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_TRUE(audio.rtcp_rsize);
  ExpectServerTransport(audio);
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].payload_type, 111);
  EXPECT_EQ(audio.codecs[0].encoding_name, "opus");
  EXPECT_EQ(audio.codecs[0].channels, 2);
  EXPECT_EQ(audio.codecs[0].fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(audio.codecs[0].feedback, (std::vector<std::string>{"transport-cc"}));
  EXPECT_EQ(ExtIds(audio), (std::vector<uint16_t>{1, 2, 3, 4}));
  EXPECT_TRUE(audio.ssrcs.empty());
  EXPECT_TRUE(audio.msids.empty());

  const MediaSection& video = a.media[1];
  // VP8 + rtx, H264 42001f/42e01f with packetization-mode=1 + their rtx;
  // not pm=0, 4d001f, 64001f, AV1, VP9, red, ulpfec or red's rtx.
  EXPECT_EQ(Pts(video), (std::vector<uint8_t>{96, 97, 102, 103, 106, 107}));
  EXPECT_EQ(video.FindCodec(97)->fmtp, "apt=96");
  EXPECT_EQ(video.FindCodec(102)->fmtp,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
  EXPECT_EQ(video.FindCodec(106)->fmtp,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(video.FindCodec(96)->feedback,
            (std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}));
  EXPECT_TRUE(video.FindCodec(97)->feedback.empty());
  // Extensions keep the offer's ids: abs-send-time 2, twcc 3, mid 4, rid 10, rrid 11.
  EXPECT_EQ(ExtIds(video), (std::vector<uint16_t>{2, 3, 4, 10, 11}));
  ASSERT_EQ(video.rids.size(), 3u);
  for (const Rid& r : video.rids) EXPECT_EQ(r.direction, RidDirection::kRecv);
  ASSERT_TRUE(video.simulcast.has_value());
  EXPECT_TRUE(video.simulcast->send.empty());
  ASSERT_EQ(video.simulcast->recv.size(), 3u);
  EXPECT_EQ(video.simulcast->recv[0][0].id, "q");

  for (const char* needle :
       {"a=ice-lite\r\n", "a=group:BUNDLE 0 1\r\n", "a=setup:passive\r\n", "a=recvonly\r\n",
        "a=simulcast:recv q;h;f\r\n", "a=rid:q recv\r\n", "a=rtpmap:111 opus/48000/2\r\n",
        "a=fingerprint:sha-256 AA:BB:", "a=end-of-candidates\r\n",
        "a=candidate:tcpcandidate 1 tcp 1076302079 203.0.113.10 50001 typ host tcptype "
        "passive\r\n"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(text.find("a=crypto"), std::string::npos);
  EXPECT_EQ(text.find("VP9"), std::string::npos);
}

TEST(BuildAnswer, ChromiumPlainPublishHasNoSimulcast) {
  const SessionDescription a = AnswerFor("chromium_publish_plain.sdp");
  ASSERT_EQ(a.media.size(), 2u);
  EXPECT_FALSE(a.media[1].simulcast.has_value());
  EXPECT_TRUE(a.media[1].rids.empty());
  EXPECT_TRUE(a.media[1].ssrcs.empty());
  EXPECT_EQ(a.media[1].direction, MediaDirection::kRecvOnly);
}

TEST(BuildAnswer, ChromiumRecvonlyAndDataChannel) {
  const SessionDescription a = AnswerFor("chromium_recvonly_datachannel.sdp");
  ASSERT_EQ(a.media.size(), 3u);
  EXPECT_EQ(a.FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1", "2"}));
  // The publish connection never sends media to the client.
  EXPECT_EQ(a.media[0].direction, MediaDirection::kInactive);
  EXPECT_EQ(a.media[1].direction, MediaDirection::kInactive);
  const MediaSection& data = a.media[2];
  EXPECT_EQ(data.kind, "application");
  EXPECT_EQ(data.proto, "UDP/DTLS/SCTP");
  EXPECT_EQ(data.formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 262144u);
  EXPECT_FALSE(data.direction.has_value());
  EXPECT_FALSE(data.rtcp_mux);
  ExpectServerTransport(data);
}

TEST(BuildAnswer, FirefoxPublish) {
  const SessionDescription a = AnswerFor("firefox_publish.sdp");
  ASSERT_EQ(a.media.size(), 3u);
  EXPECT_EQ(a.FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1", "2"}));
  const MediaSection& audio = a.media[0];
  EXPECT_EQ(Pts(audio), (std::vector<uint8_t>{109}));
  EXPECT_EQ(audio.codecs[0].fmtp, "useinbandfec=1");
  // csrc-audio-level is recvonly in the offer and unsupported anyway.
  EXPECT_EQ(ExtIds(audio), (std::vector<uint16_t>{1, 3}));
  ExpectServerTransport(audio);
  const MediaSection& video = a.media[1];
  // VP8 120 + rtx 124, H264 126 (pm=1) + rtx 127; not H264 97 (pm=0) or its rtx 98.
  EXPECT_EQ(Pts(video), (std::vector<uint8_t>{120, 124, 126, 127}));
  EXPECT_EQ(ExtIds(video), (std::vector<uint16_t>{3, 4, 7, 8, 9}));
  ASSERT_TRUE(video.simulcast.has_value());
  EXPECT_EQ(video.simulcast->recv.size(), 3u);
  EXPECT_EQ(a.media[2].kind, "application");
}

TEST(BuildAnswer, IsAPureFunction) {
  const SessionDescription offer = ParseOrDie(ReadFixture("firefox_publish.sdp"));
  Result<SessionDescription> a = BuildAnswer(offer, ServerCaps());
  Result<SessionDescription> b = BuildAnswer(offer, ServerCaps());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*WriteSdp(*a), *WriteSdp(*b));
}

TEST(BuildAnswer, SectionWithoutCommonCodecIsRejectedNotFatal) {
  std::string text = ReadFixture("chromium_recvonly_datachannel.sdp");
  // Leave only VP9 on the video m-line.
  const std::string from =
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 45 46 98 99 116 117 118";
  const size_t pos = text.find(from);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, from.size(), "m=video 9 UDP/TLS/RTP/SAVPF 98 99");
  // Drop attribute lines for the removed payload types.
  std::string filtered;
  size_t p = 0;
  while (p < text.size()) {
    size_t e = text.find("\r\n", p);
    std::string line = text.substr(p, e - p);
    p = e + 2;
    bool drop = false;
    for (const char* pt :
         {"96", "97", "102", "103", "106", "107", "45", "46", "116", "117", "118"}) {
      for (const char* attr : {"a=rtpmap:", "a=rtcp-fb:", "a=fmtp:"}) {
        drop = drop || line.rfind(std::string(attr) + pt + " ", 0) == 0;
      }
    }
    if (!drop) filtered += line + "\r\n";
  }
  const SessionDescription offer = ParseOrDie(filtered);
  Result<SessionDescription> answer = BuildAnswer(offer, ServerCaps());
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  const MediaSection& video = answer->media[1];
  EXPECT_EQ(video.port, 0);
  EXPECT_EQ(video.mid, "1");
  EXPECT_EQ(answer->FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "2"}));
  Result<std::string> written = WriteSdp(*answer);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_NE(written->find("m=video 0 UDP/TLS/RTP/SAVPF 98\r\n"), std::string::npos);
}

// ---- WR-01: offers the server must refuse, each with its own message ----

constexpr const char* kFp =
    "5A:1F:C3:9E:02:B7:64:DD:8A:40:E1:7C:39:55:AF:12:90:6B:D4:28:F3:0E:71:C6:AB:58:2D:93:E4:0F:B6:"
    "17";

std::string GoodOffer() {
  return std::string(
             "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
             "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
             "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
             "a=fingerprint:sha-256 ") +
         kFp +
         "\r\na=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
         "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
         "a=fingerprint:sha-256 " +
         kFp + "\r\na=setup:actpass\r\na=sctp-port:5000\r\n";
}

std::string Edit(std::string text, const std::string& from, const std::string& to) {
  size_t pos;
  bool any = false;
  while ((pos = text.find(from)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    any = true;
    if (from.empty() || to.find(from) != std::string::npos) break;
  }
  EXPECT_TRUE(any) << from;
  return text;
}

TEST(BuildAnswer, GoodOfferIsAccepted) {
  Result<SessionDescription> a = BuildAnswer(ParseOrDie(GoodOffer()), ServerCaps());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(WriteSdp(*a).ok());
}

TEST(BuildAnswer, Wr01RejectionsEachHaveTheirOwnMessage) {
  const std::string g = GoodOffer();
  const std::string fp_line = std::string("a=fingerprint:sha-256 ") + kFp + "\r\n";
  struct Row {
    const char* name;
    std::string offer;
    const char* message_part;
  };
  const Row rows[] = {
      {"plain RTP/AVP", Edit(g, "UDP/TLS/RTP/SAVPF", "RTP/AVP"), "RTP/AVP is unencrypted RTP"},
      {"RTP/AVPF", Edit(g, "UDP/TLS/RTP/SAVPF", "RTP/AVPF"), "RTP/AVPF is unencrypted RTP"},
      {"SDES RTP/SAVP with a=crypto",
       Edit(Edit(g, "UDP/TLS/RTP/SAVPF", "RTP/SAVP"), "a=rtcp-mux\r\n",
            "a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
            "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"),
       "a=crypto (SDES-SRTP) is not allowed"},
      {"RTP/SAVP without crypto", Edit(g, "UDP/TLS/RTP/SAVPF", "RTP/SAVP"),
       "RTP/SAVP is SDES-SRTP"},
      {"session-level a=crypto",
       Edit(g, "t=0 0\r\n", "t=0 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n"),
       "a=crypto (SDES-SRTP) is not allowed; DTLS-SRTP required (RFC 8827)"},
      {"unknown proto", Edit(g, "UDP/TLS/RTP/SAVPF", "TCP/RTP/AVP"), "not supported; UDP/TLS"},
      {"no fingerprint", Edit(g, fp_line, ""), "missing a=fingerprint"},
      {"sha-1 fingerprint",
       Edit(g, "sha-256 " + std::string(kFp),
            "sha-1 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"),
       "hash 'sha-1' not supported"},
      {"short sha-256 fingerprint", Edit(g, "sha-256 " + std::string(kFp), "sha-256 AA:BB"),
       "length does not match"},
      {"no ice-ufrag", Edit(g, "a=ice-ufrag:abcd\r\n", ""), "missing a=ice-ufrag"},
      {"no ice-pwd", Edit(g, "a=ice-pwd:abcdefghijklmnopqrstuv\r\n", ""), "missing a=ice-pwd"},
      {"no rtcp-mux", Edit(g, "a=rtcp-mux\r\n", ""), "missing a=rtcp-mux"},
      {"no BUNDLE", Edit(g, "a=group:BUNDLE 0 1\r\n", ""), "missing a=group:BUNDLE"},
      {"section outside BUNDLE", Edit(g, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0"),
       "not in the a=group:BUNDLE"},
      {"BUNDLE names unknown mid", Edit(g, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 7"),
       "unknown mid '7'"},
      {"two BUNDLE groups", Edit(g, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0\r\na=group:BUNDLE 1"),
       "more than one a=group:BUNDLE"},
      {"no mid", Edit(Edit(g, "a=mid:0\r\n", ""), "BUNDLE 0 1", "BUNDLE 1"), "missing a=mid"},
      {"setup passive", Edit(g, "a=setup:actpass", "a=setup:passive"), "a=setup:passive"},
      {"setup holdconn", Edit(g, "a=setup:actpass", "a=setup:holdconn"), "a=setup:holdconn"},
      {"ice-lite offer", Edit(g, "t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n"), "offer is ICE-lite"},
      {"ICE credentials differ in BUNDLE",
       Edit(g, "a=mid:1\r\na=ice-ufrag:abcd", "a=mid:1\r\na=ice-ufrag:wxyz"),
       "ICE credentials differ"},
      {"legacy DTLS/SCTP data", Edit(g, "UDP/DTLS/SCTP webrtc-datachannel", "DTLS/SCTP 5000"),
       "data proto 'DTLS/SCTP'"},
      {"data format", Edit(g, "UDP/DTLS/SCTP webrtc-datachannel", "UDP/DTLS/SCTP other"),
       "webrtc-datachannel"},
  };
  std::set<std::string> messages;
  for (const Row& row : rows) {
    Result<SessionDescription> offer = ParseSdp(row.offer);
    ASSERT_TRUE(offer.ok()) << row.name << ": " << offer.status().ToString();
    Result<SessionDescription> a = BuildAnswer(*offer, ServerCaps());
    ASSERT_FALSE(a.ok()) << row.name;
    EXPECT_TRUE(a.status().code() == "sdp_unsupported" || a.status().code() == "sdp_malformed")
        << row.name << ": " << a.status().code();
    EXPECT_NE(a.status().message().find(row.message_part), std::string::npos)
        << row.name << ": got '" << a.status().message() << "'";
    messages.insert(a.status().message());
  }
  EXPECT_EQ(messages.size(), std::size(rows));
}

TEST(BuildAnswer, RejectsBadLocalCapabilities) {
  const SessionDescription offer = ParseOrDie(GoodOffer());
  LocalCapabilities bad = ServerCaps();
  bad.ice_ufrag = "abcd\r\na=ice-lite";
  EXPECT_EQ(BuildAnswer(offer, bad).status().code(), "sdp_illegal_char");
  bad = ServerCaps();
  bad.fingerprint.algorithm = "sha-1";
  EXPECT_EQ(BuildAnswer(offer, bad).status().code(), "sdp_invalid_argument");
  bad = ServerCaps();
  bad.candidates[0].address = "1.2.3.4\n";
  EXPECT_EQ(BuildAnswer(offer, bad).status().code(), "sdp_illegal_char");
}

TEST(BuildAnswer, UnknownKindIsRejectedSectionNotError) {
  const std::string offer_text =
      Edit(GoodOffer(), "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1") +
      "m=text 9 UDP/TLS/RTP/SAVPF 98\r\na=mid:2\r\na=rtpmap:98 t140/1000\r\n";
  Result<SessionDescription> a = BuildAnswer(ParseOrDie(offer_text), ServerCaps());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->media[2].port, 0);
  EXPECT_EQ(a->FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(WriteSdp(*a).ok());
}

// ---- subscribe offer ----

SubscribeOfferOptions TwoTracks() {
  SubscribeOfferOptions o;
  SubscribeTrack audio;
  audio.mid = "a0";
  audio.kind = "audio";
  RtpCodec opus;
  opus.payload_type = 111;
  opus.encoding_name = "opus";
  opus.clock_rate = 48000;
  opus.channels = 2;
  opus.fmtp = "minptime=10;useinbandfec=1";
  opus.feedback = {"transport-cc"};
  audio.codecs = {opus};
  audio.extensions = {{1, std::nullopt, std::string(kExtAudioLevel), ""},
                      {4, std::nullopt, std::string(kExtMid), ""}};
  audio.ssrc = 11111111;
  audio.cname = "aegis-cname";
  audio.stream_id = "alice";
  audio.track_id = "alice-mic";

  SubscribeTrack video;
  video.mid = "v0";
  video.kind = "video";
  RtpCodec vp8;
  vp8.payload_type = 96;
  vp8.encoding_name = "VP8";
  vp8.clock_rate = 90000;
  vp8.feedback = {"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"};
  RtpCodec rtx;
  rtx.payload_type = 97;
  rtx.encoding_name = "rtx";
  rtx.clock_rate = 90000;
  rtx.fmtp = "apt=96";
  video.codecs = {vp8, rtx};
  video.extensions = {{3, std::nullopt, std::string(kExtTransportCc), ""},
                      {4, std::nullopt, std::string(kExtMid), ""}};
  video.ssrc = 22222222;
  video.rtx_ssrc = 33333333;
  video.cname = "aegis-cname";
  video.stream_id = "alice";
  video.track_id = "alice-cam";
  o.tracks = {audio, video};
  o.data_channel = true;
  return o;
}

TEST(BuildSubscribeOffer, TracksAndDataChannel) {
  Result<SessionDescription> offer = BuildSubscribeOffer(TwoTracks(), ServerCaps());
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  Result<std::string> text = WriteSdp(*offer);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const SessionDescription s = ParseOrDie(*text);
  EXPECT_EQ(s, *offer);
  EXPECT_TRUE(s.ice_lite);
  EXPECT_EQ(s.FindGroup("BUNDLE")->mids, (std::vector<std::string>{"a0", "v0", "data"}));
  ASSERT_EQ(s.media.size(), 3u);
  for (const MediaSection& m : s.media) {
    EXPECT_EQ(m.setup, SetupRole::kActPass);
    EXPECT_EQ(m.ice.ufrag, "aegisSrv");
    EXPECT_EQ(m.fingerprints.size(), 1u);
    EXPECT_EQ(m.candidates.size(), 2u);
  }
  const MediaSection& video = s.media[1];
  EXPECT_EQ(video.direction, MediaDirection::kSendOnly);
  EXPECT_TRUE(video.rtcp_mux);
  EXPECT_EQ(Pts(video), (std::vector<uint8_t>{96, 97}));
  EXPECT_EQ(ExtIds(video), (std::vector<uint16_t>{3, 4}));
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{22222222u, 33333333u}));
  ASSERT_EQ(video.msids.size(), 1u);
  EXPECT_EQ(video.msids[0], (Msid{"alice", "alice-cam"}));
  EXPECT_EQ(video.ssrcs.size(), 4u);
  EXPECT_EQ(s.media[0].ssrcs.size(), 2u);  // no rtx for audio
  EXPECT_EQ(s.media[2].sctp_port, 5000);
  for (const char* needle :
       {"a=ssrc-group:FID 22222222 33333333\r\n", "a=ssrc:22222222 cname:aegis-cname\r\n",
        "a=msid:alice alice-cam\r\n", "a=sendonly\r\n", "a=setup:actpass\r\n"}) {
    EXPECT_NE(text->find(needle), std::string::npos) << needle;
  }
}

TEST(BuildSubscribeOffer, RejectsBadInputs) {
  SubscribeOfferOptions o = TwoTracks();
  o.tracks[1].track_id = "cam\r\na=setup:active";  // FZ-10 injection via a user id
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_illegal_char");
  o = TwoTracks();
  o.tracks[0].cname = std::string("c\0x", 3);
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_illegal_char");
  o = TwoTracks();
  o.tracks[1].mid = "a0";
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_invalid_argument");
  o = TwoTracks();
  o.tracks[1].codecs[1].payload_type = 200;
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_invalid_argument");
  o = TwoTracks();
  o.tracks[1].extensions[0].id = 15;
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_invalid_argument");
  o = TwoTracks();
  o.tracks[1].rtx_ssrc = o.tracks[1].ssrc;
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_invalid_argument");
  o = TwoTracks();
  o.tracks[0].kind = "text";
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_invalid_argument");
  o = TwoTracks();
  while (o.tracks.size() < kMaxSdpMediaSections) {
    SubscribeTrack t = o.tracks[0];
    t.mid = "m" + std::to_string(o.tracks.size());
    o.tracks.push_back(t);
  }
  EXPECT_EQ(BuildSubscribeOffer(o, ServerCaps()).status().code(), "sdp_too_large");
  o.data_channel = false;
  EXPECT_TRUE(BuildSubscribeOffer(o, ServerCaps()).ok());
}

}  // namespace
}  // namespace aegis::rtc
