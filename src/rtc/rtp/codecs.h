// Video payload inspection for the SFU's simulcast switching: keyframe
// detection for VP8 (RFC 7741) and H.264 (RFC 6184), and the VP8 payload
// descriptor's PictureID / TL0PICIDX fields, which a forwarder rewrites so a
// subscriber sees one continuous picture line across layer switches. Free
// functions over a payload span the caller owns; they never allocate. Payloads
// are untrusted: every length is checked, a short or malformed payload is
// "not a keyframe" / an error, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"

namespace aegis::rtc {

enum class VideoCodec : uint8_t { kUnknown, kVp8, kH264 };

// From an a=rtpmap encoding name ("VP8", "h264"); case-insensitive.
VideoCodec VideoCodecFromName(std::string_view encoding_name);

// RFC 7741 §4.2 payload descriptor (the part an SFU reads and rewrites).
struct Vp8Descriptor {
  bool start_of_partition = false;  // S
  uint8_t partition_id = 0;         // PID
  bool has_picture_id = false;      // I
  bool picture_id_15bit = false;    // M
  uint16_t picture_id = 0;
  size_t picture_id_offset = 0;  // byte offset of PictureID in the payload
  bool has_tl0picidx = false;    // L
  uint8_t tl0picidx = 0;
  size_t tl0picidx_offset = 0;
  size_t size = 0;  // descriptor length; the VP8 payload starts here
};

// Errors: vp8_descriptor (shorter than its own flags say).
[[nodiscard]] Result<Vp8Descriptor> ParseVp8Descriptor(std::span<const uint8_t> payload);

// The first packet of a VP8 keyframe: S=1, PID=0 and the payload header's P
// bit (inverse key frame flag) 0 (RFC 7741 §4.3).
bool IsVp8KeyFrame(std::span<const uint8_t> payload);

// A packet starting an H.264 IDR access unit: single NAL unit of type 5 (IDR)
// or 7 (SPS), a STAP-A aggregating one, or the first FU-A fragment of one
// (RFC 6184 §5.6-5.8).
bool IsH264KeyFrame(std::span<const uint8_t> payload);

// kUnknown: false.
bool IsKeyFrame(VideoCodec codec, std::span<const uint8_t> payload);

// Rewrites the fields `d` (parsed from `payload`) located, in place, keeping
// their width: a 7-bit PictureID stays 7-bit (the value is masked).
void WriteVp8PictureId(std::span<uint8_t> payload, const Vp8Descriptor& d, uint16_t picture_id);
void WriteVp8Tl0PicIdx(std::span<uint8_t> payload, const Vp8Descriptor& d, uint8_t tl0picidx);

}  // namespace aegis::rtc
