// Test helpers for the SDP tests: fixture loading (tests/rtc/sdp/fixtures,
// found through AEGIS_SOURCE_DIR or the compiled-in source root) and the
// server capabilities the negotiation tests answer with.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "rtc/sdp/negotiation.h"
#include "rtc/sdp/sdp.h"

namespace aegis::rtc::testing {

inline std::string ReadFixture(const std::string& name) {
  const char* env = std::getenv("AEGIS_SOURCE_DIR");
  const std::string root = env != nullptr && *env != '\0' ? env : AEGIS_TEST_SOURCE_DIR;
  std::ifstream in(root + "/tests/rtc/sdp/fixtures/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline constexpr const char* kFixtures[] = {
    "chromium_publish_simulcast.sdp",
    "chromium_publish_plain.sdp",
    "chromium_recvonly_datachannel.sdp",
    "firefox_publish.sdp",
};

inline constexpr const char* kServerFingerprint =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
    "99";

inline LocalCapabilities ServerCaps() {
  LocalCapabilities local;
  local.session_id = 4242;
  local.session_version = 2;
  local.ice_ufrag = "aegisSrv";
  local.ice_pwd = "Srv0pwd1Srv0pwd1Srv0pwd1";
  local.fingerprint = {"sha-256", kServerFingerprint};
  IceCandidate udp;
  udp.foundation = "udpcandidate";
  udp.component = 1;
  udp.transport = "udp";
  udp.priority = 2130706431;
  udp.address = "203.0.113.10";
  udp.port = 50000;
  udp.type = "host";
  IceCandidate tcp = udp;
  tcp.foundation = "tcpcandidate";
  tcp.transport = "tcp";
  tcp.priority = 1076302079;
  tcp.port = 50001;
  tcp.tcp_type = "passive";
  local.candidates = {udp, tcp};
  return local;
}

}  // namespace aegis::rtc::testing
