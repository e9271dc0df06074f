// Transport-wide congestion control feedback (RTPFB FMT 15,
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). Parse() walks the
// status chunks until they cover packet_status_count and checks every receive
// delta they announce is present (a count larger than the packet is rejected;
// reserved symbol 3 too, as in libwebrtc). A view over the untrusted compound
// buffer; ForEachPacket() re-walks it without allocating.
// TransportCcFeedbackBuilder writes the same packet from arrival times, in
// fixed storage. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

enum class TwccStatus : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2 };

class TransportCcFeedback {
 public:
  static constexpr int64_t kDeltaTickMicros = 250;
  static constexpr int64_t kReferenceTickMicros = 64000;

  static Result<TransportCcFeedback> Parse(const RtcpPacketView& packet);

  uint32_t sender_ssrc() const { return sender_ssrc_; }
  uint32_t media_ssrc() const { return media_ssrc_; }
  uint16_t base_sequence_number() const { return base_sequence_; }
  uint16_t packet_status_count() const { return status_count_; }
  int32_t reference_time() const { return reference_time_; }  // 24-bit signed, 64 ms ticks
  uint8_t feedback_packet_count() const { return feedback_count_; }
  size_t received_count() const { return received_count_; }

  // fn(uint16_t seq, TwccStatus status, int32_t delta_ticks) for each of the
  // packet_status_count() packets; delta_ticks (250 µs) is 0 if not received.
  template <typename Fn>
  void ForEachPacket(Fn&& fn) const {
    (void)Walk(chunks_, status_count_, base_sequence_, fn, nullptr);
  }

 private:
  // Decodes chunks then deltas from `data`. On success stores in
  // *received (if set) how many packets were received; false when malformed.
  template <typename Fn>
  static bool Walk(std::span<const uint8_t> data, uint16_t status_count, uint16_t base, Fn&& fn,
                   size_t* received);

  std::span<const uint8_t> chunks_;  // status chunks, deltas and trailing padding
  uint32_t sender_ssrc_ = 0;
  uint32_t media_ssrc_ = 0;
  int32_t reference_time_ = 0;
  uint16_t base_sequence_ = 0;
  uint16_t status_count_ = 0;
  uint8_t feedback_count_ = 0;
  size_t received_count_ = 0;
};

// One feedback packet for consecutive transport-wide sequence numbers from
// `base_sequence`: Add() them in order, then Write(). The reference time is
// taken from the first received packet's arrival (floored to 64 ms); each
// received packet's delta is from the previous received one, in 250 µs ticks,
// computed on absolute ticks so rounding never accumulates.
class TransportCcFeedbackBuilder {
 public:
  static constexpr size_t kMaxPackets = 1024;

  TransportCcFeedbackBuilder(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t feedback_count,
                             uint16_t base_sequence)
      : sender_ssrc_(sender_ssrc),
        media_ssrc_(media_ssrc),
        feedback_count_(feedback_count),
        base_sequence_(base_sequence) {}

  // Appends sequence number base + packet_count(): received at `arrival_us`
  // (monotonic microseconds), or lost (nullopt). False, with nothing added,
  // when the builder is full or the delta does not fit 16 signed bits: send
  // this packet and start the next builder at the refused one.
  [[nodiscard]] bool Add(std::optional<int64_t> arrival_us);

  uint16_t base_sequence() const { return base_sequence_; }
  size_t packet_count() const { return count_; }
  bool has_received() const { return have_reference_; }

  // Writes the whole RTCP packet (zero-padded to 32 bits with the P bit,
  // as libwebrtc does). Errors: nothing received yet, or no space.
  [[nodiscard]] Status Write(ByteWriter& writer) const;

