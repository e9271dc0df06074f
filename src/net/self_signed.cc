#include "net/self_signed.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "crypto/primitives.h"
#include "net/tls_policy.h"

namespace aegis::net {
namespace {

constexpr int64_t kValiditySeconds = 365LL * 24 * 3600;
// Small backdating so a client whose clock is slightly behind accepts it.
constexpr int64_t kBackdateSeconds = 300;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// Writes `contents` to `path` with `mode` via a temporary file and rename, so
// a crash never leaves a truncated key behind.
Status WriteFileAtomic(const std::string& path, const std::string& contents, mode_t mode) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Status::Error("tls_io", "cannot create " + tmp + ": " + std::strerror(errno));
  }
  // The umask may have cleared bits, never added any; fchmod pins the mode.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t written = 0;
  while (ok && written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    if (ok) {
      written += static_cast<size_t>(n);
    }
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = ok ? errno : saved_errno;
    ::unlink(tmp.c_str());
    return Status::Error("tls_io", "cannot write " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Status::Error("tls_generate",
                         std::string("cannot add extension ") + value + ": " + OpenSslErrors());
  }
  return Status::Ok();
}

}  // namespace

Status GenerateSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                     const Clock& clock) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) {
    return Status::Error("tls_generate", "cannot generate P-256 key: " + OpenSslErrors());
  }
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) {
    return Status::Error("tls_generate", "X509_new failed");
  }
  // RFC 5280 §4.1.2.2: positive serial of at most 20 octets; 16 random bytes
  // with the top bit cleared.
  crypto::Bytes serial = crypto::RandomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  const bool serial_ok =
      bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  const time_t now = static_cast<time_t>(clock.NowUnixSeconds());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!serial_ok || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_TIME_adj(X509_getm_notBefore(cert.get()), now - kBackdateSeconds, 0, 0) == nullptr ||
      ASN1_TIME_adj(X509_getm_notAfter(cert.get()), now + kValiditySeconds, 0, 0) == nullptr ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    return Status::Error("tls_generate", "cannot fill certificate: " + OpenSslErrors());
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  AEGIS_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  AEGIS_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  AEGIS_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  AEGIS_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  AEGIS_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return Status::Error("tls_generate", "cannot sign certificate: " + OpenSslErrors());
  }

  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !cert_bio ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) {
    return Status::Error("tls_generate", "cannot encode PEM: " + OpenSslErrors());
  }
  std::string key_pem = BioContents(key_bio.get());
  Status status = WriteFileAtomic(key_file, key_pem, 0600);
  crypto::SecureZero({reinterpret_cast<uint8_t*>(key_pem.data()), key_pem.size()});
  AEGIS_RETURN_IF_ERROR(status);
  return WriteFileAtomic(cert_file, BioContents(cert_bio.get()), 0644);
}

Result<TlsFiles> EnsureSelfSignedCertificate(const std::string& data_dir, const Clock& clock) {
  const std::string dir = data_dir + "/tls";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Error("tls_io", "cannot create " + dir + ": " + std::strerror(errno));
  }
  TlsFiles files{dir + "/cert.pem", dir + "/key.pem", false};
  if (FileExists(files.cert_file) && FileExists(files.key_file)) {
    struct stat st {};
    if (::stat(files.key_file.c_str(), &st) != 0) {
      return Status::Error("tls_io", "cannot stat " + files.key_file);
    }
    if ((st.st_mode & 077) != 0) {
      return Status::Error("tls_key_permissions",
                           files.key_file + " is readable by group or others; chmod 600 it");
    }
    return files;
  }
  AEGIS_RETURN_IF_ERROR(GenerateSelfSignedCertificate(files.cert_file, files.key_file, clock));
  files.generated = true;
  return files;
}

}  // namespace aegis::net
