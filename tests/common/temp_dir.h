// TempDir: a fresh private directory under $TMPDIR, removed with everything in
// it when the object goes out of scope. Shared by every test suite. A failed
// mkdtemp is a test failure, never a silent empty path.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace aegis::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "aegis-test") {
    std::string templ = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = ::mkdtemp(templ.data()) != nullptr ? templ : std::string();
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace aegis::testing
