#include "crypto/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace aegis::crypto {
namespace {

class KeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/aegis-keyring-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/master.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Keyring> Open() {
    auto p = FileMasterKeyProvider::Open(path_, true);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::make_unique<Keyring>(std::move(p.value()));
  }

  std::string dir_;
  std::string path_;
};

TEST_F(KeyringTest, CreatesMasterKeyWithMode0600) {
  Open();
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(KeyringTest, RefusesGroupOrWorldReadableFile) {
  Open();
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  auto p = FileMasterKeyProvider::Open(path_, false);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), "keyring_file_permissions");
  ASSERT_EQ(chmod(path_.c_str(), 0640), 0);
  EXPECT_EQ(FileMasterKeyProvider::Open(path_, false).status().code(), "keyring_file_permissions");
}

TEST_F(KeyringTest, MissingFileWithoutCreate) {
  EXPECT_EQ(FileMasterKeyProvider::Open(path_, false).status().code(), "keyring_file_missing");
}

TEST_F(KeyringTest, MalformedFile) {
  {
    std::ofstream out(path_);
    out << "aegis-kek v1 nothex\n";
  }
  chmod(path_.c_str(), 0600);
  EXPECT_EQ(FileMasterKeyProvider::Open(path_, false).status().code(), "keyring_file_malformed");
}

TEST_F(KeyringTest, DekWrapUnwrapIsBoundToOwnerAndVersion) {
  auto kr = Open();
  auto made = kr->NewDek("app:1400000001", 1);
  ASSERT_TRUE(made.ok());
  auto& [dek, wrapped] = *made;
  auto back = kr->UnwrapDek("app:1400000001", 1, wrapped);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(ConstantTimeEqual(back->key(), dek.key()));
  // A wrapped DEK moved to another owner or version does not unwrap.
  EXPECT_EQ(kr->UnwrapDek("app:1400000002", 1, wrapped).status().code(), "crypto_auth_failed");
  EXPECT_EQ(kr->UnwrapDek("app:1400000001", 2, wrapped).status().code(), "crypto_auth_failed");
}

TEST_F(KeyringTest, FieldCiphertextsCannotBeSwapped) {
  auto kr = Open();
  auto made = kr->NewDek("account:100000001", 1);
  ASSERT_TRUE(made.ok());
  const Dek& dek = made->first;
  const std::string ctx_a = FieldContext("account:100000001", "secrets", "secret_key", "AKIDa");
  const std::string ctx_b = FieldContext("account:100000001", "secrets", "secret_key", "AKIDb");
  auto a = dek.Seal(ctx_a, AsBytes("key-a"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(AsString(*dek.Open(ctx_a, *a)), "key-a");
  EXPECT_EQ(dek.Open(ctx_b, *a).status().code(), "crypto_auth_failed");
  EXPECT_EQ(*Dek::SealedVersion(*a), 1u);
  const Dek other(2, RandomBytes(32));
  EXPECT_EQ(other.Open(ctx_a, *a).status().code(), "crypto_wrong_key_version");
}

TEST_F(KeyringTest, MasterRotationRewrapAndRetire) {
  auto kr = Open();
  auto made = kr->NewDek("audit", 1);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->second.kek_version, 1u);
  auto v2 = kr->master().Rotate();
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2u);
  // Old wraps still unwrap after rotation.
  ASSERT_TRUE(kr->UnwrapDek("audit", 1, made->second).ok());
  auto rewrapped = kr->Rewrap("audit", 1, made->second);
  ASSERT_TRUE(rewrapped.ok());
  EXPECT_EQ(rewrapped->kek_version, 2u);
  ASSERT_TRUE(kr->master().Retire(2).ok());
  EXPECT_EQ(kr->UnwrapDek("audit", 1, made->second).status().code(), "keyring_unknown_kek_version");
  auto back = kr->UnwrapDek("audit", 1, *rewrapped);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(ConstantTimeEqual(back->key(), made->first.key()));
  EXPECT_FALSE(kr->master().Retire(3).ok());
}

TEST_F(KeyringTest, SecondProcessSeesRotation) {
  auto first = Open();
  auto second = Open();
  auto v2 = second->master().Rotate();
  ASSERT_TRUE(v2.ok());
  auto made = second->NewDek("app:1", 1);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->second.kek_version, 2u);
  // `first` loaded the file before the rotation and must reload to unwrap.
  EXPECT_TRUE(first->UnwrapDek("app:1", 1, made->second).ok());
}

}  // namespace
}  // namespace aegis::crypto
