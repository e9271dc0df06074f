// STYLE.md / DESIGN.md "no heap allocation per packet" for the product's
// SrtpSession: after warm-up, protect + unprotect of RTP and RTCP must reach
// neither operator new nor OpenSSL's allocator. This binary links the
// counting allocator (tests/common/counting_allocator.h), hence its own
// executable.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "common/counting_allocator.h"
#include "rtc/srtp/srtp_session.h"
#include "srtp_test_util.h"

namespace aegis::rtc {
namespace {

using Dir = SrtpSession::Direction;

TEST(SrtpNoAlloc, CountersSeeAllocations) {
  ASSERT_TRUE(aegis::alloc_count::OpensslHooked())
      << "OpenSSL allocated before the hook was installed";
  const size_t news = aegis::alloc_count::NewCalls();
  auto* probe = new std::vector<int>(100);
  asm volatile("" : : "g"(probe) : "memory");  // keep the compiler from eliding the pair
  delete probe;
  EXPECT_GE(aegis::alloc_count::NewCalls() - news, 2u);
  // Creating a session does allocate (EVP contexts, the SSRC table).
  const size_t openssl = aegis::alloc_count::OpensslAllocs();
  const std::vector<uint8_t> key = srtp_test::TestKey(SrtpProfile::kAeadAes128Gcm);
  EXPECT_TRUE(SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, key, Dir::kOutbound).ok());
  EXPECT_GT(aegis::alloc_count::OpensslAllocs() - openssl, 0u);
}

class SrtpNoAllocTest : public testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtpNoAllocTest, TenThousandProtectAndUnprotectAfterWarmUp) {
  ASSERT_TRUE(aegis::alloc_count::OpensslHooked());
  const SrtpProfile profile = GetParam();
  const std::vector<uint8_t> key = srtp_test::TestKey(profile, 0x31);
  Result<std::unique_ptr<SrtpSession>> out = SrtpSession::Create(profile, key, Dir::kOutbound);
  Result<std::unique_ptr<SrtpSession>> in = SrtpSession::Create(profile, key, Dir::kInbound);
  ASSERT_TRUE(out.ok() && in.ok());
  SrtpSession& sender = **out;
  SrtpSession& receiver = **in;

  constexpr std::array<uint32_t, 3> kSsrcs = {0x1000, 0x2000, 0x3000};
  std::array<uint8_t, SrtpSession::kMaxPacketSize + SrtpSession::kMaxRtcpOverhead> buffer{};
  size_t failures = 0;
  uint64_t checksum = 0;
  // One packet: protect, unprotect, and check the round trip, without
  // touching anything that allocates (no gtest assertion inside the loop).
  auto round_trip = [&](int i) {
    const uint32_t ssrc = kSsrcs[static_cast<size_t>(i) % kSsrcs.size()];
    const uint16_t seq = static_cast<uint16_t>(65000 + i / 3);  // wraps: ROC 0 -> 1
    const size_t payload = static_cast<size_t>(i * 37) % 1201;
    buffer[0] = 0x90;  // with a header extension
    buffer[1] = 111;
    buffer[2] = static_cast<uint8_t>(seq >> 8);
    buffer[3] = static_cast<uint8_t>(seq);
    for (int b = 0; b < 4; ++b) buffer[8 + b] = static_cast<uint8_t>(ssrc >> (24 - 8 * b));
    const uint8_t ext[8] = {0xBE, 0xDE, 0, 1, 0x10, 0x42, 0, 0};
    std::memcpy(buffer.data() + 12, ext, sizeof(ext));
    std::memset(buffer.data() + 20, i & 0xFF, payload);
    size_t len = 20 + payload;
    failures += !sender.ProtectRtp(buffer, &len).ok();
    failures += !receiver.UnprotectRtp(buffer, &len).ok();
    failures += len != 20 + payload;
    checksum += buffer[20 + payload / 2];

    buffer[0] = 0x81;
    buffer[1] = 201;
    buffer[2] = 0;
    buffer[3] = 7;
    for (int b = 0; b < 4; ++b) buffer[4 + b] = static_cast<uint8_t>(ssrc >> (24 - 8 * b));
    len = 32;
    failures += !sender.ProtectRtcp(buffer, &len).ok();
    failures += !receiver.UnprotectRtcp(buffer, &len).ok();
    failures += len != 32;
  };

  for (int i = 0; i < 30; ++i) round_trip(i);  // warm-up: first packet of each SSRC
  const size_t news = aegis::alloc_count::NewCalls();
  const size_t openssl = aegis::alloc_count::OpensslAllocs();
  for (int i = 30; i < 30 + 10000; ++i) round_trip(i);
  const size_t new_calls = aegis::alloc_count::NewCalls() - news;
  const size_t openssl_allocs = aegis::alloc_count::OpensslAllocs() - openssl;

  EXPECT_EQ(new_calls, 0u);
  EXPECT_EQ(openssl_allocs, 0u);
  EXPECT_EQ(failures, 0u);
  EXPECT_NE(checksum, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, SrtpNoAllocTest, testing::ValuesIn(srtp_test::kProfiles),
                         [](const testing::TestParamInfo<SrtpProfile>& info) {
                           return srtp_test::ProfileName(info.param);
                         });

}  // namespace
}  // namespace aegis::rtc
