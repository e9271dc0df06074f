#include "rtc/dtls/dtls_certificate.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <string>
#include <utility>

#include "crypto/primitives.h"

namespace aegis::rtc {
namespace {

constexpr long kNotBeforeSeconds = -24L * 3600;     // tolerate peer clock skew
constexpr long kLifetimeSeconds = 30L * 24 * 3600;  // rotated with the worker
constexpr char kHexUpper[] = "0123456789ABCDEF";
// 64 pairs (SHA-512) at most: "XX:" * 64 - 1.
constexpr size_t kMaxFingerprintText = size_t{3} * 64 - 1;

Status CertError(const char* what) {
  return Status::Error("dtls_certificate", std::string("certificate generation failed: ") + what);
}

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

}  // namespace

std::string FormatFingerprint(std::span<const uint8_t> digest) {
  std::string out;
  out.reserve(digest.size() * 3);
  for (uint8_t b : digest) {
    if (!out.empty()) out.push_back(':');
    out.push_back(kHexUpper[b >> 4]);
    out.push_back(kHexUpper[b & 0x0f]);
  }
  return out;
}

Result<std::vector<uint8_t>> ParseFingerprint(std::string_view text) {
  // Exactly "XX(:XX)*": 3n-1 characters.
  if (text.empty() || text.size() > kMaxFingerprintText || (text.size() + 1) % 3 != 0) {
    return Status::Error("dtls_fingerprint", "fingerprint has a bad length");
  }
  std::vector<uint8_t> out;
  out.reserve((text.size() + 1) / 3);
  for (size_t i = 0; i < text.size(); i += 3) {
    const int hi = HexNibble(text[i]);
    const int lo = HexNibble(text[i + 1]);
    if (hi < 0 || lo < 0)
      return Status::Error("dtls_fingerprint", "fingerprint has a non-hex digit");
    if (i + 2 < text.size() && text[i + 2] != ':') {
      return Status::Error("dtls_fingerprint", "fingerprint pairs must be separated by ':'");
    }
    out.push_back(static_cast<uint8_t>((hi << 4) | lo));
  }
  return out;
}

const EVP_MD* FingerprintDigest(std::string_view algorithm) {
  std::string lower(algorithm);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "sha-256") return EVP_sha256();
  if (lower == "sha-384") return EVP_sha384();
  if (lower == "sha-512") return EVP_sha512();
  return nullptr;
}

Result<std::vector<uint8_t>> CertificateDigest(X509* cert, const EVP_MD* md) {
  if (cert == nullptr || md == nullptr) {
    return Status::Error("dtls_fingerprint", "no certificate or digest");
  }
  std::array<uint8_t, EVP_MAX_MD_SIZE> buf{};
  unsigned int len = 0;
  if (X509_digest(cert, md, buf.data(), &len) != 1) {
    return Status::Error("dtls_fingerprint", "X509_digest failed");
  }
  return std::vector<uint8_t>(buf.begin(), buf.begin() + len);
}

Result<std::unique_ptr<DtlsCertificate>> DtlsCertificate::Generate() {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  if (!key) return CertError("EVP_EC_gen");
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) return CertError("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return CertError("version");

  // 63-bit positive random serial (RFC 5280 §4.1.2.2: at most 20 octets).
  std::array<uint8_t, 8> serial_bytes{};
  crypto::RandomBytes(serial_bytes);
  serial_bytes[0] &= 0x7f;
  BIGNUM* serial_bn = BN_bin2bn(serial_bytes.data(), serial_bytes.size(), nullptr);
  if (serial_bn == nullptr) return CertError("serial");
  const bool serial_ok =
      BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(serial_bn);
  if (!serial_ok) return CertError("serial");

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), kNotBeforeSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kLifetimeSeconds) == nullptr) {
    return CertError("validity");
  }
  // A random CN, so the certificate does not identify the deployment.
  const std::string cn = crypto::RandomAlnum(16);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return CertError("name");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return CertError("pubkey");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return CertError("sign");

  auto digest = CertificateDigest(cert.get(), EVP_sha256());
  if (!digest.ok()) return CertError("digest");
  std::string fp = FormatFingerprint(*digest);
  return std::unique_ptr<DtlsCertificate>(
      new DtlsCertificate(cert.release(), key.release(), std::move(fp)));
}

DtlsCertificate::DtlsCertificate(X509* cert, EVP_PKEY* key, std::string fingerprint)
    : cert_(cert), key_(key), fingerprint_(std::move(fingerprint)) {}

DtlsCertificate::~DtlsCertificate() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

}  // namespace aegis::rtc
