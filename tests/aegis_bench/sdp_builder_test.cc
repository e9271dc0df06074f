#include "sdp_builder.h"

#include <gtest/gtest.h>

#include "rtc/dtls/dtls_certificate.h"
#include "rtc/sdp/negotiation.h"
#include "rtc/stun/ice_lite.h"

namespace aegis::bench {
namespace {

LocalTransport Client() {
  auto cert = rtc::DtlsCertificate::Generate();
  EXPECT_TRUE(cert.ok());
  const rtc::IceCredentials ice = rtc::IceCredentials::Generate();
  return LocalTransport{ice.ufrag, ice.pwd, (*cert)->fingerprint(), "127.0.0.1", 40000};
}

rtc::LocalCapabilities Server() {
  auto cert = rtc::DtlsCertificate::Generate();
  EXPECT_TRUE(cert.ok());
  const rtc::IceCredentials ice = rtc::IceCredentials::Generate();
  rtc::LocalCapabilities local;
  local.ice_ufrag = ice.ufrag;
  local.ice_pwd = ice.pwd;
  local.fingerprint = rtc::Fingerprint{"sha-256", (*cert)->fingerprint()};
  rtc::IceCandidate c;
  c.foundation = "udp0";
  c.priority = 2130706431;
  c.address = "127.0.0.1";
  c.port = 50000;
  local.candidates.push_back(c);
  local.accept_data = false;
  return local;
}

PublishOfferParams Offer() {
  PublishOfferParams p;
  p.transport = Client();
  p.cname = "bench-cname";
  p.stream_id = "alice";
  p.tracks = {PublishTrack{"audio", "0", 1111, "mic"}, PublishTrack{"video", "1", 2222, "cam"}};
  return p;
}

TEST(PublishOffer, IsAcceptedByTheServerNegotiation) {
  const PublishOfferParams p = Offer();
  auto text = rtc::WriteSdp(BuildPublishOffer(p));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto parsed = rtc::ParseSdp(*text);  // what the server sees
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->media.size(), 2u);
  for (const rtc::MediaSection& m : parsed->media) {
    EXPECT_EQ(m.setup, rtc::SetupRole::kActPass);
    EXPECT_TRUE(m.rtcp_mux);
    ASSERT_EQ(m.extmaps.size(), 1u);
    EXPECT_EQ(m.extmaps[0].uri, rtc::kExtMid);
    EXPECT_EQ(m.extmaps[0].id, kMidExtensionId);
    ASSERT_FALSE(m.ssrcs.empty());
  }
  EXPECT_EQ(parsed->media[0].codecs.at(0).encoding_name, "opus");
  EXPECT_EQ(parsed->media[1].codecs.at(0).encoding_name, "VP8");
  EXPECT_EQ(parsed->media[1].ssrcs[0].ssrc, 2222u);
  ASSERT_NE(parsed->FindGroup("BUNDLE"), nullptr);
  EXPECT_EQ(parsed->FindGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1"}));

  auto answer = rtc::BuildAnswer(*parsed, Server());
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_EQ(answer->media.size(), 2u);
  for (const rtc::MediaSection& a : answer->media) {
    EXPECT_NE(a.port, 0);
    EXPECT_EQ(a.direction, rtc::MediaDirection::kRecvOnly);
  }
  auto info = InspectRemoteDescription(*answer);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->ice_lite);
  EXPECT_EQ(info->setup, rtc::SetupRole::kPassive);
  ASSERT_TRUE(info->udp_candidate);
  EXPECT_EQ(info->udp_candidate->port(), 50000);
  EXPECT_EQ(info->opus_payload_type, kOpusPayloadType);
  EXPECT_EQ(info->vp8_payload_type, kVp8PayloadType);
}

TEST(SubscribeAnswer, AnswersEverySectionAsActiveRecvonly) {
  rtc::SubscribeOfferOptions o;
  rtc::SubscribeTrack audio;
  audio.mid = "0";
  audio.kind = "audio";
  audio.codecs = {rtc::RtpCodec{111, "opus", 48000, 2, "minptime=10", {}}};
  audio.ssrc = 5555;
  audio.cname = "c";
  audio.stream_id = "alice";
  audio.track_id = "mic";
  rtc::SubscribeTrack video = audio;
  video.mid = "1";
  video.kind = "video";
  video.codecs = {rtc::RtpCodec{97, "VP8", 90000, 0, "", {"nack pli"}}};
  video.ssrc = 6666;
  video.track_id = "cam";
  rtc::SubscribeTrack gone = audio;
  gone.mid = "2";
  gone.active = false;
  o.tracks = {audio, video, gone};
  auto offer = rtc::BuildSubscribeOffer(o, Server());
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();

  auto info = InspectRemoteDescription(*offer);
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->streams.size(), 3u);
  EXPECT_EQ(info->streams[0].ssrc, 5555u);
  EXPECT_EQ(info->streams[1].ssrc, 6666u);
  EXPECT_EQ(info->streams[1].msid_track, "cam");
  EXPECT_EQ(info->streams[1].clock_rate, 90000u);
  EXPECT_FALSE(info->streams[2].active);
  EXPECT_EQ(info->vp8_payload_type, 97);

