// aegisctl: administration CLI for an Aegis data directory. Works on an empty
// or existing data dir, also while aegisd runs on it (SQLite WAL; aegisd
// re-reads on every request). Every command that returns data prints JSON on
// stdout. Exit status: 0 success, 1 refused operation (JSON error on stdout),
// 2 usage error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "auth/usersig.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mask.h"
#include "crypto/keyring.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace aegis {
namespace {

using nlohmann::json;

constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;

// Stored names may hold any bytes; invalid UTF-8 is printed as U+FFFD instead
// of throwing.
std::string Dump(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace);
}

int PrintJson(const json& value) {
  std::cout << Dump(value) << std::endl;
  return 0;
}

int Refuse(const Status& status) {
  std::cout << Dump(json{{"error", {{"code", status.code()}, {"message", status.message()}}}})
            << std::endl;
  return kExitRefused;
}

// "operator:local[:<login>]" with the login reduced to [A-Za-z0-9._-]{1,32}:
// the environment is not trusted to put arbitrary bytes into the audit log.
std::string LocalOperator() {
  const char* user = std::getenv("SUDO_USER");
  if (user == nullptr) user = std::getenv("USER");
  std::string login;
  for (const char* c = user; c != nullptr && *c != '\0' && login.size() < 32; ++c) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '_' || *c == '-';
    login.push_back(ok ? *c : '_');
  }
  return login.empty() ? "operator:local" : "operator:local:" + login;
}

json AccountJson(const store::Account& a) {
  return {{"Uin", a.uin}, {"Name", a.name}, {"Status", a.status}, {"CreatedAt", a.created_at}};
}

json AppJson(const store::Application& a) {
  return {{"SdkAppId", a.sdkappid},
          {"Uin", a.uin},
          {"Name", a.name},
          {"Status", a.status},
          {"CreatedAt", a.created_at},
          {"Tags", a.tags},
          {"RecordingEnabled", a.recording_enabled},
          {"RelayEnabled", a.relay_enabled},
          {"Plan", a.plan}};
}

json SecretJson(const store::SecretInfo& s) {
  return {{"SecretId", s.secret_id},
          {"Uin", s.uin},
          {"Status", s.status},
          {"CreatedAt", s.created_at},
          {"LastUsedAt", s.last_used_at}};
}

json KeyInfoJson(const store::AppKeyInfo& k) {
  return {{"KeyId", k.key_id}, {"Status", k.status}, {"CreatedAt", k.created_at}};
}

json AuditJson(const store::AuditRecord& r) {
  return {{"Seq", r.seq},
          {"Time", FormatUtcMillis(r.time_ms)},
          {"Actor", r.actor},
          {"Action", r.action},
          {"Target", r.target},
          {"Result", r.result},
          {"RequestId", r.request_id},
          {"ClientIp", r.client_ip_masked},
          {"ClientIpHash", r.client_ip_hash},
          {"Detail", r.detail},
          {"PrevHash", r.prev_hash},
          {"Hash", r.hash}};
}

json UserSigJson(const auth::UserSigInfo& info) {
  json out = {{"TLS.identifier", info.identifier},
              {"TLS.sdkappid", info.sdkappid},
              {"TLS.time", info.time},
              {"TLS.expire", info.expire},
              {"expiresAt", info.time + info.expire}};
  if (info.private_map_key) {
    const auth::PrivateMapKey& p = *info.private_map_key;
    out["privilegeMap"] = p.privilege_map;
    out["privateMapKeyExpiresAt"] = p.expire_at;
    if (p.version == 1) {
      out["strRoomId"] = p.str_room_id;
    } else {
      out["roomId"] = p.room_id;
    }
  }
  return out;
}

// Opens the keyring and control store of the configured data dir.
struct Context {
  std::unique_ptr<crypto::Keyring> keyring;
  std::unique_ptr<store::ControlStore> store;
};

// A data dir is opened when it holds a control database, or initialised when
// it is absent or empty and `may_initialise`; any other directory (say, a
// home directory given by mistake) is refused and left untouched.
Result<Context> OpenDataDir(const Config& config, bool may_initialise) {
  namespace fs = std::filesystem;
  const fs::path dir(config.server.data_dir);
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  const bool has_store = fs::exists(dir / "control.db", ec);
  if (!has_store) {
    if (!may_initialise) {
      return Status::Error("store_not_found",
                           "no Aegis data dir at " + dir.string() + " (no control.db)");
    }
    if (exists && !fs::is_empty(dir, ec)) {
      return Status::Error("store_invalid", dir.string() +
                                                " is not empty and holds no control.db; refusing "
                                                "to initialise an Aegis data dir there");
    }
    AEGIS_RETURN_IF_ERROR(store::EnsurePrivateDir(dir.string()));
  }
  const std::string key_file = store::MasterKeyPath(config);
  auto provider = crypto::FileMasterKeyProvider::Open(key_file, /*create_if_missing=*/true);
  if (!provider.ok()) return provider.status();
  Context ctx;
  ctx.keyring = std::make_unique<crypto::Keyring>(std::move(provider.value()));
  auto store =
      store::ControlStore::Open(config.server.data_dir, *ctx.keyring, SystemClock::Instance());
  if (!store.ok()) return store.status();
  ctx.store = std::move(store.value());
  return ctx;
}

