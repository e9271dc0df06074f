// Fixture for the media worker tests: a real Worker on 127.0.0.1 (port 0), a
// Listener that records state changes from the worker thread, and helpers
// that create a transport on the worker and a TestPeer for it. Test-only;
// the fixture is used by the test thread, the listener by both threads.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sfu/worker.h"
#include "test_peer.h"

namespace aegis::sfu::testing {

class RecordingListener final : public Worker::Listener {
 public:
  struct Event {
    uint64_t transport_id = 0;
    TransportState state = TransportState::kNew;
    std::string reason;
  };

  // Worker thread.
  void OnTransportStateChanged(size_t /*worker*/, uint64_t transport_id, TransportState state,
                               const std::string& reason) override {
    {
      std::lock_guard lock(mu_);
      events_.push_back(Event{transport_id, state, reason});
    }
    cv_.notify_all();
  }

  bool Saw(uint64_t transport_id, TransportState state) const {
    std::lock_guard lock(mu_);
    for (const Event& e : events_) {
      if (e.transport_id == transport_id && e.state == state) return true;
    }
    return false;
  }

  // Blocks the test thread (the peers are not pumped meanwhile).
  bool WaitFor(uint64_t transport_id, TransportState state, Millis timeout = kTimeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const Event& e : events_) {
        if (e.transport_id == transport_id && e.state == state) return true;
      }
      return false;
    });
  }

  std::vector<Event> EventsFor(uint64_t transport_id) const {
    std::lock_guard lock(mu_);
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (e.transport_id == transport_id) out.push_back(e);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Event> events_;
};

// A publisher's video producer, NACKed by the worker: what every media
// fixture starts from before adding its own (RTX, simulcast, transport-cc).
inline ProducerParams VideoProducerParams(uint64_t producer_id, uint64_t transport_id,
                                          uint32_t ssrc) {
  ProducerParams p;
  p.producer_id = producer_id;
  p.transport_id = transport_id;
  p.kind = MediaKind::kVideo;
  p.mid = "0";
  p.ssrc = ssrc;
  p.nack = true;
  return p;
}

// Runs everything posted to `worker` so far (a worker executes posted
// closures in order), so later packets meet the new state; false when the
// worker thread is stuck.
inline bool DrainPosted(Worker& worker) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  worker.Post([done] { done->set_value(); });
  return f.wait_for(kTimeout) == std::future_status::ready;
}

// A transport on `worker` and a peer that knows its credentials; the worker
// knows the peer's ufrag and fingerprint unless !tell_worker. Nothing sent yet.
inline std::unique_ptr<TestPeer> NewPeerOn(Worker& worker, uint64_t transport_id,
                                           bool tell_worker = true) {
  rtc::IceCredentials ice = rtc::IceCredentials::Generate();
  worker.CreateTransport(transport_id, ice);
  std::unique_ptr<TestPeer> peer =
      TestPeer::Create(rtc::Endpoint::V4({127, 0, 0, 1}, worker.port()), ice);
  if (peer && tell_worker) {
    worker.SetRemoteParameters(transport_id, peer->local_ice().ufrag, "sha-256",
                               peer->fingerprint());
  }
  return peer;
}

// NewPeerOn, then ICE + DTLS until both sides are connected (`listener` is
// the worker's).
inline std::unique_ptr<TestPeer> ConnectedPeerOn(Worker& worker, RecordingListener& listener,
                                                 uint64_t transport_id) {
  std::unique_ptr<TestPeer> peer = NewPeerOn(worker, transport_id);
  if (!peer) return nullptr;
  if (!peer->Connect(worker.certificate().fingerprint())) return nullptr;
  // The server finishes first in DTLS 1.2 (the client's Finished comes
  // first), so the listener has normally been called already.
  if (!listener.WaitFor(transport_id, TransportState::kConnected)) {
    ADD_FAILURE() << "worker never reported transport " << transport_id << " connected";
    return nullptr;
  }
  return peer;
}

// Workers 0 and 1 on loopback (no ICE-TCP), joined by Worker::ConnectPeers.
// After a failure (reported) the array holds what started, unconnected;
// the caller stops both before destroying either (ConnectPeers' contract).
inline std::array<std::unique_ptr<Worker>, 2> StartConnectedPair(
    RecordingListener& listener, size_t relay_ring_slots = WorkerOptions{}.relay_ring_slots) {
  std::array<std::unique_ptr<Worker>, 2> workers;
  for (size_t i = 0; i < workers.size(); ++i) {
    WorkerOptions options;
    options.index = i;
    options.relay_ring_slots = relay_ring_slots;
    options.listen_ip = "127.0.0.1";
    options.tcp_enabled = false;
    auto started = Worker::Start(options, &listener);
    if (!started.ok()) {
      ADD_FAILURE() << "worker " << i << ": " << started.status().ToString();
      return workers;
    }
    workers[i] = std::move(started).value();
  }
  std::array<Worker*, 2> ptrs{workers[0].get(), workers[1].get()};
  Worker::ConnectPeers(ptrs);
  return workers;
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WorkerOptions options;
    options.listen_ip = "127.0.0.1";
    auto started = Worker::Start(options, &listener_);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    worker_ = std::move(started).value();
    server_ = rtc::Endpoint::V4({127, 0, 0, 1}, worker_->port());
  }

  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  // Runs everything posted to the worker so far (the worker executes posted
  // closures in order), so later packets meet the new state.
  void Sync() { ASSERT_TRUE(DrainPosted(*worker_)) << "worker thread stuck"; }

  std::unique_ptr<TestPeer> NewPeer(uint64_t transport_id, bool tell_worker = true) {
    return NewPeerOn(*worker_, transport_id, tell_worker);
  }

  std::unique_ptr<TestPeer> ConnectedPeer(uint64_t transport_id) {
    return ConnectedPeerOn(*worker_, listener_, transport_id);
  }

  // Polls every peer until done() holds; false on timeout.
  static bool PumpAll(std::initializer_list<TestPeer*> peers, const std::function<bool()>& done,
                      Millis timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return done();
      for (TestPeer* p : peers) p->Poll(Millis{2});
    }
    return true;
  }

  // Waits for a worker counter (incremented on the worker thread).
  static bool WaitForCounter(const std::atomic<uint64_t>& counter, uint64_t at_least,
                             Millis timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (counter.load() < at_least) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(Millis{1});  // polling interval, not a correctness wait
    }
    return true;
  }

  // Declared before the worker: the worker thread calls it until Stop().
  RecordingListener listener_;
  std::unique_ptr<Worker> worker_;
  rtc::Endpoint server_;
};

// A publisher's next test packet on its own sequence/timestamp line: a
// marker at the end of every 5th "frame" (the timestamp then moves by
// `ts_step`), a payload unique to the packet. Appends it to `sent`.
inline RtpSpec NextTestPacket(uint32_t ssrc, uint8_t payload_type, uint16_t& next_seq,
                              uint32_t& next_ts, uint32_t ts_step, std::vector<RtpSpec>& sent) {
  RtpSpec s;
  s.ssrc = ssrc;
  s.payload_type = payload_type;
  s.sequence_number = next_seq++;
  s.timestamp = next_ts;
  s.marker = sent.size() % 5 == 4;
  if (s.marker) next_ts += ts_step;
  s.payload.resize(40 + (sent.size() * 37) % 900);
  for (size_t i = 0; i < s.payload.size(); ++i) {
    s.payload[i] = static_cast<uint8_t>(sent.size() * 13 + i * 7);
  }
  sent.push_back(s);
  return s;
}

}  // namespace aegis::sfu::testing