  const LocalTransport local = Client();
  auto answer = BuildSubscribeAnswer(*offer, local, 9);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  auto text = rtc::WriteSdp(*answer);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto parsed = rtc::ParseSdp(*text);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->media.size(), 3u);  // the server requires one per offered section
  EXPECT_EQ(parsed->media[0].direction, rtc::MediaDirection::kRecvOnly);
  EXPECT_EQ(parsed->media[1].direction, rtc::MediaDirection::kRecvOnly);
  EXPECT_EQ(parsed->media[2].direction, rtc::MediaDirection::kInactive);
  for (const rtc::MediaSection& m : parsed->media) {
    EXPECT_EQ(m.setup, rtc::SetupRole::kActive);  // DTLS client, as the server demands
    EXPECT_EQ(m.ice.ufrag, local.ice_ufrag);
    ASSERT_EQ(m.fingerprints.size(), 1u);
    EXPECT_EQ(m.fingerprints[0].value, local.fingerprint);
  }
  EXPECT_EQ(parsed->media[1].codecs, offer->media[1].codecs);
}

TEST(SubscribeAnswer, RejectsEmptyOfferAndDataSections) {
  rtc::SessionDescription empty;
  EXPECT_FALSE(BuildSubscribeAnswer(empty, Client(), 1).ok());
  rtc::SessionDescription data;
  rtc::MediaSection m;
  m.kind = "application";
  m.proto = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  m.mid = "d";
  data.media.push_back(m);
  auto a = BuildSubscribeAnswer(data, Client(), 1);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), "sdp_unsupported");
}

TEST(InspectRemoteDescription, NeedsCredentialsAndFingerprint) {
  rtc::SessionDescription d;
  rtc::MediaSection m;
  m.kind = "audio";
  m.proto = "UDP/TLS/RTP/SAVPF";
  m.mid = "0";
  d.media.push_back(m);
  auto info = InspectRemoteDescription(d);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), "sdp_unsupported");
  d.media[0].ice = rtc::IceParameters{"abcd", "0123456789012345678901", {}};
  info = InspectRemoteDescription(d);
  ASSERT_FALSE(info.ok());  // still no fingerprint
}

TEST(PublishOffer, SimulcastIsOfferedLikeChromeAndAcceptedByTheServer) {
  PublishOfferParams p = Offer();
  p.tracks[1].rids = {"l", "m", "h"};
  auto text = rtc::WriteSdp(BuildPublishOffer(p));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("a=simulcast:send l;m;h"), std::string::npos) << *text;
  EXPECT_NE(text->find("a=rid:h send"), std::string::npos) << *text;
  auto parsed = rtc::ParseSdp(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const rtc::MediaSection& video = parsed->media[1];
  EXPECT_TRUE(video.ssrcs.empty());  // layers are told apart by RID, as Chrome does
  ASSERT_EQ(video.extmaps.size(), 2u);
  EXPECT_EQ(video.extmaps[1].uri, rtc::kExtRid);
  EXPECT_EQ(video.extmaps[1].id, kRidExtensionId);
  EXPECT_FALSE(parsed->media[0].simulcast.has_value());  // audio untouched

  auto answer = rtc::BuildAnswer(*parsed, Server());
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_TRUE(answer->media[1].simulcast.has_value());
  ASSERT_EQ(answer->media[1].simulcast->recv.size(), 3u);
  EXPECT_EQ(answer->media[1].simulcast->recv[0].at(0).id, "l");  // layer 0 = lowest
  auto info = InspectRemoteDescription(*answer);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->streams.at(1).simulcast_recv, 3u);
  EXPECT_EQ(info->streams.at(0).simulcast_recv, 0u);
}

}  // namespace
}  // namespace aegis::bench