// Loads the application's verifying keys from the data dir.
Result<std::vector<std::string>> KeysFromDataDir(const Config& config, uint32_t sdkappid) {
  auto ctx = OpenDataDir(config, /*may_initialise=*/false);
  if (!ctx.ok()) return ctx.status();
  auto keys = ctx->store->VerifyingAppKeys(sdkappid);
  if (!keys.ok()) return keys.status();
  std::vector<std::string> out;
  for (const auto& k : *keys) out.push_back(k.key);
  if (out.empty()) return Status::Error("usersig_no_key", "application has no active key");
  return out;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "aegisctl — administer an Aegis data directory (accounts, applications, keys, "
      "API secrets, UserSigs, audit log).\nPrints JSON. Exit status: 0 ok, 1 refused "
      "(JSON error on stdout), 2 usage error."};
  app.require_subcommand(1);
  std::string config_file;
  std::string data_dir;
  app.add_option("--config", config_file, "aegisd TOML config file (for data dir / key file)");
  app.add_option("--data-dir", data_dir, "data directory (default: server.data_dir, ./var)");

  // account
  auto* account = app.add_subcommand("account", "accounts (Uin)");
  account->require_subcommand(1);
  std::string account_name;
  auto* account_create = account->add_subcommand("create", "create an account -> {\"Uin\": …}");
  account_create->add_option("--name", account_name, "display name")->required();
  auto* account_list = account->add_subcommand("list", "list accounts");

  // app
  auto* appcmd = app.add_subcommand("app", "applications (SdkAppId) and their UserSig keys");
  appcmd->require_subcommand(1);
  uint64_t uin = 0;
  std::string app_name;
  uint32_t sdkappid = 0;
  uint32_t key_id = 0;
  auto* app_create =
      appcmd->add_subcommand("create", "create an application -> {\"SdkAppId\", \"Key\"}");
  app_create->add_option("--uin", uin, "owning account")->required();
  app_create->add_option("--name", app_name, "application name")->required();
  auto* app_list = appcmd->add_subcommand("list", "list applications");
  std::optional<uint64_t> list_uin;
  app_list->add_option("--uin", list_uin, "only this account's applications");
  auto* app_delete = appcmd->add_subcommand(
      "delete", "delete an application; destroys its data key (its data becomes unreadable)");
  app_delete->add_option("--sdkappid", sdkappid)->required();
  auto* app_rotate = appcmd->add_subcommand(
      "rotate-key", "add a new key; older active keys become retiring (still verify) -> {\"Key\"}");
  app_rotate->add_option("--sdkappid", sdkappid)->required();
  auto* app_revoke = appcmd->add_subcommand("revoke-key", "revoke a key (stops verifying at once)");
  app_revoke->add_option("--sdkappid", sdkappid)->required();
  app_revoke->add_option("--key-id", key_id)->required();
  auto* app_keys = appcmd->add_subcommand("keys", "list an application's key ids and states");
  app_keys->add_option("--sdkappid", sdkappid)->required();
  auto* app_key = appcmd->add_subcommand("key", "application key material");
  app_key->require_subcommand(1);
  auto* app_key_show = app_key->add_subcommand("show", "print the current key (audited)");
  app_key_show->add_option("--sdkappid", sdkappid)->required();

  // secret
  auto* secret =
      app.add_subcommand("secret", "REST API secrets (SecretId/SecretKey) of an account");
  secret->require_subcommand(1);
  std::string secret_id;
  auto* secret_create = secret->add_subcommand("create", "-> {\"SecretId\", \"SecretKey\"}");
  secret_create->add_option("--uin", uin)->required();
  auto* secret_list = secret->add_subcommand("list", "list an account's secrets (no SecretKeys)");
  secret_list->add_option("--uin", uin)->required();
  auto* secret_disable = secret->add_subcommand("disable", "disable a secret");
  secret_disable->add_option("--secret-id", secret_id)->required();

  // usersig
  auto* usersig = app.add_subcommand("usersig", "mint or check UserSig tickets (TLS sig v2)");
  usersig->require_subcommand(1);
  std::string key;
  std::string user_id;
  std::string ticket;
  int64_t expire = int64_t{86400} * 180;
  std::optional<uint32_t> room;
  std::optional<std::string> str_room;
  uint32_t privilege = auth::kPrivAll;
  auto* sig_gen = usersig->add_subcommand(
      "gen", "print a UserSig; with --room/--str-room it carries a PrivateMapKey");
  sig_gen->add_option("--sdkappid", sdkappid)->required();
  sig_gen->add_option("--key", key, "application key (or use --data-dir to look it up)");
  sig_gen->add_option("--userid", user_id)->required();
  sig_gen->add_option("--expire", expire, "validity in seconds (default 180 days)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400} * 3650));
  auto* room_opt = sig_gen->add_option("--room", room, "numeric room id for a PrivateMapKey");
  sig_gen->add_option("--str-room", str_room, "string room id for a PrivateMapKey")
      ->excludes(room_opt);
  sig_gen->add_option("--privilege", privilege, "PrivateMapKey privilege bits (default 255)")
      ->check(CLI::Range(0u, 255u));
  auto* sig_verify =
      usersig->add_subcommand("verify", "check a UserSig; prints its decoded fields");
  sig_verify->add_option("--sdkappid", sdkappid)->required();
  sig_verify->add_option("--key", key, "application key (or use --data-dir to look it up)");
  sig_verify->add_option("--userid", user_id)->required();
  sig_verify->add_option("--usersig", ticket)->required();

  // keys
  auto* keys = app.add_subcommand("keys", "master key (KEK)");
  keys->require_subcommand(1);
  auto* rotate_master = keys->add_subcommand(
      "rotate-master", "new master key version; re-wraps every data key (no data re-encryption)");

  // audit
  auto* audit = app.add_subcommand("audit", "tamper-evident audit log");
  audit->require_subcommand(1);
  int64_t since_ms = 0;
  size_t limit = 1000;
  auto* audit_list = audit->add_subcommand("list", "print audit records");
  audit_list->add_option("--since", since_ms, "only records at or after this unix time in ms");
  audit_list->add_option("--limit", limit, "at most this many records (default 1000)");
  auto* audit_verify = audit->add_subcommand(
      "verify", "walk the hash chain; exit 1 naming the first changed/removed/inserted record");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  Logger::Global().SetLevel(LogLevel::kWarn);
  ConfigSources sources;
  sources.file = config_file;
  sources.env = AegisEnvironment();
  if (!data_dir.empty()) sources.overrides["server.data_dir"] = data_dir;
  auto config = LoadConfig(sources);
  if (!config.ok()) return Refuse(config.status());
  const bool data_dir_given =
      !data_dir.empty() || !config_file.empty() || sources.env.contains("AEGIS_SERVER_DATA_DIR");
  const store::AuditContext actor{LocalOperator(), "", ""};

  // UserSig commands need no data dir when --key is given.
  if (*sig_gen || *sig_verify) {
    std::vector<std::string> candidate_keys;
    if (!key.empty()) {
      candidate_keys.push_back(key);
    } else if (data_dir_given) {
      auto loaded = KeysFromDataDir(*config, sdkappid);
      if (!loaded.ok()) return Refuse(loaded.status());
      candidate_keys = std::move(*loaded);
    } else {
      std::cerr << "usersig: give --key K, or --data-dir D to look the key up\n";
      return kExitUsage;
    }
    if (*sig_gen) {
      auth::UserSigGenParams params;
      params.sdkappid = sdkappid;
      params.key = candidate_keys.front();
      params.user_id = user_id;
      params.expire = expire;
      params.time = SystemClock::Instance().NowUnixSeconds();
      if (room || str_room) {
        auth::PrivateMapKey pmk;
        pmk.version = str_room ? 1 : 0;
        pmk.account = user_id;
        pmk.sdkappid = sdkappid;
        pmk.room_id = room.value_or(0);
        pmk.str_room_id = str_room.value_or("");
        pmk.expire_at = static_cast<uint32_t>(params.time + expire);
        pmk.privilege_map = privilege;
        params.private_map_key = pmk;
      }
      auto sig = auth::GenUserSig(params);
      if (!sig.ok()) return Refuse(sig.status());
      std::cout << *sig << std::endl;
      return 0;
    }
    auth::UserSigCheck check;
    check.sdkappid = sdkappid;
    check.user_id = user_id;
    check.keys = candidate_keys;
    check.now = SystemClock::Instance().NowUnixSeconds();
    check.clock_skew_s = config->usersig.clock_skew_s;
    auto info = auth::VerifyUserSig(ticket, check);
    if (!info.ok()) return Refuse(info.status());
    return PrintJson(UserSigJson(*info));
  }

  // Only creating an account can start from an empty data dir; everything
  // else needs one that exists (a typo in --data-dir must not create one).
  auto ctx = OpenDataDir(*config, /*may_initialise=*/account_create->parsed());
  if (!ctx.ok()) return Refuse(ctx.status());
  store::ControlStore& st = *ctx->store;

  if (*account_create) {
    auto a = st.CreateAccount(account_name, actor);
    if (!a.ok()) return Refuse(a.status());
    return PrintJson({{"Uin", a->uin}});
  }
  if (*account_list) {
    auto list = st.ListAccounts();
    if (!list.ok()) return Refuse(list.status());
    json out = json::array();
    for (const auto& a : *list) out.push_back(AccountJson(a));
    return PrintJson(out);
  }
  if (*app_create) {
    auto created = st.CreateApplication(uin, app_name, actor);
    if (!created.ok()) return Refuse(created.status());
    return PrintJson({{"SdkAppId", created->app.sdkappid},
                      {"Key", created->key.key},
                      {"KeyId", created->key.info.key_id}});
  }
  if (*app_list) {
    auto list = st.ListApplications(list_uin);
    if (!list.ok()) return Refuse(list.status());
    json out = json::array();
    for (const auto& a : *list) out.push_back(AppJson(a));
    return PrintJson(out);
  }
  if (*app_delete) {
    const Status s = st.DeleteApplication(sdkappid, actor);
    if (!s.ok()) return Refuse(s);
    return PrintJson({{"SdkAppId", sdkappid}, {"Status", "deleted"}});
  }
  if (*app_rotate) {
    auto k = st.RotateAppKey(sdkappid, actor);
    if (!k.ok()) return Refuse(k.status());
    return PrintJson({{"SdkAppId", sdkappid}, {"KeyId", k->info.key_id}, {"Key", k->key}});
  }
  if (*app_revoke) {
    const Status s = st.RevokeAppKey(sdkappid, key_id, actor);
    if (!s.ok()) return Refuse(s);
    return PrintJson({{"SdkAppId", sdkappid}, {"KeyId", key_id}, {"Status", "revoked"}});
  }
  if (*app_keys) {
    auto list = st.ListAppKeys(sdkappid);
    if (!list.ok()) return Refuse(list.status());
    json out = json::array();
    for (const auto& k : *list) out.push_back(KeyInfoJson(k));
    return PrintJson(out);
  }
  if (*app_key_show) {
    auto k = st.CurrentAppKey(sdkappid, actor);
    if (!k.ok()) return Refuse(k.status());
    return PrintJson({{"SdkAppId", sdkappid}, {"KeyId", k->info.key_id}, {"Key", k->key}});
  }
  if (*secret_create) {
    auto s = st.CreateSecret(uin, actor);
    if (!s.ok()) return Refuse(s.status());
    return PrintJson({{"SecretId", s->info.secret_id}, {"SecretKey", s->secret_key}});
  }
  if (*secret_list) {
    auto list = st.ListSecrets(uin);
    if (!list.ok()) return Refuse(list.status());
    json out = json::array();
    for (const auto& s : *list) out.push_back(SecretJson(s));
    return PrintJson(out);
  }
  if (*secret_disable) {
    const Status s = st.DisableSecret(secret_id, actor);
    if (!s.ok()) return Refuse(s);
    return PrintJson({{"SecretId", secret_id}, {"Status", "disabled"}});
  }
  if (*rotate_master) {
    auto version = ctx->keyring->master().Rotate();
    if (!version.ok()) return Refuse(version.status());
    auto rewrapped = st.RewrapAllDeks(actor);
    if (!rewrapped.ok()) return Refuse(rewrapped.status());
    return PrintJson({{"KekVersion", *version}, {"RewrappedDataKeys", *rewrapped}});
  }
  if (*audit_list) {
    auto records = st.audit().List(since_ms, limit);
    if (!records.ok()) return Refuse(records.status());
    json out = json::array();
    for (const auto& r : *records) out.push_back(AuditJson(r));
    return PrintJson(out);
  }
  if (*audit_verify) {
    auto report = st.audit().Verify();
    if (!report.ok()) return Refuse(report.status());
    json out = {{"ok", report->ok}, {"records", report->records}};
    if (!report->ok) {
      out["firstBadSeq"] = report->first_bad_seq;
      out["problem"] = report->problem;
    }
    PrintJson(out);
    return report->ok ? 0 : kExitRefused;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace aegis

int main(int argc, char** argv) {
  try {
    return aegis::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aegisctl: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "aegisctl: internal error\n";
  }
  return aegis::kExitRefused;
}
