// First-start demo bootstrap: on an empty store with demo.enabled, creates a
// "demo" account, a "demo" application and an API secret (audited as
// operator:bootstrap). The plaintext credentials are returned once so that
// aegisd can print them to stdout; they are never logged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/store.h"

namespace aegis::aegisd {

struct DemoCredentials {
  uint64_t uin = 0;
  std::string secret_id;
  std::string secret_key;  // never log
  uint32_t sdkappid = 0;
  std::string app_key;  // never log

  // Overwrites secret_key and app_key in place (SecureZero) and empties them.
  void Wipe();
};

// nullopt when the store already holds accounts (not a first start).
Result<std::optional<DemoCredentials>> BootstrapDemo(store::ControlStore& store);

// The once-only block printed to stdout. `aegisctl_prefix` is the aegisctl
// invocation including its global flags (e.g. "aegisctl --data-dir ./var").
// Built in one preallocated string, so the result is the only copy of the
// secrets it makes: wipe it (WipeString) once printed.
std::string FormatDemoBlock(const DemoCredentials& creds, const std::string& https_url,
                            const std::string& aegisctl_prefix);

// SecureZero over the string's bytes, then clear().
void WipeString(std::string& s);

}  // namespace aegis::aegisd
