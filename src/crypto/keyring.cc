#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/aead.h"

namespace aegis::crypto {
namespace {

constexpr uint8_t kSealFormat = 1;
constexpr size_t kSealHeader = 5;

std::string DekAad(std::string_view owner, uint32_t dek_version) {
  return "aegis-dek|" + std::string(owner) + "|" + std::to_string(dek_version);
}

std::string BoundContext(std::string_view context, uint32_t dek_version) {
  return std::string(context) + "|dek" + std::to_string(dek_version);
}

Status Io(const std::string& what, const std::string& path) {
  return Status::Error("keyring_io", what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

// ---- Dek ----

Dek::Dek(uint32_t version, Bytes key) : version_(version), key_(std::move(key)) {}
Dek::~Dek() { SecureZero(key_); }
Dek::Dek(const Dek& other) = default;
Dek& Dek::operator=(const Dek& other) {
  if (this != &other) {
    SecureZero(key_);
    version_ = other.version_;
    key_ = other.key_;
  }
  return *this;
}

Result<Bytes> Dek::Seal(std::string_view context, std::span<const uint8_t> plaintext) const {
  const std::string aad = BoundContext(context, version_);
  auto sealed = AesGcmSeal(key_, AsBytes(aad), plaintext);
  if (!sealed.ok()) return sealed.status();
  Bytes out;
  out.reserve(kSealHeader + sealed->size());
  out.push_back(kSealFormat);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(version_ >> shift));
  out.insert(out.end(), sealed->begin(), sealed->end());
  return out;
}

Result<uint32_t> Dek::SealedVersion(std::span<const uint8_t> sealed) {
  if (sealed.size() < kSealHeader + kAeadOverhead || sealed[0] != kSealFormat) {
    return Status::Error("crypto_bad_ciphertext", "sealed value has an unknown format");
  }
  return (uint32_t{sealed[1]} << 24) | (uint32_t{sealed[2]} << 16) | (uint32_t{sealed[3]} << 8) |
         uint32_t{sealed[4]};
}

Result<Bytes> Dek::Open(std::string_view context, std::span<const uint8_t> sealed) const {
  auto version = SealedVersion(sealed);
  if (!version.ok()) return version.status();
  if (*version != version_) {
    return Status::Error("crypto_wrong_key_version",
                         "value was sealed with DEK version " + std::to_string(*version));
  }
  const std::string aad = BoundContext(context, version_);
  return AesGcmOpen(key_, AsBytes(aad), sealed.subspan(kSealHeader));
}

std::string FieldContext(std::string_view owner, std::string_view table, std::string_view column,
                         std::string_view row_id) {
  std::string out;
  out.append(owner).append("|").append(table).append("|").append(column).append("|").append(row_id);
  return out;
}

// ---- FileMasterKeyProvider ----

Result<std::unique_ptr<FileMasterKeyProvider>> FileMasterKeyProvider::Open(const std::string& path,
                                                                           bool create_if_missing) {
  std::unique_ptr<FileMasterKeyProvider> p(new FileMasterKeyProvider(path));
  std::lock_guard<std::mutex> lock(p->mu_);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Io("cannot stat", path);
    if (!create_if_missing) {
      return Status::Error("keyring_file_missing", "master key file " + path + " does not exist");
    }
    p->keks_[1] = RandomBytes(32);
    AEGIS_RETURN_IF_ERROR(p->SaveLocked());
    return p;
  }
  AEGIS_RETURN_IF_ERROR(p->LoadLocked());
  return p;
}

FileMasterKeyProvider::~FileMasterKeyProvider() {
  for (auto& [v, k] : keks_) SecureZero(k);
}

Status FileMasterKeyProvider::LoadLocked() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return Io("cannot stat", path_);
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::Error(
        "keyring_file_permissions",
        "master key file " + path_ + " is accessible by group or others; run: chmod 600 " + path_);
  }
  std::ifstream in(path_);
  if (!in) return Io("cannot read", path_);
  std::map<uint32_t, Bytes> keks;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string magic, version, hex;
    fields >> magic >> version >> hex;
    auto key = HexDecode(hex);
    uint32_t v = 0;
    if (magic != "aegis-kek" || version.size() < 2 || version[0] != 'v' || !key ||
        key->size() != 32) {
      return Status::Error("keyring_file_malformed",
                           path_ + ":" + std::to_string(line_no) + ": not a KEK line");
    }
    try {
      v = static_cast<uint32_t>(std::stoul(version.substr(1)));
    } catch (const std::exception&) {
      return Status::Error("keyring_file_malformed",
                           path_ + ":" + std::to_string(line_no) + ": bad version");
    }
    keks[v] = std::move(*key);
  }
  if (keks.empty()) return Status::Error("keyring_file_malformed", path_ + ": no key");
  for (auto& [v, k] : keks_) SecureZero(k);
  keks_ = std::move(keks);
  return Status::Ok();
}

