// Keyring: envelope encryption (R26, SECURITY-CHECKS ENV-01..07).
//
//  KEK (master key, 256-bit, versioned) -- lives only in the master key file
//   └─ wraps DEKs (AES-256-GCM data keys, one set per owner: "app:<SdkAppId>",
//      "account:<Uin>", "audit") -- stored wrapped in the control database
//        └─ seal fields (application keys, SecretKeys, ...), each ciphertext
//           bound by AAD to owner/table/column/row so rows cannot be swapped.
//
// The master key file is text, one line per KEK version ("aegis-kek v<N> <hex>"),
// mode 0600; Open() refuses a file readable by group or others. The newest
// version wraps new DEKs; older versions still unwrap until retired.
// MasterKeyProvider is the seam for other key managers (KMS, PKCS#11).
// Keyring is thread-safe (internal mutex); Dek is an immutable value.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/primitives.h"

namespace aegis::crypto {

// Plaintext data key in memory. Zeroized on destruction.
class Dek {
 public:
  Dek(uint32_t version, Bytes key);
  ~Dek();
  Dek(const Dek& other);
  Dek& operator=(const Dek& other);

  uint32_t version() const { return version_; }

  // Output: 0x01 || dek_version (u32 BE) || nonce || ct || tag.
  // `context` is the binding (see FieldContext); the DEK version is bound too.
  Result<Bytes> Seal(std::string_view context, std::span<const uint8_t> plaintext) const;
  // Errors: crypto_bad_ciphertext, crypto_wrong_key_version, crypto_auth_failed.
  Result<Bytes> Open(std::string_view context, std::span<const uint8_t> sealed) const;
  // The DEK version a sealed value was made with (to pick the right Dek).
  static Result<uint32_t> SealedVersion(std::span<const uint8_t> sealed);

  std::span<const uint8_t> key() const { return key_; }

 private:
  uint32_t version_;
  Bytes key_;
};

// AAD for a stored field: "<owner>|<table>|<column>|<row_id>".
std::string FieldContext(std::string_view owner, std::string_view table, std::string_view column,
                         std::string_view row_id);

struct WrappedDek {
  uint32_t kek_version = 0;
  Bytes wrapped;  // AES-256-GCM(KEK, aad = "aegis-dek|<owner>|<dek_version>", DEK)
};

class MasterKeyProvider {
 public:
  virtual ~MasterKeyProvider() = default;
  virtual uint32_t CurrentVersion() = 0;
  virtual std::vector<uint32_t> Versions() = 0;
  // Errors: keyring_unknown_kek_version.
  virtual Result<Bytes> Wrap(uint32_t kek_version, std::string_view aad,
                             std::span<const uint8_t> plaintext) = 0;
  virtual Result<Bytes> Unwrap(uint32_t kek_version, std::string_view aad,
                               std::span<const uint8_t> wrapped) = 0;
  // Adds a new KEK version and makes it current. Returns it.
  virtual Result<uint32_t> Rotate() = 0;
  // Forgets KEK versions < min_version (after every DEK was re-wrapped).
  virtual Status Retire(uint32_t min_version) = 0;
};

// Master key file provider. Re-reads the file when asked for a version it
// does not know (another process, e.g. aegisctl, rotated it).
class FileMasterKeyProvider final : public MasterKeyProvider {
 public:
  // Errors: keyring_file_missing (and !create), keyring_file_permissions
  // (group/world bits set), keyring_file_malformed, keyring_io.
  static Result<std::unique_ptr<FileMasterKeyProvider>> Open(const std::string& path,
                                                             bool create_if_missing);
  ~FileMasterKeyProvider() override;

  uint32_t CurrentVersion() override;
  std::vector<uint32_t> Versions() override;
  Result<Bytes> Wrap(uint32_t kek_version, std::string_view aad,
                     std::span<const uint8_t> plaintext) override;
  Result<Bytes> Unwrap(uint32_t kek_version, std::string_view aad,
                       std::span<const uint8_t> wrapped) override;
  Result<uint32_t> Rotate() override;
  Status Retire(uint32_t min_version) override;

  const std::string& path() const { return path_; }

 private:
  explicit FileMasterKeyProvider(std::string path) : path_(std::move(path)) {}
  Status LoadLocked();
  Status SaveLocked();
  Result<Bytes> KeyLocked(uint32_t version);

  std::mutex mu_;
  std::string path_;
  std::map<uint32_t, Bytes> keks_;
};

class Keyring {
 public:
  explicit Keyring(std::unique_ptr<MasterKeyProvider> provider);

  MasterKeyProvider& master() { return *provider_; }

  // A fresh random DEK for `owner` with the given DEK version, and its wrapped
  // form under the current KEK.
  Result<std::pair<Dek, WrappedDek>> NewDek(std::string_view owner, uint32_t dek_version);
  Result<Dek> UnwrapDek(std::string_view owner, uint32_t dek_version, const WrappedDek& wrapped);
  // Re-wraps under the current KEK without exposing the DEK to the caller.
  Result<WrappedDek> Rewrap(std::string_view owner, uint32_t dek_version,
                            const WrappedDek& wrapped);

 private:
  std::unique_ptr<MasterKeyProvider> provider_;
};

}  // namespace aegis::crypto
