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

enum class AppDbMode { kCreate, kMustExist };

// Opens (with kCreate: creating if missing) and migrates the application
// database at `path`; with kMustExist a missing file is store_not_found.
// `deks` holds every DEK version of the application (non-empty): the newest
// seals, a sealed value names the version that opens it, and the lookup-hash
// key comes from the oldest so lookups stay stable across DEK rotation.
Result<std::unique_ptr<AppStore>> OpenAppStore(const std::string& path, uint32_t sdkappid,
                                               std::vector<crypto::Dek> deks, const Clock& clock,
                                               AppDbMode mode);

}  // namespace aegis::store::internal
