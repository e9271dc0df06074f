#include "bootstrap.h"

#include <sstream>

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
  DemoCredentials creds;
  creds.uin = account->uin;
  creds.secret_id = secret->info.secret_id;
  creds.secret_key = secret->secret_key;
  creds.sdkappid = app->app.sdkappid;
  creds.app_key = app->key.key;
  return std::optional<DemoCredentials>(std::move(creds));
}

std::string FormatDemoBlock(const DemoCredentials& creds, const std::string& https_url,
                            const std::string& aegisctl_prefix) {
  std::ostringstream out;
  out << "==================== Aegis demo credentials ====================\n"
      << "Shown once, on this first start only. Store them now.\n"
      << "Uin:             " << creds.uin << "\n"
      << "SecretId:        " << creds.secret_id << "\n"
      << "SecretKey:       " << creds.secret_key << "\n"
      << "SdkAppId:        " << creds.sdkappid << "\n"
      << "AppKey:          " << creds.app_key << "\n"
      << "HTTPS address:   " << https_url << "\n"
      << "UserSig command: " << aegisctl_prefix << " usersig gen --sdkappid " << creds.sdkappid
      << " --userid demo_user\n"
      << "================================================================\n";
  return out.str();
}

}  // namespace aegis::aegisd
