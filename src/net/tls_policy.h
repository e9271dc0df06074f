// The one place where Aegis's TLS policy is written down (HTTPS and WSS):
// TLS 1.2 minimum, TLS 1.3 preferred (highest mutual version wins), for
// TLS 1.2 only ECDHE key exchange with AEAD ciphers, the default TLS 1.3 AEAD
// suites, no compression, no renegotiation, server cipher preference.
// Functions configure an OpenSSL SSL_CTX (a boost::asio::ssl::context exposes
// it via native_handle()). Call before the context is shared; not thread-safe
// on the same context.
#pragma once

#include <openssl/types.h>

#include <string>

#include "core/status.h"

namespace aegis::net {

// OpenSSL cipher list for TLS 1.2 (strongest first).
inline constexpr const char* kTls12CipherList =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
// TLS 1.3 suites (all AEAD; RFC 8446 §9.1 mandatory ones included).
inline constexpr const char* kTls13CipherSuites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
// Key exchange groups, preferred first.
inline constexpr const char* kTlsGroups = "X25519:P-256:P-384";

// Applies versions, ciphers, groups and options. Error: tls_policy.
Status ApplyTlsPolicy(SSL_CTX* ctx);

// ApplyTlsPolicy plus the server's certificate chain and private key (PEM
// files) and a check that they match. Errors: tls_policy, tls_cert, tls_key.
Status ConfigureTlsServer(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file);

// The last OpenSSL error queue entries as text (clears the queue).
std::string OpenSslErrors();

}  // namespace aegis::net
