#include "net/tls_policy.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace aegis::net {

std::string OpenSslErrors() {
  std::string out;
  unsigned long err = 0;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!out.empty()) {
      out.append("; ");
    }
    out.append(buf);
  }
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

Status ApplyTlsPolicy(SSL_CTX* ctx) {
  if (ctx == nullptr) {
    return Status::Error("tls_policy", "no SSL_CTX");
  }
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Status::Error("tls_policy", "cannot set protocol versions: " + OpenSslErrors());
  }
  if (SSL_CTX_set_cipher_list(ctx, kTls12CipherList) != 1) {
    return Status::Error("tls_policy", "cannot set TLS 1.2 ciphers: " + OpenSslErrors());
  }
  if (SSL_CTX_set_ciphersuites(ctx, kTls13CipherSuites) != 1) {
    return Status::Error("tls_policy", "cannot set TLS 1.3 suites: " + OpenSslErrors());
  }
  if (SSL_CTX_set1_groups_list(ctx, kTlsGroups) != 1) {
    return Status::Error("tls_policy", "cannot set groups: " + OpenSslErrors());
  }
  // Compression enables CRIME-style attacks; renegotiation is a DoS and
  // injection vector (and unused by any client we serve). OpenSSL 3 refuses
  // client-initiated renegotiation unless ALLOW_CLIENT_RENEGOTIATION is set;
  // it is cleared explicitly in case a caller's context had it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                               SSL_OP_NO_TLSv1_1);
  SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION | SSL_OP_LEGACY_SERVER_CONNECT);
  return Status::Ok();
}

Status ConfigureTlsServer(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  AEGIS_RETURN_IF_ERROR(ApplyTlsPolicy(ctx));
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::Error("tls_cert",
                         "cannot load certificate " + cert_file + ": " + OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::Error("tls_key", "cannot load private key " + key_file + ": " + OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::Error("tls_key",
                         "private key does not match the certificate: " + OpenSslErrors());
  }
  return Status::Ok();
}

}  // namespace aegis::net
