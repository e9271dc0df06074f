#include "crypto/aead.h"

#include <openssl/evp.h>

#include <memory>

namespace aegis::crypto {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

}  // namespace

Result<Bytes> AesGcmSeal(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                         std::span<const uint8_t> plaintext) {
  if (key.size() != kAeadKeyBytes)
    return Status::Error("crypto_bad_key", "AES-256-GCM key must be 32 bytes");
  Bytes out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes);
  RandomBytes(std::span<uint8_t>(out.data(), kAeadNonceBytes));
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kAeadNonceBytes, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kAeadNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagBytes,
                          out.data() + kAeadNonceBytes + plaintext.size()) != 1) {
    return Status::Error("crypto_failure", "AES-GCM encryption failed");
  }
  return out;
}

Result<Bytes> AesGcmOpen(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                         std::span<const uint8_t> sealed) {
  if (key.size() != kAeadKeyBytes)
    return Status::Error("crypto_bad_key", "AES-256-GCM key must be 32 bytes");
  if (sealed.size() < kAeadOverhead)
    return Status::Error("crypto_bad_ciphertext", "ciphertext too short");
  const size_t ct_len = sealed.size() - kAeadOverhead;
  Bytes out(ct_len);
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  Bytes tag(sealed.end() - kAeadTagBytes, sealed.end());
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + kAeadNonceBytes,
                        static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    SecureZero(out);
    return Status::Error("crypto_auth_failed", "ciphertext failed authentication");
  }
  return out;
}

}  // namespace aegis::crypto
