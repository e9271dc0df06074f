// Where aegisd and aegisctl keep their files: the private data directory and
// the master key path. Shared so both programs resolve them the same way.
// Plain functions with no state; thread-safe (MasterKeyPath reads the
// environment, which callers must not modify concurrently).
#pragma once

#include <string>

#include "core/config.h"
#include "core/status.h"

namespace aegis::store {

// mkdir -p with mode 0700 for each component created; an existing directory
// is accepted as is. Errors: store_invalid (empty path), store_io (cannot
// create, or the path is not a directory).
Status EnsurePrivateDir(const std::string& path);

// keyring.master_key_file if set, else $AEGIS_MASTER_KEY_FILE if set and
// non-empty, else <server.data_dir>/master.key.
std::string MasterKeyPath(const Config& config);

}  // namespace aegis::store
