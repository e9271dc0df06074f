// libFuzzer target for rtc/sctp (FZ-01, FZ-08): the input's first byte picks
// the mode, the rest is the payload.
//  0: DCEP parse (OPEN, ACK, type peek); an OPEN that parses must rebuild to
//     the same bytes.
//  1: a fresh server association (listening) fed a sequence of packets, each
//     prefixed by a 2-byte big-endian length, CRC32c fixed up so the packets
//     get past usrsctp's checksum and reach its chunk parsers.
//  2: like 1, but into the server of an established in-memory pair with one
//     open channel, and the verification tag set to the one the server
//     expects, so DATA chunks (DCEP, user messages, partial delivery) and
//     stream resets are exercised.
// Invariants: nothing crashes or leaks, emitted packets are non-empty, and
// delivered messages respect max_message_size and carry a user PPID.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rtc/sctp/dcep.h"
#include "rtc/sctp/sctp_association.h"

namespace {

using aegis::rtc::DcepOpen;
using aegis::rtc::SctpAssociation;
using aegis::rtc::SctpConfig;
using aegis::rtc::SctpPpid;
using aegis::rtc::SctpRole;
using aegis::rtc::SctpState;

void Check(bool condition) {
  if (!condition) std::abort();
}

constexpr size_t kMaxMessage = 2048;  // small, so the size checks are reachable

int64_t g_now_ms = 0;

// CRC32c (Castagnoli, reflected), as SCTP computes it (RFC 4960 Appendix B).
uint32_t Crc32c(std::span<const uint8_t> data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t byte : data) {
    crc ^= byte;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// Writes the checksum the way SCTP transmits it (least significant byte first).
void FixChecksum(std::vector<uint8_t>* packet) {
  if (packet->size() < 12) return;
  std::memset(packet->data() + 8, 0, 4);
  const uint32_t crc = Crc32c(*packet);
  for (int i = 0; i < 4; ++i) (*packet)[8 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

class Sink : public SctpAssociation::Listener {
 public:
  explicit Sink(std::deque<std::vector<uint8_t>>* wire) : wire_(wire) {}
  void OnSctpOutgoing(std::span<const uint8_t> packet) override {
    // An INIT-ACK echoes the (fuzzed) INIT in its cookie, so only a loose bound.
    Check(!packet.empty() && packet.size() <= 65535);
    if (wire_ != nullptr) wire_->emplace_back(packet.begin(), packet.end());
  }
  void OnSctpConnected() override { connected = true; }
  void OnSctpChannelOpen(uint16_t /*stream_id*/, std::string_view /*label*/,
                         std::string_view /*protocol*/, bool /*reliable*/,
                         bool /*ordered*/) override {}
  void OnSctpMessage(uint16_t /*stream_id*/, SctpPpid ppid,
                     std::span<const uint8_t> message) override {
    Check(message.size() <= kMaxMessage);
    Check(ppid == SctpPpid::kString || ppid == SctpPpid::kBinary);
  }
  void OnSctpClosed(const std::string& /*reason*/) override {}
  bool connected = false;

 private:
  std::deque<std::vector<uint8_t>>* wire_;
};

void FuzzDcep(std::span<const uint8_t> data) {
  (void)aegis::rtc::PeekDcepType(data);
  (void)aegis::rtc::ParseDcepAck(data);
  auto open = aegis::rtc::ParseDcepOpen(data);
  if (!open.ok()) return;
  auto rebuilt = aegis::rtc::BuildDcepOpen(*open);
  Check(rebuilt.ok());
  Check(rebuilt->size() == data.size() &&
        std::memcmp(rebuilt->data(), data.data(), data.size()) == 0);
}

std::unique_ptr<SctpAssociation> NewAssociation(SctpRole role, Sink* sink) {
  SctpConfig config;
  config.role = role;
  config.max_message_size = kMaxMessage;
  auto association = SctpAssociation::Create(config, sink);
  Check(association.ok());
  Check((*association)->Start().ok());
  return std::move(association).value();
}

// Feeds length-prefixed packets; `vtag` (if non-null) overwrites bytes 4..7,
// and a first chunk that is DATA gets `tsn_base` added to its TSN, so the
// input's TSNs are offsets from the next one the server expects.
void FeedPackets(std::span<const uint8_t> data, SctpAssociation* to, const uint8_t* vtag,
                 uint32_t tsn_base = 0) {
  size_t pos = 0;
  while (pos + 2 <= data.size()) {
    const size_t len = (static_cast<size_t>(data[pos]) << 8) | data[pos + 1];
    pos += 2;
    const size_t take = len < data.size() - pos ? len : data.size() - pos;
    std::vector<uint8_t> packet(data.begin() + pos, data.begin() + pos + take);
    pos += take;
    if (vtag != nullptr && packet.size() >= 8) std::memcpy(packet.data() + 4, vtag, 4);
    if (vtag != nullptr && packet.size() >= 20 && packet[12] == 0) {
      uint32_t tsn = 0;
      for (int i = 0; i < 4; ++i) tsn = (tsn << 8) | packet[16 + i];
      tsn += tsn_base;
      for (int i = 0; i < 4; ++i) packet[16 + i] = static_cast<uint8_t>(tsn >> (24 - 8 * i));
    }
    FixChecksum(&packet);
    to->HandleIncoming(packet);
  }
}

void FuzzEstablished(std::span<const uint8_t> data) {
  std::deque<std::vector<uint8_t>> to_server;
  std::deque<std::vector<uint8_t>> to_client;
  Sink server_sink(&to_client);
  Sink client_sink(&to_server);
  auto server = NewAssociation(SctpRole::kServer, &server_sink);
  auto client = NewAssociation(SctpRole::kClient, &client_sink);
  uint8_t vtag[4] = {};
  uint32_t next_tsn = 0;
  auto pump = [&] {
    for (int round = 0; round < 64 && (!to_server.empty() || !to_client.empty()); ++round) {
      while (!to_server.empty()) {
        std::vector<uint8_t> packet = std::move(to_server.front());
        to_server.pop_front();
        if (packet.size() >= 12) {
          // Self-check of FixChecksum() on a packet usrsctp built.
          std::vector<uint8_t> copy = packet;
          FixChecksum(&copy);
          Check(copy == packet);
          std::memcpy(vtag, packet.data() + 4, 4);
          if (packet.size() >= 20 && packet[12] == 0) {  // DATA first: remember its TSN
            uint32_t tsn = 0;
            for (int i = 0; i < 4; ++i) tsn = (tsn << 8) | packet[16 + i];
            next_tsn = tsn + 1;
          }
        }
        server->HandleIncoming(packet);
      }
      while (!to_client.empty()) {
        std::vector<uint8_t> packet = std::move(to_client.front());
        to_client.pop_front();
        client->HandleIncoming(packet);
      }
    }
  };
  pump();
  Check(server_sink.connected && client_sink.connected);
  Check(client->OpenChannel(DcepOpen{}).ok());
  pump();
  // Client packets are dropped from here on: only the fuzzer talks to the server.
  FeedPackets(data, server.get(), vtag, next_tsn);
  (void)server->Send(0, SctpPpid::kString, data.first(data.size() < 64 ? data.size() : 64));
  to_server.clear();
  to_client.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> payload(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      FuzzDcep(payload);
      break;
    case 1: {
      Sink sink(nullptr);
      auto server = NewAssociation(SctpRole::kServer, &sink);
      FeedPackets(payload, server.get(), nullptr);
      break;
    }
    default:
      FuzzEstablished(payload);
      break;
  }
  // Let usrsctp run its timers (and free closed endpoints) between inputs.
  g_now_ms += 1000;
  SctpAssociation::AdvanceClock(g_now_ms);
  return 0;
}