 private:
  uint32_t sender_ssrc_;
  uint32_t media_ssrc_;
  uint8_t feedback_count_;
  uint16_t base_sequence_;
  bool have_reference_ = false;
  int32_t reference_time_ = 0;  // 64 ms units
  int64_t last_ticks_ = 0;      // 250 µs ticks of the last received packet
  size_t count_ = 0;
  size_t delta_bytes_ = 0;
  std::array<uint8_t, kMaxPackets> symbols_{};
  std::array<int16_t, kMaxPackets> deltas_{};
};

template <typename Fn>
bool TransportCcFeedback::Walk(std::span<const uint8_t> data, uint16_t status_count, uint16_t base,
                               Fn&& fn, size_t* received) {
  // Pass 1: find where the chunks end and how many delta bytes follow.
  ByteReader chunks(data);
  size_t covered = 0;
  size_t delta_bytes = 0;
  size_t received_count = 0;
  auto account = [&](uint8_t symbol) {
    if (symbol == 3) return false;
    if (symbol != 0) ++received_count;
    delta_bytes += symbol;  // small: 1 byte, large: 2 bytes
    return true;
  };
  while (covered < status_count) {
    uint16_t chunk = 0;
    if (!chunks.ReadU16(&chunk)) return false;  // status count larger than the packet
    const size_t left = status_count - covered;
    if ((chunk & 0x8000) == 0) {  // run length chunk
      const uint8_t symbol = (chunk >> 13) & 0x3;
      size_t run = chunk & 0x1FFF;
      if (run > left) run = left;
      if (symbol == 3) return false;
      received_count += symbol != 0 ? run : 0;
      delta_bytes += run * symbol;
      covered += run;
    } else {
      const bool two_bit = (chunk & 0x4000) != 0;
      const size_t symbols = two_bit ? 7 : 14;
      const size_t n = symbols < left ? symbols : left;
      for (size_t i = 0; i < n; ++i) {
        const uint8_t symbol =
            two_bit ? ((chunk >> (12 - 2 * i)) & 0x3) : ((chunk >> (13 - i)) & 0x1);
        if (!account(symbol)) return false;
      }
      covered += n;
    }
  }
  const size_t chunks_end = chunks.position();
  if (chunks.remaining() < delta_bytes) return false;
  if (received != nullptr) *received = received_count;

  // Pass 2 (only with a real callback): replay the chunks and read deltas.
  if constexpr (!std::is_same_v<std::decay_t<Fn>, std::nullptr_t>) {
    ByteReader replay(data.first(chunks_end));
    ByteReader deltas(data.subspan(chunks_end));
    uint16_t seq = base;
    size_t done = 0;
    auto emit = [&](uint8_t symbol) {
      int32_t delta = 0;
      if (symbol == 1) {
        uint8_t small = 0;
        if (!deltas.ReadU8(&small)) return false;
        delta = small;
      } else if (symbol == 2) {
        uint16_t large = 0;
        if (!deltas.ReadU16(&large)) return false;
        delta = static_cast<int16_t>(large);
      }
      fn(seq, static_cast<TwccStatus>(symbol), delta);
      seq = static_cast<uint16_t>(seq + 1);
      ++done;
      return true;
    };
    while (done < status_count) {
      uint16_t chunk = 0;
      if (!replay.ReadU16(&chunk)) return false;
      const size_t left = status_count - done;
      if ((chunk & 0x8000) == 0) {
        const uint8_t symbol = (chunk >> 13) & 0x3;
        size_t run = chunk & 0x1FFF;
        if (run > left) run = left;
        for (size_t i = 0; i < run; ++i) {
          if (!emit(symbol)) return false;
        }
      } else {
        const bool two_bit = (chunk & 0x4000) != 0;
        const size_t symbols = two_bit ? 7 : 14;
        const size_t n = symbols < left ? symbols : left;
        for (size_t i = 0; i < n; ++i) {
          const uint8_t symbol =
              two_bit ? ((chunk >> (12 - 2 * i)) & 0x3) : ((chunk >> (13 - i)) & 0x1);
          if (!emit(symbol)) return false;
        }
      }
    }
  }
  return true;
}

}  // namespace aegis::rtc
