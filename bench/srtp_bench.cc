// SRTP/SRTCP cost per packet: the product's OpenSSL EVP SrtpSession against
// the Debian libsrtp2 (NSS) oracle, for every profile, RTP packets of 160
// and 1200 bytes (header + payload, before the tag) as in
// PERFORMANCE-NOTES.md §2.2. Protect re-protects one buffer with an
// advancing sequence number; unprotect consumes a ring of distinct
// protected packets in place and refills it (with fresh sessions) outside
// the timed region. Single-threaded; pin the process for stable numbers:
//   taskset -c 1 bench/srtp_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rtc/srtp/libsrtp_session.h"
#include "rtc/srtp/srtp_session.h"

namespace {

using aegis::Result;
using aegis::rtc::SrtpProfile;
using aegis::rtc::SrtpSession;
using Dir = SrtpSession::Direction;
using Factory = Result<std::unique_ptr<SrtpSession>> (*)(SrtpProfile, std::span<const uint8_t>,
                                                         Dir);

constexpr uint32_t kSsrc = 0x5EED1234;
constexpr size_t kRing = 2048;

std::unique_ptr<SrtpSession> Make(Factory factory, SrtpProfile profile, Dir dir) {
  std::vector<uint8_t> key(aegis::rtc::SrtpKeyAndSaltLength(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 13 + 7);
  Result<std::unique_ptr<SrtpSession>> s = factory(profile, key, dir);
  if (!s.ok()) {
    std::fprintf(stderr, "session: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  return std::move(s).value();
}

void WriteRtpHeader(uint8_t* p, uint16_t seq) {
  p[0] = 0x80;
  p[1] = 111;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  std::memset(p + 4, 0x11, 4);
  for (int b = 0; b < 4; ++b) p[8 + b] = static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
}

void BM_ProtectRtp(benchmark::State& state, Factory factory, SrtpProfile profile, size_t size) {
  std::unique_ptr<SrtpSession> out = Make(factory, profile, Dir::kOutbound);
  std::vector<uint8_t> buffer(size + SrtpSession::kMaxRtcpOverhead, 0x5A);
  uint16_t seq = 0;
  for (auto _ : state) {
    WriteRtpHeader(buffer.data(), seq++);
    size_t len = size;
    if (!out->ProtectRtp(buffer, &len).ok()) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}

void BM_UnprotectRtp(benchmark::State& state, Factory factory, SrtpProfile profile, size_t size) {
  const size_t stride = size + SrtpSession::kMaxRtcpOverhead;
  std::vector<uint8_t> ring(kRing * stride);
  std::vector<size_t> lens(kRing);
  std::unique_ptr<SrtpSession> in;
  // Fresh sessions each refill: the ring restarts at sequence 0, which a
  // receiver that has seen it would reject as a replay.
  auto refill = [&] {
    std::unique_ptr<SrtpSession> out = Make(factory, profile, Dir::kOutbound);
    in = Make(factory, profile, Dir::kInbound);
    for (size_t i = 0; i < kRing; ++i) {
      uint8_t* p = ring.data() + i * stride;
      std::memset(p, static_cast<int>(i), size);
      WriteRtpHeader(p, static_cast<uint16_t>(i));
      lens[i] = size;
      if (!out->ProtectRtp(std::span<uint8_t>(p, stride), &lens[i]).ok()) std::abort();
    }
  };
  refill();
  size_t next = 0;
  for (auto _ : state) {
    if (next == kRing) {
      state.PauseTiming();
      refill();
      next = 0;
      state.ResumeTiming();
    }
    size_t len = lens[next];
    if (!in->UnprotectRtp(std::span<uint8_t>(ring.data() + next * stride, stride), &len).ok()) {
      state.SkipWithError("unprotect failed");
    }
    ++next;
    benchmark::DoNotOptimize(len);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}

void BM_ProtectRtcp(benchmark::State& state, Factory factory, SrtpProfile profile) {
  std::unique_ptr<SrtpSession> out = Make(factory, profile, Dir::kOutbound);
  constexpr size_t kSize = 80;  // SR + one report block + SDES, typical
  std::vector<uint8_t> buffer(kSize + SrtpSession::kMaxRtcpOverhead, 0x33);
  for (auto _ : state) {
    buffer[0] = 0x81;
    buffer[1] = 200;
    for (int b = 0; b < 4; ++b) buffer[4 + b] = static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
    size_t len = kSize;
    if (!out->ProtectRtcp(buffer, &len).ok()) state.SkipWithError("protect rtcp failed");
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations());
}

std::string ProfileName(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::kAes128CmHmacSha1_80:
      return "AES_CM_128_HMAC_SHA1_80";
    case SrtpProfile::kAeadAes128Gcm:
      return "AEAD_AES_128_GCM";
    case SrtpProfile::kAeadAes256Gcm:
      return "AEAD_AES_256_GCM";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  const struct {
    const char* name;
    Factory factory;
  } impls[] = {{"evp", &SrtpSession::Create}, {"libsrtp", &aegis::rtc::CreateLibSrtpSession}};
  const SrtpProfile profiles[] = {SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAeadAes128Gcm,
                                  SrtpProfile::kAeadAes256Gcm};
  for (SrtpProfile profile : profiles) {
    for (size_t size : {size_t{1200}, size_t{160}}) {
      for (const auto& impl : impls) {
        const std::string tail =
            "/" + ProfileName(profile) + "/" + std::to_string(size) + "/" + impl.name;
        benchmark::RegisterBenchmark(("protect_rtp" + tail).c_str(), BM_ProtectRtp, impl.factory,
                                     profile, size);
        benchmark::RegisterBenchmark(("unprotect_rtp" + tail).c_str(), BM_UnprotectRtp,
                                     impl.factory, profile, size);
      }
    }
    for (const auto& impl : impls) {
      benchmark::RegisterBenchmark(
          ("protect_rtcp/" + ProfileName(profile) + "/80/" + impl.name).c_str(), BM_ProtectRtcp,
          impl.factory, profile);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
