// UdpSocket::Flush cost with and without UDP GSO: 64 datagrams of 1200 bytes
// to 8 loopback destinations, queued round-robin as the worker's fan-out
// loop does (8 per destination). With a 64-deep queue one Flush sends 8 GSO
// messages of 8 segments; with the default 32-deep queue the queue sends
// itself twice and runs are 4 long. Receivers are drained outside the timed
// region. Loopback charges the receive path to the sender, as in
// docs/PERFORMANCE.md. Pin the process for stable numbers:
//   taskset -c 1 bench/udp_socket_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "sfu/udp_socket.h"

namespace {

using aegis::sfu::UdpSocket;

constexpr size_t kDestinations = 8;
constexpr size_t kPerDestination = 8;
constexpr size_t kSize = 1200;

std::unique_ptr<UdpSocket> Bind(const UdpSocket::Options& options) {
  auto s = UdpSocket::Bind("127.0.0.1", 0, options);
  if (!s.ok()) {
    std::fprintf(stderr, "bind: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  return std::move(s).value();
}

// Args: GSO on (1) / off (0), send queue depth.
void BM_Flush64To8(benchmark::State& state) {
  const bool gso = state.range(0) != 0;
  const auto queue = static_cast<size_t>(state.range(1));
  std::unique_ptr<UdpSocket> tx = Bind({.gso = gso, .send_queue = queue});
  std::vector<std::unique_ptr<UdpSocket>> rx;
  std::vector<aegis::rtc::Endpoint> to;
  for (size_t d = 0; d < kDestinations; ++d) {
    rx.push_back(Bind({}));
    to.push_back(aegis::rtc::Endpoint::V4({127, 0, 0, 1}, rx.back()->port()));
  }
  size_t received = 0;
  for (auto _ : state) {
    for (size_t p = 0; p < kPerDestination; ++p) {
      for (size_t d = 0; d < kDestinations; ++d) {
        std::span<uint8_t> slot = tx->AcquireSendSlot();
        slot[0] = static_cast<uint8_t>(p);
        slot[1] = static_cast<uint8_t>(d);
        tx->CommitSendSlot(kSize, to[d]);
      }
    }
    tx->Flush();
    state.PauseTiming();
    for (auto& r : rx) {
      while (size_t n = r->Receive()) received += n;
    }
    state.ResumeTiming();
  }
  const double datagrams =
      static_cast<double>(state.iterations() * kDestinations * kPerDestination);
  state.counters["ns_per_datagram"] =
      benchmark::Counter(datagrams, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["gso_share"] = static_cast<double>(tx->gso_segments()) / datagrams;
  state.counters["syscalls_per_flush"] =
      static_cast<double>(tx->stats().send_syscalls) / static_cast<double>(state.iterations());
  state.counters["lost"] = datagrams - static_cast<double>(received);
  state.SetItemsProcessed(static_cast<int64_t>(datagrams));
}

BENCHMARK(BM_Flush64To8)
    ->ArgNames({"gso", "queue"})
    ->Args({0, 64})
    ->Args({1, 64})
    ->Args({0, 32})
    ->Args({1, 32})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
