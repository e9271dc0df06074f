// store/data_dir.h: the private data directory and the master key path that
// aegisd and aegisctl share.
#include "store/data_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <string>

#include "store_test_util.h"

namespace aegis::store::testing {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(EnsurePrivateDirTest, CreatesEveryMissingLevelPrivate) {
  TempDir dir;
  const std::string path = dir.path() + "/a/b/c";
  ASSERT_TRUE(EnsurePrivateDir(path).ok());
  EXPECT_EQ(ModeOf(dir.path() + "/a"), 0700u);
  EXPECT_EQ(ModeOf(path), 0700u);
  // Idempotent; an existing directory is accepted and left as it is.
  ASSERT_EQ(::chmod(path.c_str(), 0750), 0);
  EXPECT_TRUE(EnsurePrivateDir(path).ok());
  EXPECT_EQ(ModeOf(path), 0750u);
  EXPECT_TRUE(EnsurePrivateDir(path + "/").ok());
}

TEST(EnsurePrivateDirTest, RefusesAFileAndAnEmptyPath) {
  TempDir dir;
  const std::string file = dir.path() + "/file";
  std::ofstream(file) << "x";
  const Status s = EnsurePrivateDir(file);
  EXPECT_EQ(s.code(), "store_io");
  EXPECT_NE(s.message().find("not a directory"), std::string::npos);
  EXPECT_EQ(EnsurePrivateDir(file + "/sub").code(), "store_io");
  EXPECT_EQ(EnsurePrivateDir("").code(), "store_invalid");
}

class MasterKeyPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("AEGIS_MASTER_KEY_FILE");
    if (old != nullptr) saved_ = old;
    ::unsetenv("AEGIS_MASTER_KEY_FILE");
    config_.server.data_dir = "/srv/aegis";
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("AEGIS_MASTER_KEY_FILE", saved_->c_str(), 1);
    } else {
      ::unsetenv("AEGIS_MASTER_KEY_FILE");
    }
  }

  std::optional<std::string> saved_;
  Config config_;
};

TEST_F(MasterKeyPathTest, DefaultsToTheDataDir) {
  EXPECT_EQ(MasterKeyPath(config_), "/srv/aegis/master.key");
  ::setenv("AEGIS_MASTER_KEY_FILE", "", 1);
  EXPECT_EQ(MasterKeyPath(config_), "/srv/aegis/master.key");
}

TEST_F(MasterKeyPathTest, EnvironmentThenConfigTakePrecedence) {
  ::setenv("AEGIS_MASTER_KEY_FILE", "/run/keys/env.key", 1);
  EXPECT_EQ(MasterKeyPath(config_), "/run/keys/env.key");
  config_.keyring.master_key_file = "/etc/aegis/master.key";
  EXPECT_EQ(MasterKeyPath(config_), "/etc/aegis/master.key");
}

}  // namespace
}  // namespace aegis::store::testing
