// Helpers shared by the net tests: a temporary directory removed on scope exit.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace aegis::net::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "aegis-net-XXXXXX").string();
    path_ = ::mkdtemp(templ.data()) != nullptr ? templ : std::string();
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace aegis::net::testing
