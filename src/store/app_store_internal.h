// Private to src/store: the per-application database (apps/<SdkAppId>.db).
// User ids are sealed with the application's DEK, bound to table, column and
// row; a keyed lookup hash (HMAC under HMAC(dek, "user-lookup")) next to each
// sealed id allows filtering by user without decrypting every row.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crypto/keyring.h"
#include "store/store.h"

namespace aegis::store::internal {

std::string AppOwner(uint32_t sdkappid);  // "app:<sdkappid>"

// Opens (creating and migrating) the application database at `path`. `deks`
// holds every DEK version of the application (non-empty): the newest seals,
// a sealed value names the version that opens it, and the lookup-hash key
// comes from the oldest so lookups stay stable across DEK rotation.
Result<std::unique_ptr<AppStore>> OpenAppStore(const std::string& path, uint32_t sdkappid,
                                               std::vector<crypto::Dek> deks, const Clock& clock);

}  // namespace aegis::store::internal
