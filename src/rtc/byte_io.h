// Bounds-checked big-endian reader and writer over caller-owned bytes, for
// every wire format in rtc/ (STYLE.md habit 4: never cast structs over bytes).
// Reader: every Read* returns false (and reads nothing) when fewer bytes remain
// than asked; input is untrusted. Writer: every Write* returns false when the
// destination is full. Neither allocates nor owns memory. Not thread-safe
// (values on the stack of one event loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace aegis::rtc {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }

  [[nodiscard]] bool ReadU8(uint8_t* out) {
    if (remaining() < 1) return false;
    *out = data_[pos_++];
    return true;
  }
  [[nodiscard]] bool ReadU16(uint16_t* out) {
    if (remaining() < 2) return false;
    *out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool ReadU24(uint32_t* out) {
    if (remaining() < 3) return false;
    *out = (uint32_t{data_[pos_]} << 16) | (uint32_t{data_[pos_ + 1]} << 8) | data_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  [[nodiscard]] bool ReadU32(uint32_t* out) {
    if (remaining() < 4) return false;
    *out = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
           (uint32_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  // A view of the next n bytes (no copy).
  [[nodiscard]] bool ReadBytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  [[nodiscard]] bool Skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> Rest() const { return data_.subspan(pos_); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  explicit ByteWriter(std::span<uint8_t> out) : out_(out) {}

  size_t size() const { return pos_; }
  size_t remaining() const { return out_.size() - pos_; }
  std::span<uint8_t> Written() const { return out_.first(pos_); }

  [[nodiscard]] bool WriteU8(uint8_t v) {
    if (remaining() < 1) return false;
    out_[pos_++] = v;
    return true;
  }
  [[nodiscard]] bool WriteU16(uint16_t v) {
    if (remaining() < 2) return false;
    out_[pos_++] = static_cast<uint8_t>(v >> 8);
    out_[pos_++] = static_cast<uint8_t>(v);
    return true;
  }
  [[nodiscard]] bool WriteU32(uint32_t v) {
    if (remaining() < 4) return false;
    for (int shift = 24; shift >= 0; shift -= 8) out_[pos_++] = static_cast<uint8_t>(v >> shift);
    return true;
  }
  [[nodiscard]] bool WriteBytes(std::span<const uint8_t> bytes) {
    if (remaining() < bytes.size()) return false;
    if (!bytes.empty()) std::memcpy(out_.data() + pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
    return true;
  }
  [[nodiscard]] bool WriteZeros(size_t n) {
    if (remaining() < n) return false;
    std::memset(out_.data() + pos_, 0, n);
    pos_ += n;
    return true;
  }
  // Overwrites 2 bytes at an earlier offset (length fields written after the body).
  [[nodiscard]] bool PatchU16(size_t offset, uint16_t v) {
    if (offset + 2 > pos_) return false;
    out_[offset] = static_cast<uint8_t>(v >> 8);
    out_[offset + 1] = static_cast<uint8_t>(v);
    return true;
  }

 private:
  std::span<uint8_t> out_;
  size_t pos_ = 0;
};

}  // namespace aegis::rtc