Status FileMasterKeyProvider::SaveLocked() {
  // Write a temp file 0600, fsync, rename over: a crash never leaves a torn key file.
  const std::string tmp = path_ + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Io("cannot create", tmp);
  std::string text = "# Aegis master key (KEK). Keep secret, keep backed up, mode 0600.\n";
  for (const auto& [v, k] : keks_)
    text += "aegis-kek v" + std::to_string(v) + " " + HexEncode(k) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  SecureZero(std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Io("cannot write", path_);
  }
  return Status::Ok();
}

Result<Bytes> FileMasterKeyProvider::KeyLocked(uint32_t version) {
  auto it = keks_.find(version);
  if (it == keks_.end()) {
    AEGIS_RETURN_IF_ERROR(LoadLocked());  // rotated by another process?
    it = keks_.find(version);
    if (it == keks_.end()) {
      return Status::Error("keyring_unknown_kek_version",
                           "master key version " + std::to_string(version) + " is not available");
    }
  }
  return it->second;
}

uint32_t FileMasterKeyProvider::CurrentVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  (void)LoadLocked();  // cheap; picks up a rotation done by aegisctl
  return keks_.rbegin()->first;
}

std::vector<uint32_t> FileMasterKeyProvider::Versions() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint32_t> out;
  for (const auto& [v, k] : keks_) out.push_back(v);
  return out;
}

Result<Bytes> FileMasterKeyProvider::Wrap(uint32_t kek_version, std::string_view aad,
                                          std::span<const uint8_t> plaintext) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = KeyLocked(kek_version);
  if (!key.ok()) return key.status();
  auto out = AesGcmSeal(*key, AsBytes(aad), plaintext);
  SecureZero(*key);
  return out;
}

Result<Bytes> FileMasterKeyProvider::Unwrap(uint32_t kek_version, std::string_view aad,
                                            std::span<const uint8_t> wrapped) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = KeyLocked(kek_version);
  if (!key.ok()) return key.status();
  auto out = AesGcmOpen(*key, AsBytes(aad), wrapped);
  SecureZero(*key);
  return out;
}

Result<uint32_t> FileMasterKeyProvider::Rotate() {
  std::lock_guard<std::mutex> lock(mu_);
  AEGIS_RETURN_IF_ERROR(LoadLocked());
  const uint32_t next = keks_.rbegin()->first + 1;
  keks_[next] = RandomBytes(32);
  AEGIS_RETURN_IF_ERROR(SaveLocked());
  return next;
}

Status FileMasterKeyProvider::Retire(uint32_t min_version) {
  std::lock_guard<std::mutex> lock(mu_);
  AEGIS_RETURN_IF_ERROR(LoadLocked());
  if (min_version > keks_.rbegin()->first) {
    return Status::Error("keyring_bad_version", "cannot retire the current master key");
  }
  for (auto it = keks_.begin(); it != keks_.end() && it->first < min_version;) {
    SecureZero(it->second);
    it = keks_.erase(it);
  }
  return SaveLocked();
}

// ---- Keyring ----

Keyring::Keyring(std::unique_ptr<MasterKeyProvider> provider) : provider_(std::move(provider)) {}

Result<std::pair<Dek, WrappedDek>> Keyring::NewDek(std::string_view owner, uint32_t dek_version) {
  Bytes key = RandomBytes(32);
  WrappedDek wrapped;
  wrapped.kek_version = provider_->CurrentVersion();
  auto w = provider_->Wrap(wrapped.kek_version, DekAad(owner, dek_version), key);
  if (!w.ok()) {
    SecureZero(key);
    return w.status();
  }
  wrapped.wrapped = std::move(*w);
  return std::make_pair(Dek(dek_version, std::move(key)), std::move(wrapped));
}

Result<Dek> Keyring::UnwrapDek(std::string_view owner, uint32_t dek_version,
                               const WrappedDek& wrapped) {
  auto key = provider_->Unwrap(wrapped.kek_version, DekAad(owner, dek_version), wrapped.wrapped);
  if (!key.ok()) return key.status();
  return Dek(dek_version, std::move(*key));
}

Result<WrappedDek> Keyring::Rewrap(std::string_view owner, uint32_t dek_version,
                                   const WrappedDek& wrapped) {
  auto key = provider_->Unwrap(wrapped.kek_version, DekAad(owner, dek_version), wrapped.wrapped);
  if (!key.ok()) return key.status();
  WrappedDek out;
  out.kek_version = provider_->CurrentVersion();
  auto w = provider_->Wrap(out.kek_version, DekAad(owner, dek_version), *key);
  SecureZero(*key);
  if (!w.ok()) return w.status();
  out.wrapped = std::move(*w);
  return out;
}

}  // namespace aegis::crypto
