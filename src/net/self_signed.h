// First-run TLS certificate for a local node: an ECDSA P-256 self-signed
// certificate for CN=localhost with SAN DNS:localhost, IP:127.0.0.1, IP:::1,
// valid one year from the injected clock's "now". The key file is written
// 0600 (atomically, via a temporary file and rename); an existing pair is
// reused as is. Used only when tls.cert / tls.key are not configured.
// Stateless functions; callers serialize calls on the same directory.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace aegis::net {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  bool generated = false;  // true when this call created them
};

// <data_dir>/tls/cert.pem and key.pem: reused when both exist, generated
// otherwise (the tls directory is created 0700). A reused key file with
// group/other permission bits is refused. Errors: tls_io, tls_generate,
// tls_key_permissions.
Result<TlsFiles> EnsureSelfSignedCertificate(const std::string& data_dir, const Clock& clock);

// Unconditionally writes a new key pair and certificate. Errors: tls_io,
// tls_generate.
Status GenerateSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                     const Clock& clock);

}  // namespace aegis::net
