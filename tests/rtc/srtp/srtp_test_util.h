// Shared fixtures for the SRTP tests: fixed keys, small valid RTP/RTCP
// packets built into buffers with room for the SRTP trailer, and the two
// implementations under test (the product's EVP one via SrtpSession::Create
// and the libsrtp2 oracle).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rtc/srtp/libsrtp_session.h"
#include "rtc/srtp/srtp_session.h"

namespace aegis::rtc::srtp_test {

using SrtpFactory = Result<std::unique_ptr<SrtpSession>> (*)(SrtpProfile, std::span<const uint8_t>,
                                                             SrtpSession::Direction);
struct SrtpImpl {
  const char* name;
  SrtpFactory create;
};
inline constexpr SrtpImpl kEvp{"Evp", &SrtpSession::Create};
inline constexpr SrtpImpl kLibsrtp{"Libsrtp", &CreateLibSrtpSession};
inline constexpr std::array<SrtpImpl, 2> kImpls = {kEvp, kLibsrtp};
inline constexpr std::array<SrtpProfile, 3> kProfiles = {
    SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm};

inline std::string ProfileName(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmHmacSha1_80:
      return "AesCm128HmacSha1_80";
    case SrtpProfile::kAeadAes128Gcm:
      return "AeadAes128Gcm";
    case SrtpProfile::kAeadAes256Gcm:
      return "AeadAes256Gcm";
  }
  return "unknown";
}

// "8040f17b 8041..." -> bytes; whitespace is ignored.
inline std::vector<uint8_t> FromHex(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c != ' ' && c != '\n') digits.push_back(c);
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Deterministic key||salt of the profile's length, varied by `seed`.
inline std::vector<uint8_t> TestKey(SrtpProfile profile, uint8_t seed = 0) {
  std::vector<uint8_t> key(SrtpKeyAndSaltLength(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(seed + 3 * i + 1);
  return key;
}

// A 12-byte-header RTP packet (PT 111) with `payload_size` patterned bytes,
// followed by kMaxRtcpOverhead spare bytes. `*len` gets the packet length.
inline std::vector<uint8_t> MakeRtp(uint16_t seq, uint32_t ssrc, size_t payload_size, size_t* len) {
  std::vector<uint8_t> p = {0x80,
                            111,
                            static_cast<uint8_t>(seq >> 8),
                            static_cast<uint8_t>(seq),
                            0x00,
                            0x01,
                            0x02,
                            0x03,
                            static_cast<uint8_t>(ssrc >> 24),
                            static_cast<uint8_t>(ssrc >> 16),
                            static_cast<uint8_t>(ssrc >> 8),
                            static_cast<uint8_t>(ssrc)};
  for (size_t i = 0; i < payload_size; ++i) p.push_back(static_cast<uint8_t>(i * 7 + seq));
  *len = p.size();
  p.resize(p.size() + SrtpSession::kMaxRtcpOverhead, 0xEE);
  return p;
}

// An RTCP receiver report with one report block (32 bytes), plus spare room.
inline std::vector<uint8_t> MakeRtcp(uint32_t ssrc, size_t* len) {
  std::vector<uint8_t> p = {0x81,
                            201,
                            0x00,
                            0x07,
                            static_cast<uint8_t>(ssrc >> 24),
                            static_cast<uint8_t>(ssrc >> 16),
                            static_cast<uint8_t>(ssrc >> 8),
                            static_cast<uint8_t>(ssrc)};
  for (uint8_t i = 0; i < 24; ++i) p.push_back(static_cast<uint8_t>(0x40 + i));
  *len = p.size();
  p.resize(p.size() + SrtpSession::kMaxRtcpOverhead, 0xEE);
  return p;
}

}  // namespace aegis::rtc::srtp_test
