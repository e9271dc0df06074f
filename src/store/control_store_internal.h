// Private to src/store (and its tests): ControlStore::Open with explicit
// connection options. Production code uses ControlStore::Open (synchronous=FULL,
// secure_delete=ON); tests that build large fixtures may relax durability.
#pragma once

#include <memory>
#include <string>

#include "store/sqlite_internal.h"
#include "store/store.h"

namespace aegis::store::internal {

Result<std::unique_ptr<ControlStore>> OpenControlStore(const std::string& data_dir,
                                                       crypto::Keyring& keyring, const Clock& clock,
                                                       const DbOptions& options);

}  // namespace aegis::store::internal
