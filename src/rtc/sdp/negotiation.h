// Offer/answer for the two peer connections per client (DESIGN.md): BuildAnswer()
// answers a client's publish offer after the WR-01 / RFC 8827 checks (DTLS-SRTP
// only, ICE, rtcp-mux, BUNDLE); BuildSubscribeOffer() builds the server's offer.
// Pure functions of their arguments (no clock, no randomness). The offer is
// untrusted; errors are sdp_unsupported / sdp_malformed / sdp_invalid_argument /
// sdp_illegal_char with a message naming what was wrong. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "rtc/sdp/sdp.h"

namespace aegis::rtc {

// Header extension URIs we understand (RFC 8285 names).
inline constexpr std::string_view kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kExtRepairedRid =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kExtAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kExtTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// What this server instance is: its ICE-lite credentials, DTLS certificate
// fingerprint and host candidates (UDP, plus TCP passive).
struct LocalCapabilities {
  uint64_t session_id = 1;
  uint64_t session_version = 1;
  std::string ice_ufrag;    // 4-255 ice-chars
  std::string ice_pwd;      // 22-255 ice-chars
  Fingerprint fingerprint;  // sha-256 of our DTLS certificate
  std::vector<IceCandidate> candidates;
  bool accept_audio = true;
  bool accept_video = true;
  bool accept_data = true;
  uint16_t sctp_port = 5000;
  uint64_t max_message_size = 262144;
};

// One forwarded track in the subscribe offer.
struct SubscribeTrack {
  std::string mid;                 // unique in the offer; a token
  std::string kind;                // "audio" or "video"
  std::vector<RtpCodec> codecs;    // payload types, names, fmtp, rtcp-fb as the router chose
  std::vector<Extmap> extensions;  // ids as used on the wire towards this subscriber
  uint32_t ssrc = 0;
  std::optional<uint32_t> rtx_ssrc;  // adds an "a=ssrc-group:FID ssrc rtx_ssrc"
  std::string cname;
  std::string stream_id;  // msid stream ("-" when none)
  std::string track_id;
  // false: a removed track whose m-section stays (RFC 8829 §5.2.2 forbids
  // removing m-sections) as a=inactive without SSRCs; codecs are still listed.
  bool active = true;
};

struct SubscribeOfferOptions {
  std::vector<SubscribeTrack> tracks;
  bool data_channel = false;
  std::string data_mid = "data";
};

// Answer for the publish connection. Rejected offers give sdp_unsupported
// naming the missing or forbidden feature; unsupported m-sections are
// answered with port 0 and left out of BUNDLE.
Result<SessionDescription> BuildAnswer(const SessionDescription& offer,
                                       const LocalCapabilities& local);

// Offer for the subscribe connection: one sendonly m-section per track.
Result<SessionDescription> BuildSubscribeOffer(const SubscribeOfferOptions& options,
                                               const LocalCapabilities& local);

}  // namespace aegis::rtc
