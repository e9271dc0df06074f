// libFuzzer target for RTCP (FZ-01/FZ-02): RFC 7983 classifier, compound
// iteration with the first byte forced to version 2, every typed parser and
// getter, then the builders fed with what was parsed and parsed again, with
// round-trip equality where the format allows. Inputs capped at 1500 bytes.
#include <array>
#include <bitset>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "rtc/demux.h"
#include "rtc/rtp/rtcp_bye.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtcp_remb.h"
#include "rtc/rtp/rtcp_report.h"
#include "rtc/rtp/rtcp_sdes.h"
#include "rtc/rtp/rtcp_transport_cc.h"

namespace {

using namespace aegis::rtc;  // NOLINT(google-build-using-namespace): fuzz harness

void Check(bool condition) {
  if (!condition) std::abort();
}

// Parses exactly one packet out of freshly built bytes.
RtcpPacketView Reparse(std::span<const uint8_t> bytes) {
  RtcpCompoundIterator it(bytes);
  Check(it.Valid());
  RtcpPacketView view = it.packet();
  it.Next();
  Check(!it.Valid() && it.status().ok());
  return view;
}

std::array<uint8_t, 2048> g_out;
std::array<uint16_t, 8192> g_seqs;
std::array<ReportBlock, kRtcpMaxCount> g_blocks;
std::array<FirEntry, 256> g_fir;
std::array<uint32_t, 255> g_ssrcs;
std::bitset<65536> g_lost_in;
std::bitset<65536> g_lost_out;

template <typename Report>
size_t CollectBlocks(const Report& report) {
  const size_t n = report.report_count();
  Check(n <= kRtcpMaxCount);
  for (size_t i = 0; i < n; ++i) g_blocks[i] = report.report_block(i);
  return n;
}

uint64_t Exercise(const RtcpPacketView& p) {
  uint64_t sink = p.count + p.type + p.body.size();
  ByteWriter out(g_out);
  if (p.Is(RtcpType::kSr)) {
    auto sr = SenderReport::Parse(p);
    if (!sr.ok()) return sink;
    const size_t n = CollectBlocks(*sr);
    Check(WriteSenderReport(out, sr->sender_info(), std::span(g_blocks.data(), n)).ok());
    auto back = SenderReport::Parse(Reparse(out.Written()));
    Check(back.ok() && back->sender_info() == sr->sender_info() && back->report_count() == n);
    for (size_t i = 0; i < n; ++i) Check(back->report_block(i) == g_blocks[i]);
  } else if (p.Is(RtcpType::kRr)) {
    auto rr = ReceiverReport::Parse(p);
    if (!rr.ok()) return sink;
    const size_t n = CollectBlocks(*rr);
    Check(WriteReceiverReport(out, rr->sender_ssrc(), std::span(g_blocks.data(), n)).ok());
    auto back = ReceiverReport::Parse(Reparse(out.Written()));
    Check(back.ok() && back->sender_ssrc() == rr->sender_ssrc() && back->report_count() == n);
    for (size_t i = 0; i < n; ++i) Check(back->report_block(i) == g_blocks[i]);
  } else if (p.Is(RtcpType::kSdes)) {
    auto sdes = Sdes::Parse(p);
    if (!sdes.ok()) return sink;
    sdes->ForEachItem(
        [&](uint32_t ssrc, uint8_t type, std::string_view v) { sink += ssrc + type + v.size(); });
  } else if (p.Is(RtcpType::kBye)) {
    auto bye = Bye::Parse(p);
    if (!bye.ok()) return sink;
    for (size_t i = 0; i <= bye->ssrc_count(); ++i) sink += bye->ssrc(i);
    sink += bye->reason().size();
  } else if (p.Is(RtcpType::kRtpfb) && p.count == 1) {
    auto nack = GenericNack::Parse(p);
    if (!nack.ok()) return sink;
    size_t n = 0;
    g_lost_in.reset();
    nack->ForEachLost([&](uint16_t seq) {
      Check(n < g_seqs.size());
      g_seqs[n++] = seq;
      g_lost_in.set(seq);
    });
    Check(n >= nack->entry_count());
    Check(
        WriteGenericNack(out, nack->sender_ssrc(), nack->media_ssrc(), std::span(g_seqs.data(), n))
            .ok());
    auto back = GenericNack::Parse(Reparse(out.Written()));
    Check(back.ok() && back->media_ssrc() == nack->media_ssrc());
    Check(back->entry_count() <= nack->entry_count());
    g_lost_out.reset();
    back->ForEachLost([&](uint16_t seq) { g_lost_out.set(seq); });
    Check(g_lost_in == g_lost_out);
  } else if (p.Is(RtcpType::kRtpfb) && p.count == 15) {
    auto fb = TransportCcFeedback::Parse(p);
    if (!fb.ok()) return sink;
    size_t total = 0;
    size_t received = 0;
    uint16_t expected = fb->base_sequence_number();
    fb->ForEachPacket([&](uint16_t seq, TwccStatus status, int32_t delta) {
      Check(seq == expected);
      expected = static_cast<uint16_t>(expected + 1);
      ++total;
      if (status != TwccStatus::kNotReceived) ++received;
      sink += static_cast<uint64_t>(delta);
    });
    Check(total == fb->packet_status_count());
    Check(received == fb->received_count());
    sink += static_cast<uint64_t>(fb->reference_time()) + fb->feedback_packet_count();
  } else if (p.Is(RtcpType::kPsfb) && p.count == 1) {
    auto pli = Pli::Parse(p);
    if (!pli.ok()) return sink;
    Check(WritePli(out, pli->sender_ssrc(), pli->media_ssrc()).ok());
    auto back = Pli::Parse(Reparse(out.Written()));
    Check(back.ok() && back->media_ssrc() == pli->media_ssrc());
  } else if (p.Is(RtcpType::kPsfb) && p.count == 4) {
    auto fir = Fir::Parse(p);
    if (!fir.ok()) return sink;
    const size_t n = fir->entry_count();
    Check(n >= 1 && n <= g_fir.size());
    for (size_t i = 0; i < n; ++i) g_fir[i] = fir->entry(i);
    Check(WriteFir(out, fir->sender_ssrc(), std::span(g_fir.data(), n)).ok());
    auto back = Fir::Parse(Reparse(out.Written()));
    Check(back.ok() && back->entry_count() == n);
    for (size_t i = 0; i < n; ++i) Check(back->entry(i) == g_fir[i]);
  } else if (p.Is(RtcpType::kPsfb) && p.count == 15) {
    auto remb = Remb::Parse(p);
    if (!remb.ok()) return sink;
    const size_t n = remb->ssrc_count();
    Check(n <= g_ssrcs.size());
    for (size_t i = 0; i < n; ++i) g_ssrcs[i] = remb->ssrc(i);
    Check(WriteRemb(out, remb->sender_ssrc(), remb->bitrate_bps(), std::span(g_ssrcs.data(), n))
              .ok());
    auto back = Remb::Parse(Reparse(out.Written()));
    Check(back.ok() && back->bitrate_bps() == remb->bitrate_bps() && back->ssrc_count() == n);
    for (size_t i = 0; i < n; ++i) Check(back->ssrc(i) == g_ssrcs[i]);
  }
  return sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxDatagramSize) return 0;
  (void)Classify(std::span<const uint8_t>(data, size));
  if (size == 0) return 0;
  std::vector<uint8_t> buf(data, data + size);            // exact size: ASan sees over-reads
  buf[0] = static_cast<uint8_t>((buf[0] & 0x3F) | 0x80);  // force version 2
  (void)Classify(buf);

  uint64_t sink = 0;
  RtcpCompoundIterator it(buf);
  for (; it.Valid(); it.Next()) {
    const RtcpPacketView& p = it.packet();
    Check(p.packet.size() >= kRtcpHeaderSize && p.packet.size() % 4 == 0);
    Check(p.body.size() + kRtcpHeaderSize <= p.packet.size());
    sink += Exercise(p);
  }
  Check(ValidateRtcpCompound(buf).ok() == it.status().ok());
  volatile uint64_t keep = sink;
  (void)keep;
  return 0;
}
