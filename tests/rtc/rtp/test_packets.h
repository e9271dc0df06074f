// Fixtures shared by the rtc/rtp tests: a hex decoder and real or
// realistic packets. Test-only; not thread-safe; no untrusted input.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace aegis::rtc::testing {

// "90 6f 3a2b" -> bytes; whitespace ignored. Aborts the test on odd input.
inline std::vector<uint8_t> Hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

// Chrome audio, assembled by hand in Chrome's default extmap layout
// (1 ssrc-audio-level, 2 abs-send-time, 3 transport-wide-cc, 4 sdes:mid),
// Opus PT 111, seq 0x3a2b, ts 0x5f3e2d10, SSRC 0x1b2c3d4e, TWCC seq 300,
// abs-send-time 0x4b1c3e, mid "0", 8-byte Opus payload (TOC 0x78).
inline constexpr std::string_view kChromeOpus =
    "906f3a2b 5f3e2d10 1b2c3d4e"
    "bede0003 109f224b 1c3e3101 2c403000"
    "780b45c1 9e2a5d07";

// Captured Chrome video headers (Wireshark dissections kept as test data in
// public SFU test suites). Header-only captures: the payload was cut.
// PT 45, seq 6751, ts 3557360969, SSRC 0xf7b16e83, one-byte extensions:
// id 2 (abs-send-time) f34350, id 4 (transport-cc) 009b, id 13 810045.
inline constexpr std::string_view kCapturedVideoOneByte =
    "902d1a5f d4090549 f7b16e83 bede0003 22f34350 41009bd2 81004500";
// PT 45 with marker, seq 6612, 8 words of one-byte extensions (2, 4, 9, 3,
// 6, 7 with 13 bytes, 13).
inline constexpr std::string_view kCapturedVideoMarker =
    "90ad19d4 d405e797 f7b16e83 bede0008 22ea432b 41000490 30300060 027c0100"
    "03000900 0a002300 000000d2 40000100";
// Two-byte (0x1000) extensions: id 2 (3 B), 4 (2 B), 9, 3, 6, 7 (13 B), 13 (33 B).
inline constexpr std::string_view kCapturedVideoTwoByte =
    "902d61c5 950a0fee 8d3814e5 10000011 020303f7 ae040200 02090130 03010006"
    "0102070d 01000100 07000700 0a000000 000d21c0 00018003 187aaaf1 30a0a014"
    "d1413823 04600864 22222650 09f00770 13f00ef0";

// Captured Chrome transport-cc feedback: P bit, base seq 1, 9 packets in one
// run-length chunk, all small deltas (1c 0c 2c 38 00 04 00 08 18), 1 byte
// of padding. Reference time 6197520.
inline constexpr std::string_view kCapturedTwcc =
    "afcd0007 00000001 dd586eb6 00010009 5e911000 20091c0c 2c380004 00081801";

}  // namespace aegis::rtc::testing
