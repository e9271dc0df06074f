// DTLS identity of one media worker (WR-05): an ECDSA P-256 key and a
// self-signed X.509 certificate generated in memory at startup and never
// written to disk, plus the SDP `a=fingerprint` value derived from it
// (RFC 8122 §5: hash name, then uppercase hex pairs joined by ':').
// Immutable after Generate(); safe to share read-only between the transports
// of one worker. Fingerprint helpers are pure functions; parsers of remote SDP
// values take untrusted input.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aegis::rtc {

// Uppercase hex pairs separated by ':' ("AB:CD:..."), as in RFC 8122 §5.
std::string FormatFingerprint(std::span<const uint8_t> digest);

// Parses "AB:CD:..." (hex digits in either case) into bytes. Error code:
// dtls_fingerprint (empty, bad separator, odd pair, non-hex digit).
Result<std::vector<uint8_t>> ParseFingerprint(std::string_view text);

// Hash functions accepted in a=fingerprint: "sha-256", "sha-384", "sha-512"
// (case-insensitive). Returns nullptr for anything else (MD5/SHA-1 refused).
const EVP_MD* FingerprintDigest(std::string_view algorithm);

// Digest of the DER encoding of `cert` with `md`. Error code: dtls_fingerprint.
Result<std::vector<uint8_t>> CertificateDigest(X509* cert, const EVP_MD* md);

class DtlsCertificate {
 public:
  // Fresh P-256 key and a self-signed certificate (random serial and CN,
  // valid from one day ago for 30 days, signed with ECDSA-SHA256).
  // Error code: dtls_certificate.
  static Result<std::unique_ptr<DtlsCertificate>> Generate();

  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  // Borrowed; valid for the lifetime of this object.
  X509* certificate() const { return cert_; }
  EVP_PKEY* private_key() const { return key_; }

  // "AB:CD:..." of SHA-256 over the DER certificate.
  const std::string& fingerprint() const { return fingerprint_; }
  // The a=fingerprint attribute value: "sha-256 AB:CD:...".
  std::string SdpFingerprint() const { return "sha-256 " + fingerprint_; }

 private:
  DtlsCertificate(X509* cert, EVP_PKEY* key, std::string fingerprint);

  // Allocated by this (freed in the destructor).
  X509* cert_;
  EVP_PKEY* key_;
  std::string fingerprint_;
};

}  // namespace aegis::rtc
