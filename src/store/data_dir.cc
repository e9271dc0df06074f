#include "store/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace aegis::store {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  return Status::Error("store_io", what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status EnsurePrivateDir(const std::string& path) {
  if (path.empty()) return Status::Error("store_invalid", "empty data directory");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return IoError("cannot create directory", part);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return IoError("cannot stat", path);
  if (!S_ISDIR(st.st_mode)) return Status::Error("store_io", path + " is not a directory");
  return Status::Ok();
}

std::string MasterKeyPath(const Config& config) {
  if (!config.keyring.master_key_file.empty()) return config.keyring.master_key_file;
  const char* env = std::getenv("AEGIS_MASTER_KEY_FILE");
  if (env != nullptr && *env != '\0') return env;
  return config.server.data_dir + "/master.key";
}

}  // namespace aegis::store
