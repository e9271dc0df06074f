// FZ-07 / FZ-08 / FZ-10 table for the SDP parser: every row is a known-bad
// input (pjsip #2093, Janus CVE-2020-13898/13900/14034 classes) that must be
// rejected with a stable code and a message naming the line, never crash.
#include <gtest/gtest.h>

#include <string>

#include "rtc/sdp/sdp.h"
#include "sdp_test_util.h"

namespace aegis::rtc {
namespace {

constexpr const char* kFp =
    "5A:1F:C3:9E:02:B7:64:DD:8A:40:E1:7C:39:55:AF:12:90:6B:D4:28:F3:0E:71:C6:AB:58:2D:93:E4:0F:B6:"
    "17";

// A minimal valid offer; rows replace one line (by its text) or append.
std::string Base() {
  return std::string("v=0\r\n") +                   // 1
         "o=- 1 1 IN IP4 0.0.0.0\r\n" +             // 2
         "s=-\r\n" +                                // 3
         "t=0 0\r\n" +                              // 4
         "a=group:BUNDLE 0\r\n" +                   // 5
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +    // 6
         "c=IN IP4 0.0.0.0\r\n" +                   // 7
         "a=mid:0\r\n" +                            // 8
         "a=ice-ufrag:abcd\r\n" +                   // 9
         "a=ice-pwd:abcdefghijklmnopqrstuv\r\n" +   // 10
         "a=fingerprint:sha-256 " + kFp + "\r\n" +  // 11
         "a=setup:actpass\r\n" +                    // 12
         "a=sendonly\r\n" +                         // 13
         "a=rtcp-mux\r\n" +                         // 14
         "a=rtpmap:111 opus/48000/2\r\n";           // 15
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

struct Row {
  std::string name;
  std::string input;
  std::string code;
  std::string message_part;  // must appear in the error message
};

std::vector<Row> Rows() {
  const std::string b = Base();
  std::vector<Row> rows = {
      // pjsip #2093 and friends: numeric overflow.
      {"pt 4294967296 on m-line (pjsip #2093)",
       Replace(b, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio 17000 RTP/AVP 4294967296"),
       "sdp_malformed", "line 6: payload type '4294967296'"},
      {"pt 128", Replace(b, "SAVPF 111", "SAVPF 128"), "sdp_malformed", "line 6"},
      {"pt negative", Replace(b, "SAVPF 111", "SAVPF -1"), "sdp_malformed", "payload type"},
      {"pt in rtpmap 4294967296", Replace(b, "a=rtpmap:111", "a=rtpmap:4294967296"),
       "sdp_malformed", "line 15"},
      {"pt with 30 digits", Replace(b, "SAVPF 111", "SAVPF 000000000000000000000000000111"),
       "sdp_malformed", "payload type"},
      {"port 70000", Replace(b, "m=audio 9 ", "m=audio 70000 "), "sdp_malformed",
       "line 6: m= port '70000'"},
      {"port 4294967305", Replace(b, "m=audio 9 ", "m=audio 4294967305 "), "sdp_malformed", "port"},
      {"port range", Replace(b, "m=audio 9 ", "m=audio 9/2 "), "sdp_unsupported", "port"},
      {"session id overflow", Replace(b, "o=- 1 1", "o=- 18446744073709551616 1"), "sdp_malformed",
       "line 2"},
      {"clock rate 0", Replace(b, "opus/48000/2", "opus/0/2"), "sdp_malformed", "clock rate"},
      {"clock rate overflow", Replace(b, "opus/48000/2", "opus/4294967296/2"), "sdp_malformed",
       "clock rate"},
      {"channels 0", Replace(b, "opus/48000/2", "opus/48000/0"), "sdp_malformed", "channels"},
      {"extmap id 0", b + "a=extmap:0 urn:x\r\n", "sdp_malformed", "line 16: a=extmap id"},
      {"extmap id 15", b + "a=extmap:15 urn:x\r\n", "sdp_malformed", "a=extmap id"},
      {"extmap id 256", b + "a=extmap:256 urn:x\r\n", "sdp_malformed", "a=extmap id"},
      {"extmap id twice", b + "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", "sdp_malformed",
       "line 17"},
      {"ssrc 4294967296", b + "a=ssrc:4294967296 cname:x\r\n", "sdp_malformed", "a=ssrc"},
      {"ssrc-group ssrc overflow", b + "a=ssrc-group:FID 1 99999999999\r\n", "sdp_malformed",
       "a=ssrc-group"},
      {"candidate port 70000", b + "a=candidate:1 1 udp 1 1.2.3.4 70000 typ host\r\n",
       "sdp_malformed", "candidate port"},
      {"candidate component 0", b + "a=candidate:1 0 udp 1 1.2.3.4 7 typ host\r\n", "sdp_malformed",
       "component"},
      {"candidate priority 2^32", b + "a=candidate:1 1 udp 4294967296 1.2.3.4 7 typ host\r\n",
       "sdp_malformed", "priority"},
      {"candidate truncated", b + "a=candidate:1 1 udp 1 1.2.3.4\r\n", "sdp_malformed",
       "fewer than 8"},
      {"candidate dangling extension", b + "a=candidate:1 1 udp 1 1.2.3.4 7 typ host gen\r\n",
       "sdp_malformed", "extension"},
      {"sctp-port 65536", b + "a=sctp-port:65536\r\n", "sdp_malformed", "a=sctp-port"},
      {"max-message-size 2^64", b + "a=max-message-size:18446744073709551616\r\n", "sdp_malformed",
       "max-message-size"},
      // Janus CVE-2020-14034: long tokens.
      {"token of 256 bytes", Replace(b, "a=ice-ufrag:abcd", "a=ice-ufrag:" + std::string(256, 'a')),
       "sdp_too_large", "line 9: token longer than 255"},
      {"encoding name of 300 bytes", Replace(b, "opus/48000/2", std::string(300, 'o') + "/48000/2"),
       "sdp_too_large", "token"},
      {"line of 5000 bytes", b + "a=x-long:" + std::string(5000, ' ') + "\r\n", "sdp_too_large",
       "line 16: line longer than 4096"},
      // FZ-10: control bytes inside values.
      {"CR inside a value", Replace(b, "a=mid:0", "a=mid:0\rX"), "sdp_illegal_char",
       "line 8: CR inside a line"},
      {"NUL byte", Replace(b, "a=mid:0", std::string("a=mid:0\0x", 9)), "sdp_illegal_char",
       "line 8: NUL byte"},
      {"escape byte", Replace(b, "s=-", "s=\x1b[31m"), "sdp_illegal_char", "line 3: control byte"},
      {"DEL byte", Replace(b, "s=-", "s=\x7f"), "sdp_illegal_char", "line 3"},
      // Janus CVE-2020-13898/13900: missing lines and pieces.
      {"missing v=", b.substr(5), "sdp_malformed", "first line must be v="},
      {"empty input", "", "sdp_malformed", "missing v="},
      {"only blank lines", "\r\n\r\n", "sdp_malformed", "missing v="},
      {"v=1", Replace(b, "v=0", "v=1"), "sdp_malformed", "v= must be 0"},
      {"missing o=", Replace(b, "o=- 1 1 IN IP4 0.0.0.0\r\n", ""), "sdp_malformed", "o="},
      {"missing t=", Replace(b, "t=0 0\r\n", ""), "sdp_malformed", "m= before"},
      {"o= short", Replace(b, "o=- 1 1 IN IP4 0.0.0.0", "o=- 1 1"), "sdp_malformed",
       "line 2: o= needs 6 fields"},
      {"m= without formats", Replace(b, "SAVPF 111", "SAVPF"), "sdp_malformed", "line 6: m= needs"},
      {"m= kind only", Replace(b, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio"), "sdp_malformed",
       "m= needs"},
      {"m= empty", Replace(b, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m="), "sdp_malformed",
       "m= needs"},
      {"c= short", Replace(b, "c=IN IP4 0.0.0.0", "c=IN"), "sdp_malformed", "line 7: c="},
      {"rtpmap without rate", Replace(b, "opus/48000/2", "opus"), "sdp_malformed", "a=rtpmap"},
      {"rtpmap without value", b + "a=rtpmap\r\n", "sdp_malformed", "needs a value"},
      {"rtpmap for unlisted pt", b + "a=rtpmap:96 VP8/90000\r\n", "sdp_malformed",
       "line 16: payload type 96 is not on the m= line"},
      {"fmtp without params", b + "a=fmtp:111\r\n", "sdp_malformed", "a=fmtp"},
      {"rtcp-fb alone", b + "a=rtcp-fb:111\r\n", "sdp_malformed", "a=rtcp-fb"},
      {"fingerprint bad hex", Replace(b, std::string("sha-256 ") + kFp, "sha-256 ZZ:11"),
       "sdp_malformed", "line 11: a=fingerprint"},
      {"fingerprint no value", Replace(b, std::string("sha-256 ") + kFp, "sha-256"),
       "sdp_malformed", "a=fingerprint"},
      {"ice-pwd too short", Replace(b, "abcdefghijklmnopqrstuv", "short"), "sdp_malformed",
       "a=ice-pwd"},
      {"ice-ufrag bad char", Replace(b, "a=ice-ufrag:abcd", "a=ice-ufrag:ab;cd"), "sdp_malformed",
       "a=ice-ufrag"},
      {"setup unknown", Replace(b, "actpass", "both"), "sdp_malformed", "a=setup"},
      {"flag with value", Replace(b, "a=rtcp-mux", "a=rtcp-mux:1"), "sdp_malformed",
       "takes no value"},
      {"two directions", b + "a=recvonly\r\n", "sdp_malformed", "direction"},
      {"simulcast bad rid", b + "a=simulcast:send q;;f\r\n", "sdp_malformed", "a=simulcast"},
      {"simulcast bad direction", b + "a=simulcast:both q\r\n", "sdp_malformed", "a=simulcast"},
      {"rid bad direction", b + "a=rid:q both\r\n", "sdp_malformed", "a=rid"},
      {"unknown line type", b + "x=1\r\n", "sdp_malformed", "line 16: unknown line type"},
      {"line without =", b + "hello\r\n", "sdp_malformed", "expected '<type>=<value>'"},
      {"attribute name with space", b + "a=x y:1\r\n", "sdp_malformed", "attribute name"},
      // Attribute placement and duplicates.
      {"media attribute before any m-line",
       Replace(b, "a=group:BUNDLE 0", "a=rtpmap:111 opus/48000/2"), "sdp_malformed",
       "line 5: a=rtpmap is a media-level attribute"},
      {"candidate at session level",
       Replace(b, "a=group:BUNDLE 0", "a=candidate:1 1 udp 1 1.2.3.4 7 typ host"), "sdp_malformed",
       "media-level"},
      {"group inside media", b + "a=group:BUNDLE 0\r\n", "sdp_malformed", "session-level"},
      {"duplicate mid", b + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n", "sdp_malformed",
       "line 17: duplicate a=mid '0'"},
      {"repeated mid", b + "a=mid:1\r\n", "sdp_malformed", "repeated a=mid"},
      {"duplicate pt", Replace(b, "SAVPF 111", "SAVPF 111 111"), "sdp_malformed", "twice"},
      {"repeated rtpmap", b + "a=rtpmap:111 opus/48000/2\r\n", "sdp_malformed", "repeated"},
      {"o= inside media", b + "o=- 1 1 IN IP4 0.0.0.0\r\n", "sdp_malformed", "o="},
  };
  // 33 media sections.
  std::string many = b;
  for (int i = 1; i < 33; ++i) {
    many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:" + std::to_string(i) + "\r\n";
  }
  rows.push_back({"33 media sections", many, "sdp_too_large", "more than 32 m= sections"});
  // 129 payload types on one m-line.
  std::string pts = "m=video 9 UDP/TLS/RTP/SAVPF";
  for (int i = 0; i < 129; ++i) pts += " " + std::to_string(i % 128);
  rows.push_back({"129 formats", b + pts + "\r\n", "sdp_too_large", "more than 128 formats"});
  // 65 unknown attributes.
  std::string unknown = b;
  for (int i = 0; i < 65; ++i) unknown += "a=x-unknown-" + std::to_string(i) + "\r\n";
  rows.push_back({"65 unknown attributes", unknown, "sdp_too_large", "unrecognised"});
  // 10 MB input.
  rows.push_back(
      {"10 MB input", b + std::string(10 * 1024 * 1024, 'a'), "sdp_too_large", "limit is 65536"});
  rows.push_back(
      {"64 KiB + 1", b + "s=" + std::string(kMaxSdpBytes, 'x'), "sdp_too_large", "limit"});
  return rows;
}

TEST(SdpRobustness, BaseOfferIsValid) {
  Result<SessionDescription> r = ParseSdp(Base());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST(SdpRobustness, EveryBadRowIsRejectedWithItsCodeAndLine) {
  for (const Row& row : Rows()) {
    Result<SessionDescription> r = ParseSdp(row.input);
    ASSERT_FALSE(r.ok()) << row.name;
    EXPECT_EQ(r.status().code(), row.code) << row.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(row.message_part), std::string::npos)
        << row.name << ": got '" << r.status().message() << "'";
  }
}

TEST(SdpRobustness, TokenOf255BytesIsAccepted) {
  const std::string text =
      Replace(Base(), "a=ice-ufrag:abcd", "a=ice-ufrag:" + std::string(255 - 10, 'a'));
  EXPECT_TRUE(ParseSdp(text).ok());
}

TEST(SdpRobustness, ErrorMessagesDoNotEchoControlBytes) {
  const std::string text = Base() + "a=ssrc:" + std::string(40, '9') + "\x80\xff cname:x\r\n";
  Result<SessionDescription> r = ParseSdp(text);
  ASSERT_FALSE(r.ok());
  const Status status = r.status();
  for (unsigned char c : status.message()) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << int{c};
  }
}

// FZ-07: every prefix of every fixture is handled without crashing (Janus
// CVE-2020-13898/13900 were NULL derefs on truncated SDPs).
TEST(SdpRobustness, EveryPrefixOfEveryFixtureIsHandled) {
  for (const char* name : testing::kFixtures) {
    const std::string text = testing::ReadFixture(name);
    size_t ok = 0;
    // Every cut at a line boundary (and either side of it) plus a stride through
    // the middle of lines.
    for (size_t n = 0; n <= text.size(); ++n) {
      const bool near_eol = text.compare(n > 0 ? n - 1 : 0, 1, "\n") == 0 ||
                            (n < text.size() && (text[n] == '\r' || text[n] == '\n'));
      if (!near_eol && n % 61 != 0) continue;
      Result<SessionDescription> r = ParseSdp(std::string_view(text).substr(0, n));
      if (r.ok()) {
        ++ok;
        Result<std::string> w = WriteSdp(*r);
        ASSERT_TRUE(w.ok()) << name << " prefix " << n << ": " << w.status().ToString();
      }
    }
    EXPECT_GT(ok, 0u) << name;
  }
}

}  // namespace
}  // namespace aegis::rtc
