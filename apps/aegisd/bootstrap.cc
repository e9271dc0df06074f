#include "bootstrap.h"

#include <initializer_list>
#include <span>
#include <string_view>

#include "crypto/primitives.h"

namespace aegis::aegisd {

Result<std::optional<DemoCredentials>> BootstrapDemo(store::ControlStore& store) {
  auto accounts = store.ListAccounts();
  if (!accounts.ok()) {
    return accounts.status();
  }
  if (!accounts->empty()) {
    return std::optional<DemoCredentials>();
  }
  const store::AuditContext ctx{"operator:bootstrap", "", ""};
  auto account = store.CreateAccount("demo", ctx);
  if (!account.ok()) {
    return account.status();
  }
  auto app = store.CreateApplication(account->uin, "demo", ctx);
  if (!app.ok()) {
    return app.status();
  }
  auto secret = store.CreateSecret(account->uin, ctx);
  if (!secret.ok()) {
    return secret.status();
  }
  // Moved, not copied: the store's results leave no second plaintext behind.
  DemoCredentials creds;
  creds.uin = account->uin;
  creds.secret_id = secret->info.secret_id;
  creds.secret_key = std::move(secret->secret_key);
  creds.sdkappid = app->app.sdkappid;
  creds.app_key = std::move(app->key.key);
  return std::optional<DemoCredentials>(std::move(creds));
}

void DemoCredentials::Wipe() {
  WipeString(secret_key);
  WipeString(app_key);
}

void WipeString(std::string& s) {
  crypto::SecureZero(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  s.clear();
}

std::string FormatDemoBlock(const DemoCredentials& creds, const std::string& https_url,
                            const std::string& aegisctl_prefix) {
  const std::string uin = std::to_string(creds.uin);
  const std::string sdkappid = std::to_string(creds.sdkappid);
  const std::initializer_list<std::string_view> parts = {
      "==================== Aegis demo credentials ====================\n",
      "Shown once, on this first start only. Store them now.\n",
      "Uin:             ",
      uin,
      "\n",
      "SecretId:        ",
      creds.secret_id,
      "\n",
      "SecretKey:       ",
      creds.secret_key,
      "\n",
      "SdkAppId:        ",
      sdkappid,
      "\n",
      "AppKey:          ",
      creds.app_key,
      "\n",
      "HTTPS address:   ",
      https_url,
      "\n",
      "Demo call:       ",
      https_url,
      "/demo/  (open in two tabs, press Join in each)\n",
      "UserSig command: ",
      aegisctl_prefix,
      " usersig gen --sdkappid ",
      sdkappid,
      " --userid demo_user\n",
      "================================================================\n"};
  size_t size = 0;
  for (std::string_view part : parts) {
    size += part.size();
  }
  // One allocation up front: growing would free buffers holding secrets unwiped.
  std::string out;
  out.reserve(size);
  for (std::string_view part : parts) {
    out.append(part);
  }
  return out;
}

}  // namespace aegis::aegisd
