// AES-CTR / AES-GCM on reusable EVP contexts, HMAC-SHA1 on copied SHA_CTX
// pad states, and the RFC 3711 AES-CM key derivation.
#include "rtc/srtp/srtp_crypto.h"

#include <openssl/crypto.h>

#include <cstring>
#include <string>

#include "rtc/srtp/srtp_session.h"

#if defined(OPENSSL_NO_DEPRECATED_3_0)
// SHA1_Init/Update/Final are the only OpenSSL 3.0 SHA-1 entry points whose
// state can be copied without a heap allocation (see HmacSha1 in the header).
#error \
    "the EVP SrtpSession needs OpenSSL's SHA1_* functions (OpenSSL 3.0 built with deprecated APIs)"
#endif

namespace aegis::rtc::srtp_internal {
namespace {

const EVP_CIPHER* CtrCipher(size_t key_size) {
  return key_size == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}
const EVP_CIPHER* GcmCipher(size_t key_size) {
  return key_size == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
}

Status KeySizeError(const char* what, size_t size) {
  return Status::Error(SrtpSession::kInit, std::string(what) + ": key of " + std::to_string(size) +
                                               " bytes, need 16 or 32");
}

// OpenSSL takes int lengths; every SRTP length is at most a few kB, and the
// B.2 keystream test is about 1 MB.
int Int(size_t n) { return static_cast<int>(n); }

}  // namespace

Status AesCtr::Init(std::span<const uint8_t> key) {
  if (key.size() != 16 && key.size() != 32) return KeySizeError("aes-ctr", key.size());
  ctx_.reset(EVP_CIPHER_CTX_new());
  const std::array<uint8_t, kIvSize> zero_iv{};
  if (ctx_ == nullptr || EVP_EncryptInit_ex(ctx_.get(), CtrCipher(key.size()), nullptr, key.data(),
                                            zero_iv.data()) != 1) {
    ctx_.reset();
    return Status::Error(SrtpSession::kInit, "aes-ctr: EVP context setup failed");
  }
  return Status::Ok();
}

bool AesCtr::Apply(std::span<const uint8_t, kIvSize> iv, std::span<uint8_t> data) {
  if (ctx_ == nullptr) return false;
  // Re-seeding the IV on the keyed context resets the counter and the
  // partial-block position; no key schedule, no allocation.
  if (EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (data.empty()) return true;
  int n = 0;
  return EVP_EncryptUpdate(ctx_.get(), data.data(), &n, data.data(), Int(data.size())) == 1 &&
         static_cast<size_t>(n) == data.size();
}

Status AesGcm::Init(std::span<const uint8_t> key, bool encrypt) {
  if (key.size() != 16 && key.size() != 32) return KeySizeError("aes-gcm", key.size());
  encrypt_ = encrypt;
  ctx_.reset(EVP_CIPHER_CTX_new());
  // The default GCM IV length is 12 bytes (RFC 7714 §8.1), so no
  // EVP_CTRL_GCM_SET_IVLEN is needed.
  if (ctx_ == nullptr ||
      EVP_CipherInit_ex(ctx_.get(), GcmCipher(key.size()), nullptr, key.data(), nullptr,
                        encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_get_iv_length(ctx_.get()) != static_cast<int>(kIvSize)) {
    ctx_.reset();
    return Status::Error(SrtpSession::kInit, "aes-gcm: EVP context setup failed");
  }
  return Status::Ok();
}

bool AesGcm::Seal(std::span<const uint8_t, kIvSize> iv, std::span<const uint8_t> aad_head,
                  std::span<const uint8_t> aad_tail, std::span<uint8_t> data,
                  std::span<uint8_t, kTagSize> tag) {
  if (ctx_ == nullptr || !encrypt_) return false;
  EVP_CIPHER_CTX* ctx = ctx_.get();
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (!aad_head.empty() &&
      EVP_EncryptUpdate(ctx, nullptr, &n, aad_head.data(), Int(aad_head.size())) != 1) {
    return false;
  }
  if (!aad_tail.empty() &&
      EVP_EncryptUpdate(ctx, nullptr, &n, aad_tail.data(), Int(aad_tail.size())) != 1) {
    return false;
  }
  if (!data.empty() &&
      (EVP_EncryptUpdate(ctx, data.data(), &n, data.data(), Int(data.size())) != 1 ||
       static_cast<size_t>(n) != data.size())) {
    return false;
  }
  std::array<uint8_t, 16> unused{};  // GCM's final step writes no bytes
  return EVP_EncryptFinal_ex(ctx, unused.data(), &n) == 1 && n == 0 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int(kTagSize), tag.data()) == 1;
}

bool AesGcm::Open(std::span<const uint8_t, kIvSize> iv, std::span<const uint8_t> aad_head,
                  std::span<const uint8_t> aad_tail, std::span<uint8_t> data,
                  std::span<const uint8_t, kTagSize> tag) {
  if (ctx_ == nullptr || encrypt_) return false;
  EVP_CIPHER_CTX* ctx = ctx_.get();
  int n = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (!aad_head.empty() &&
      EVP_DecryptUpdate(ctx, nullptr, &n, aad_head.data(), Int(aad_head.size())) != 1) {
    return false;
  }
  if (!aad_tail.empty() &&
      EVP_DecryptUpdate(ctx, nullptr, &n, aad_tail.data(), Int(aad_tail.size())) != 1) {
    return false;
  }
  if (!data.empty() &&
      (EVP_DecryptUpdate(ctx, data.data(), &n, data.data(), Int(data.size())) != 1 ||
       static_cast<size_t>(n) != data.size())) {
    return false;
  }
  // OpenSSL's ctrl takes a non-const pointer but only copies the tag.
  std::array<uint8_t, kTagSize> expected{};
  std::memcpy(expected.data(), tag.data(), kTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int(kTagSize), expected.data()) != 1) {
    return false;
  }
  std::array<uint8_t, 16> unused{};
  return EVP_DecryptFinal_ex(ctx, unused.data(), &n) == 1;  // compares the tag in constant time
}

// SHA1_* are deprecated in OpenSSL 3.0 in favour of EVP_MD, which allocates
// on every reinit there (see the header); they remain the fast asm path.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

HmacSha1::~HmacSha1() {
  OPENSSL_cleanse(&inner_, sizeof(inner_));
  OPENSSL_cleanse(&outer_, sizeof(outer_));
}

Status HmacSha1::Init(std::span<const uint8_t> key) {
  constexpr size_t kBlock = 64;
  if (key.size() > kBlock) {
    return Status::Error(SrtpSession::kInit, "hmac-sha1: key longer than one block");
  }
  std::array<uint8_t, kBlock> ipad{};
  std::array<uint8_t, kBlock> opad{};
  for (size_t i = 0; i < kBlock; ++i) {
    const uint8_t k = i < key.size() ? key[i] : 0;
    ipad[i] = static_cast<uint8_t>(k ^ 0x36);
    opad[i] = static_cast<uint8_t>(k ^ 0x5C);
  }
  const bool ok = SHA1_Init(&inner_) == 1 && SHA1_Update(&inner_, ipad.data(), kBlock) == 1 &&
                  SHA1_Init(&outer_) == 1 && SHA1_Update(&outer_, opad.data(), kBlock) == 1;
  OPENSSL_cleanse(ipad.data(), ipad.size());
  OPENSSL_cleanse(opad.data(), opad.size());
  if (!ok) return Status::Error(SrtpSession::kInit, "hmac-sha1: SHA1_Init failed");
  return Status::Ok();
}

void HmacSha1::Compute(std::span<const uint8_t> first, std::span<const uint8_t> second,
                       std::span<uint8_t, kDigestSize> out) const {
  // SHA1_Update/Final cannot fail for a valid context and in-memory input.
  std::array<uint8_t, kDigestSize> inner_digest{};
  SHA_CTX ctx = inner_;
  SHA1_Update(&ctx, first.data(), first.size());
  SHA1_Update(&ctx, second.data(), second.size());
  SHA1_Final(inner_digest.data(), &ctx);
  ctx = outer_;
  SHA1_Update(&ctx, inner_digest.data(), inner_digest.size());
  SHA1_Final(out.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
}

#pragma GCC diagnostic pop

Status DeriveSrtpKey(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
                     uint8_t label, std::span<uint8_t> out) {
  if (master_salt.size() != 12 && master_salt.size() != 14) {
    return Status::Error(
        SrtpSession::kInit,
        "kdf: master salt of " + std::to_string(master_salt.size()) + " bytes, need 12 or 14");
  }
  AesCtr prf;
  AEGIS_RETURN_IF_ERROR(prf.Init(master_key));
  std::array<uint8_t, AesCtr::kIvSize> x{};  // salt (padded to 14) || 2 zero counter bytes
  std::memcpy(x.data(), master_salt.data(), master_salt.size());
  x[7] ^= label;  // key_id = label || (index DIV kdr) = label || 0^48, aligned right in 14 bytes
  std::memset(out.data(), 0, out.size());
  if (!prf.Apply(x, out)) return Status::Error(SrtpSession::kInit, "kdf: AES-CM failed");
  return Status::Ok();
}

}  // namespace aegis::rtc::srtp_internal
