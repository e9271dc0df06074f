// ControlStore: migrations and files, accounts/applications/keys/secrets,
// sealed columns bound to their rows (ENV-01), crypto-shredding (ENV-06),
// KEK rotation + rewrap (ENV-03), audit of every mutation and concurrency
// of two stores on one data dir (aegisctl + aegisd).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <thread>

#include "core/mask.h"
#include "crypto/primitives.h"
#include "store_test_util.h"

namespace aegis::store::testing {
namespace {

namespace fs = std::filesystem;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool FileContains(const std::string& path, std::span<const uint8_t> needle) {
  const std::string hay = ReadFile(path);
  return hay.find(std::string(crypto::AsString(needle))) != std::string::npos;
}

class ControlStoreTest : public StoreTest {
 protected:
  uint64_t NewAccount(const std::string& name = "acme") {
    auto a = store_->CreateAccount(name, Ctx());
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->uin : 0;
  }
  ControlStore::CreatedApp NewApp(uint64_t uin, const std::string& name = "app") {
    auto app = store_->CreateApplication(uin, name, Ctx());
    EXPECT_TRUE(app.ok()) << app.status().ToString();
    return app.ok() ? *app : ControlStore::CreatedApp{};
  }
  std::vector<std::string> AuditActions() {
    auto records = store_->audit().List(0, 10000);
    EXPECT_TRUE(records.ok());
    std::vector<std::string> out;
    for (const auto& r : *records) out.push_back(r.action + ":" + r.result);
    return out;
  }
};

TEST_F(ControlStoreTest, OpenCreatesPrivateFilesWalAndSchema) {
  EXPECT_TRUE(store_->Ping().ok());
  EXPECT_EQ(ModeOf(data_dir_), 0700u);
  EXPECT_EQ(ModeOf(data_dir_ + "/apps"), 0700u);
  EXPECT_EQ(ModeOf(ControlPath()), 0600u);
  EXPECT_EQ(ModeOf(ControlPath() + "-wal"), 0600u);
  const uint64_t uin = NewAccount();
  const auto app = NewApp(uin);
  EXPECT_EQ(ModeOf(AppPath(app.app.sdkappid)), 0600u);

  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Text("PRAGMA journal_mode;"), "wal");
  EXPECT_EQ(raw.Int("SELECT MAX(version) FROM schema_migrations;"), 2);
  RawDb app_raw(AppPath(app.app.sdkappid));
  EXPECT_EQ(app_raw.Int("SELECT MAX(version) FROM schema_migrations;"), 1);
  EXPECT_EQ(app_raw.Int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sessions';"), 1);
  // The control DB never holds per-application data.
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('rooms', 'sessions');"), 0);
}

TEST_F(ControlStoreTest, ReopenKeepsDataAndDoesNotReapplyMigrations) {
  const uint64_t uin = NewAccount();
  store_.reset();
  store_ = OpenStore();
  ASSERT_TRUE(store_);
  auto account = store_->GetAccount(uin);
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->name, "acme");
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM schema_migrations;"), 2);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM deks WHERE owner = 'audit';"), 1);
}

TEST_F(ControlStoreTest, RefusesDatabaseFromANewerVersion) {
  store_.reset();
  {
    RawDb raw(ControlPath());
    raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'x', 0);");
  }
  auto store = ControlStore::Open(data_dir_, *keyring_, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), "store_invalid");
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos);
  EXPECT_NE(store.status().message().find("upgrade"), std::string::npos);
}

TEST_F(ControlStoreTest, RefusesAWrongMasterKey) {
  store_.reset();
  fs::remove(key_path_);
  keyring_ = MakeKeyring();  // a different KEK
  auto store = ControlStore::Open(data_dir_, *keyring_, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), "crypto_auth_failed");
}

TEST_F(ControlStoreTest, AccountsAndApplications) {
  const uint64_t a = NewAccount("acme");
  const uint64_t b = NewAccount("globex");
  EXPECT_EQ(a, 100000001u);
  EXPECT_EQ(b, 100000002u);
  auto accounts = store_->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[1].name, "globex");
  EXPECT_EQ((*accounts)[0].status, "enabled");
  EXPECT_EQ((*accounts)[0].created_at, 1'700'000'000);
  EXPECT_EQ(store_->GetAccount(999).status().code(), "store_not_found");

  const auto app1 = NewApp(a, "one");
  const auto app2 = NewApp(b, "two");
  const auto app3 = NewApp(a, "three");
  EXPECT_EQ(app1.app.sdkappid, 1400000001u);
  EXPECT_EQ(app2.app.sdkappid, 1400000002u);
  EXPECT_EQ(app1.key.info.key_id, 1u);
  EXPECT_EQ(app1.key.info.status, "active");
  EXPECT_TRUE(std::regex_match(app1.key.key, std::regex("[0-9a-f]{64}")));
  EXPECT_NE(app1.key.key, app2.key.key);
  EXPECT_TRUE(fs::exists(AppPath(app1.app.sdkappid)));

  auto got = store_->GetApplication(app1.app.sdkappid);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "one");
  EXPECT_EQ(got->uin, a);
  EXPECT_EQ(got->status, "enabled");
  EXPECT_EQ(got->plan, "standard");
  EXPECT_TRUE(got->tags.empty());
  EXPECT_FALSE(got->recording_enabled);

  auto all = store_->ListApplications(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto of_a = store_->ListApplications(a);
  ASSERT_TRUE(of_a.ok());
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[1].sdkappid, app3.app.sdkappid);

  EXPECT_EQ(store_->GetApplication(1).status().code(), "store_not_found");
  EXPECT_EQ(store_->CreateApplication(999, "x", Ctx()).status().code(), "store_not_found");
  EXPECT_EQ(store_->CreateApplication(a, "", Ctx()).status().code(), "store_invalid");
  EXPECT_EQ(store_->CreateApplication(a, "bad\nname", Ctx()).status().code(), "store_invalid");
  EXPECT_EQ(store_->CreateAccount(std::string(200, 'x'), Ctx()).status().code(), "store_invalid");
}

TEST_F(ControlStoreTest, KeyRotationKeepsSeveralKeysVerifying) {
  const auto created = NewApp(NewAccount());
  const uint32_t id = created.app.sdkappid;
  auto k2 = store_->RotateAppKey(id, Ctx());
  ASSERT_TRUE(k2.ok()) << k2.status().ToString();
  EXPECT_EQ(k2->info.key_id, 2u);
  EXPECT_NE(k2->key, created.key.key);

  auto verifying = store_->VerifyingAppKeys(id);
  ASSERT_TRUE(verifying.ok()) << verifying.status().ToString();
  ASSERT_EQ(verifying->size(), 2u);
  EXPECT_EQ((*verifying)[0].info.key_id, 2u);  // newest first
  EXPECT_EQ((*verifying)[0].info.status, "active");
  EXPECT_EQ((*verifying)[1].key, created.key.key);
  EXPECT_EQ((*verifying)[1].info.status, "retiring");

  auto current = store_->CurrentAppKey(id, Ctx());
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->key, k2->key);

  ASSERT_TRUE(store_->RevokeAppKey(id, 1, Ctx()).ok());
  verifying = store_->VerifyingAppKeys(id);
  ASSERT_TRUE(verifying.ok());
  ASSERT_EQ(verifying->size(), 1u);
  EXPECT_EQ(verifying->front().info.key_id, 2u);
  auto keys = store_->ListAppKeys(id);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].status, "revoked");
  EXPECT_EQ((*keys)[1].status, "active");
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM app_keys WHERE key_id = 1 AND key_sealed IS NULL;"), 1);

  EXPECT_EQ(store_->RevokeAppKey(id, 77, Ctx()).code(), "store_not_found");
  EXPECT_EQ(store_->RotateAppKey(1, Ctx()).status().code(), "store_not_found");
  EXPECT_EQ(store_->VerifyingAppKeys(1).status().code(), "store_not_found");
}

TEST_F(ControlStoreTest, SealedAppKeysAreNotStoredInClear) {
  const auto created = NewApp(NewAccount());
  EXPECT_FALSE(FileContains(ControlPath(), crypto::AsBytes(created.key.key)));
  EXPECT_FALSE(FileContains(ControlPath() + "-wal", crypto::AsBytes(created.key.key)));
}

TEST_F(ControlStoreTest, SwappingSealedKeysBetweenRowsFailsAuthentication) {
  const uint32_t id = NewApp(NewAccount()).app.sdkappid;
  ASSERT_TRUE(store_->RotateAppKey(id, Ctx()).ok());
  {
    RawDb raw(ControlPath());
    raw.SwapBlobs("app_keys", "key_sealed", "key_id = 1", "key_id = 2");
  }
  EXPECT_EQ(store_->CurrentAppKey(id, Ctx()).status().code(), "crypto_auth_failed");
  EXPECT_EQ(store_->VerifyingAppKeys(id).status().code(), "crypto_auth_failed");
}

TEST_F(ControlStoreTest, SwappingSealedKeysAcrossApplicationsFailsAuthentication) {
  const uint64_t uin = NewAccount();
  const uint32_t a = NewApp(uin).app.sdkappid;
  const uint32_t b = NewApp(NewAccount("other")).app.sdkappid;
  {
    RawDb raw(ControlPath());
    const std::string sa = std::to_string(a), sb = std::to_string(b);
    raw.SwapBlobs("app_keys", "key_sealed", "sdkappid = " + sa, "sdkappid = " + sb);
  }
  EXPECT_EQ(store_->CurrentAppKey(a, Ctx()).status().code(), "crypto_auth_failed");
  EXPECT_EQ(store_->CurrentAppKey(b, Ctx()).status().code(), "crypto_auth_failed");
  EXPECT_EQ(store_->VerifyingAppKeys(a).status().code(), "crypto_auth_failed");
  EXPECT_EQ(store_->VerifyingAppKeys(b).status().code(), "crypto_auth_failed");
}

TEST_F(ControlStoreTest, SecretsRoundTrip) {
  const uint64_t uin = NewAccount();
  auto s = store_->CreateSecret(uin, Ctx());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(std::regex_match(s->info.secret_id, std::regex("AKID[A-Za-z0-9]{32}")));
  EXPECT_TRUE(std::regex_match(s->secret_key, std::regex("[A-Za-z0-9]{32}")));
  EXPECT_EQ(s->info.status, "enabled");
  EXPECT_EQ(s->info.last_used_at, 0);

  auto found = store_->LookupSecret(s->info.secret_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->secret_key, s->secret_key);
  EXPECT_EQ(found->info.uin, uin);

  auto s2 = store_->CreateSecret(uin, Ctx());
  ASSERT_TRUE(s2.ok());
  auto list = store_->ListSecrets(uin);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);

  ASSERT_TRUE(store_->DisableSecret(s->info.secret_id, Ctx()).ok());
  found = store_->LookupSecret(s->info.secret_id);
  ASSERT_TRUE(found.ok());  // disabled secrets are returned; the caller decides
  EXPECT_EQ(found->info.status, "disabled");

  EXPECT_EQ(store_->LookupSecret("AKID" + std::string(32, 'x')).status().code(), "store_not_found");
  EXPECT_EQ(store_->LookupSecret("' OR 1=1 --").status().code(), "store_not_found");
  EXPECT_EQ(store_->DisableSecret("AKIDnope", Ctx()).code(), "store_not_found");
  EXPECT_EQ(store_->ListSecrets(5).status().code(), "store_not_found");
  EXPECT_EQ(store_->CreateSecret(5, Ctx()).status().code(), "store_not_found");
  EXPECT_FALSE(FileContains(ControlPath() + "-wal", crypto::AsBytes(s->secret_key)));
}

TEST_F(ControlStoreTest, SwappingSealedSecretsAcrossAccountsFailsAuthentication) {
  auto s1 = store_->CreateSecret(NewAccount("a"), Ctx());
  auto s2 = store_->CreateSecret(NewAccount("b"), Ctx());
  ASSERT_TRUE(s1.ok() && s2.ok());
  {
    RawDb raw(ControlPath());
    const std::string i1 = s1->info.secret_id, i2 = s2->info.secret_id;
    raw.SwapBlobs("secrets", "secret_key_sealed", "secret_id = '" + i1 + "'",
                  "secret_id = '" + i2 + "'");
  }
  EXPECT_EQ(store_->LookupSecret(s1->info.secret_id).status().code(), "crypto_auth_failed");
  EXPECT_EQ(store_->LookupSecret(s2->info.secret_id).status().code(), "crypto_auth_failed");
}

TEST_F(ControlStoreTest, TouchSecretIsCoalescedToOncePerMinute) {
  auto s = store_->CreateSecret(NewAccount(), Ctx());
  ASSERT_TRUE(s.ok());
  const std::string id = s->info.secret_id;
  auto last_used = [&] {
    auto m = store_->LookupSecret(id);
    EXPECT_TRUE(m.ok());
    return m.ok() ? m->info.last_used_at : -1;
  };
  clock_.AdvanceMillis(10'000);
  store_->TouchSecret(id);
  EXPECT_EQ(last_used(), 1'700'000'010);
  clock_.AdvanceMillis(30'000);
  store_->TouchSecret(id);
  EXPECT_EQ(last_used(), 1'700'000'010);  // coalesced
  clock_.AdvanceMillis(30'000);
  store_->TouchSecret(id);
  EXPECT_EQ(last_used(), 1'700'000'070);
  store_->TouchSecret("AKIDunknown");  // best effort: no crash, no error
}

// Regression: OpenApp used to create a fresh, empty database in place of a
// vanished file, silently standing in for the application's history.
TEST_F(ControlStoreTest, OpenAppRefusesAMissingDatabaseFile) {
  const uint64_t uin = NewAccount();
  const auto created = NewApp(uin);
  const uint32_t id = created.app.sdkappid;
  ASSERT_TRUE(fs::exists(AppPath(id)));  // CreateApplication creates it
  ASSERT_TRUE(store_->OpenApp(id).ok());
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(AppPath(id) + suffix);

  auto opened = store_->OpenApp(id);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), "store_not_found");
  EXPECT_EQ(opened.status().message(), "application database missing");
  EXPECT_FALSE(fs::exists(AppPath(id)));
  // The application itself is still there; only its history is gone.
  EXPECT_TRUE(store_->GetApplication(id).ok());
  // Other applications are unaffected and new ones still get their file.
  const auto other = NewApp(uin, "other");
  EXPECT_TRUE(fs::exists(AppPath(other.app.sdkappid)));
  EXPECT_TRUE(store_->OpenApp(other.app.sdkappid).ok());
}

TEST_F(ControlStoreTest, DeleteApplicationShredsItsData) {
  const uint64_t uin = NewAccount();
  const auto created = NewApp(uin);
  const auto keep = NewApp(uin, "survivor");
  const uint32_t id = created.app.sdkappid;
  const std::string user = "alice-the-end-user";
  {
    auto app = store_->OpenApp(id);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    ASSERT_TRUE((*app)->RecordRoomCreated({"comm-1", "1234", false, user, 10, 0}).ok());
  }
  // A "backup": the app DB file and the sealed key bytes, taken before deletion.
  const std::string backup = dir_.path() + "/backup.db";
  {
    RawDb app_raw(AppPath(id));
    app_raw.Exec("VACUUM INTO '" + backup + "';");
  }
  RawDb raw(ControlPath());
  const crypto::Bytes sealed_key =
      raw.Blob("SELECT key_sealed FROM app_keys WHERE sdkappid = " + std::to_string(id) + ";");
  const crypto::Bytes wrapped_dek =
      raw.Blob("SELECT wrapped FROM deks WHERE owner = 'app:" + std::to_string(id) + "';");
  ASSERT_FALSE(sealed_key.empty());
  ASSERT_FALSE(wrapped_dek.empty());

  ASSERT_TRUE(store_->DeleteApplication(id, Ctx()).ok());

  EXPECT_EQ(store_->OpenApp(id).status().code(), "store_not_found");
  EXPECT_EQ(store_->VerifyingAppKeys(id).status().code(), "store_not_found");
  EXPECT_EQ(store_->CurrentAppKey(id, Ctx()).status().code(), "store_not_found");
  EXPECT_EQ(store_->GetApplication(id).status().code(), "store_not_found");
  EXPECT_EQ(store_->DeleteApplication(id, Ctx()).code(), "store_not_found");
  auto apps = store_->ListApplications(uin);
  ASSERT_TRUE(apps.ok());
  ASSERT_EQ(apps->size(), 1u);
  EXPECT_EQ(apps->front().sdkappid, keep.app.sdkappid);
  EXPECT_TRUE(store_->VerifyingAppKeys(keep.app.sdkappid).ok());

  // The row stays for the audit trail; the DEK and the key material are gone.
  const std::string sid = std::to_string(id);
  EXPECT_EQ(raw.Text("SELECT status FROM applications WHERE sdkappid = " + sid + ";"), "deleted");
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM deks WHERE owner = 'app:" + sid + "';"), 0);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM app_keys WHERE sdkappid = " + sid +
                    " AND (key_sealed IS NOT NULL OR status != 'revoked');"),
            0);
  EXPECT_FALSE(fs::exists(AppPath(id)));
  EXPECT_FALSE(fs::exists(AppPath(id) + "-wal"));
  EXPECT_FALSE(fs::exists(AppPath(id) + "-shm"));
  // No copy of the wrapped DEK survives in the control DB files either.
  EXPECT_FALSE(FileContains(ControlPath(), wrapped_dek));
  EXPECT_FALSE(FileContains(ControlPath() + "-wal", wrapped_dek));

  // The backup still holds the sealed data, but nothing can open it: the
  // sealed bytes need DEK version 1 of app:<id>, and no wrapped copy exists.
  EXPECT_FALSE(FileContains(backup, crypto::AsBytes(user)));
  RawDb backup_raw(backup);
  const crypto::Bytes sealed_creator = backup_raw.Blob("SELECT creator_sealed FROM rooms;");
  ASSERT_FALSE(sealed_creator.empty());
  auto version = crypto::Dek::SealedVersion(sealed_creator);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 1u);
  auto version_key = crypto::Dek::SealedVersion(sealed_key);
  ASSERT_TRUE(version_key.ok());
  // Re-creating an app under the same id is impossible (ids are never reused)
  // and a fresh DEK for the same owner does not open the old bytes.
  const auto next = NewApp(uin, "later");
  EXPECT_NE(next.app.sdkappid, id);
  auto fresh = keyring_->NewDek("app:" + sid, 1);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->first
                .Open(crypto::FieldContext("app:" + sid, "app_keys", "key", sid + "/1"), sealed_key)
                .status()
                .code(),
            "crypto_auth_failed");

  const auto actions = AuditActions();
  EXPECT_NE(std::find(actions.begin(), actions.end(), "app.delete:ok"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "app.delete:store_not_found"), actions.end());
}

TEST_F(ControlStoreTest, RewrapAfterMasterRotationLetsOldKekRetire) {
  const uint64_t uin = NewAccount();
  auto secret = store_->CreateSecret(uin, Ctx());
  ASSERT_TRUE(secret.ok());
  const auto created = NewApp(uin);
  {
    auto app = store_->OpenApp(created.app.sdkappid);
    ASSERT_TRUE(app.ok());
    ASSERT_TRUE((*app)->RecordRoomCreated({"c1", "42", false, "bob-user", 1, 0}).ok());
  }

  auto v2 = keyring_->master().Rotate();
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2u);
  auto n = store_->RewrapAllDeks(Ctx());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);  // audit, account, app
  auto again = store_->RewrapAllDeks(Ctx());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);  // idempotent
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM deks WHERE kek_version != 2;"), 0);

  ASSERT_TRUE(keyring_->master().Retire(2).ok());
  // A new process with only KEK v2 (the file no longer has v1).
  store_.reset();
  keyring_ = MakeKeyring();
  EXPECT_EQ(keyring_->master().Versions(), std::vector<uint32_t>{2});
  store_ = OpenStore();
  ASSERT_TRUE(store_);
  auto found = store_->LookupSecret(secret->info.secret_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->secret_key, secret->secret_key);
  auto key = store_->CurrentAppKey(created.app.sdkappid, Ctx());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->key, created.key.key);
  auto app = store_->OpenApp(created.app.sdkappid);
  ASSERT_TRUE(app.ok());
  auto rooms = (*app)->ListRooms(RoomQuery{});
  ASSERT_TRUE(rooms.ok());
  ASSERT_EQ(rooms->first.size(), 1u);
  EXPECT_EQ(rooms->first[0].creator, "bob-user");
  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "keys.rewrap:ok"), 2);
}

TEST_F(ControlStoreTest, RetiringWithoutRewrapBreaksDecryption) {
  auto secret = store_->CreateSecret(NewAccount(), Ctx());
  ASSERT_TRUE(secret.ok());
  ASSERT_TRUE(keyring_->master().Rotate().ok());
  ASSERT_TRUE(keyring_->master().Retire(2).ok());
  EXPECT_EQ(store_->LookupSecret(secret->info.secret_id).status().code(),
            "keyring_unknown_kek_version");
}

TEST_F(ControlStoreTest, EveryMutationIsAuditedInItsTransaction) {
  const uint64_t uin = NewAccount();
  const auto app = NewApp(uin);
  const uint32_t id = app.app.sdkappid;
  ASSERT_TRUE(store_->RotateAppKey(id, Ctx()).ok());
  ASSERT_TRUE(store_->CurrentAppKey(id, Ctx()).ok());
  ASSERT_TRUE(store_->RevokeAppKey(id, 1, Ctx()).ok());
  auto secret = store_->CreateSecret(uin, Ctx());
  ASSERT_TRUE(secret.ok());
  ASSERT_TRUE(store_->DisableSecret(secret->info.secret_id, Ctx()).ok());
  ASSERT_TRUE(store_->RewrapAllDeks(Ctx()).ok());
  ASSERT_TRUE(store_->DeleteApplication(id, Ctx()).ok());
  EXPECT_FALSE(store_->CreateApplication(777, "x", Ctx()).ok());

  const std::vector<std::string> expected = {"account.create:ok", "app.create:ok",
                                             "app.key.rotate:ok", "app.key.show:ok",
                                             "app.key.revoke:ok", "secret.create:ok",
                                             "secret.disable:ok", "keys.rewrap:ok",
                                             "app.delete:ok",     "app.create:store_not_found"};
  EXPECT_EQ(AuditActions(), expected);

  auto records = store_->audit().List(0, 100);
  ASSERT_TRUE(records.ok());
  for (const auto& r : *records) {
    EXPECT_EQ(r.actor, "operator:local");
    EXPECT_EQ(r.request_id, "req-1");
    EXPECT_EQ(r.client_ip_masked, "203.0.*.*");
    EXPECT_EQ(r.time_ms, 1'700'000'000'000);
  }
  EXPECT_EQ((*records)[1].target, "app:" + std::to_string(id));
  EXPECT_EQ((*records)[5].target, "secret:" + MaskCredentialId(secret->info.secret_id));
  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(ControlStoreTest, NoSecretEverAppearsInTheAuditLog) {
  std::vector<std::string> secrets;
  const uint64_t uin = NewAccount();
  for (int i = 0; i < 3; ++i) {
    const auto app = NewApp(uin, "app" + std::to_string(i));
    secrets.push_back(app.key.key);
    auto k = store_->RotateAppKey(app.app.sdkappid, Ctx());
    ASSERT_TRUE(k.ok());
    secrets.push_back(k->key);
    auto shown = store_->CurrentAppKey(app.app.sdkappid, Ctx());
    ASSERT_TRUE(shown.ok());
    ASSERT_TRUE(store_->RevokeAppKey(app.app.sdkappid, 1, Ctx()).ok());
    auto s = store_->CreateSecret(uin, Ctx());
    ASSERT_TRUE(s.ok());
    secrets.push_back(s->secret_key);
    ASSERT_TRUE(store_->DisableSecret(s->info.secret_id, Ctx()).ok());
  }
  ASSERT_TRUE(store_->DeleteApplication(1400000001, Ctx()).ok());
  auto records = store_->audit().List(0, 1000);
  ASSERT_TRUE(records.ok());
  ASSERT_GE(records->size(), 16u);
  for (const auto& r : *records) {
    for (const std::string& field :
         {r.actor, r.action, r.target, r.result, r.request_id, r.client_ip_masked, r.client_ip_hash,
          r.detail, r.prev_hash, r.hash, r.mac}) {
      for (const auto& secret : secrets) {
        EXPECT_EQ(field.find(secret), std::string::npos) << r.action << " leaks a secret";
        // Not even a recognizable half of it.
        EXPECT_EQ(field.find(secret.substr(0, 16)), std::string::npos) << r.action;
      }
      EXPECT_EQ(field.find("203.0.113.7"), std::string::npos) << "full client IP stored";
    }
  }
}

TEST_F(ControlStoreTest, TwoStoresOnOneDataDirShareOneChain) {
  // aegisctl and aegisd: separate keyring objects over the same key file,
  // separate connections over the same files.
  auto keyring2 = MakeKeyring();
  auto second = ControlStore::Open(data_dir_, *keyring2, clock_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ControlStore& other = **second;

  AuditEvent e{"operator:local", "api.Test", "t", "ok", "", "192.0.2.1", ""};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store_->audit().Append(e).ok());
    ASSERT_TRUE(other.audit().Append(e).ok());
    if (i % 5 == 0) {
      ASSERT_TRUE(other.CreateAccount("acct" + std::to_string(i), Ctx()).ok());
      ASSERT_TRUE(store_->CreateAccount("acct" + std::to_string(i), Ctx()).ok());
    }
  }
  // Changes made by one are visible to the other's next call.
  auto accounts = other.ListAccounts();
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(accounts->size(), 8u);
  const auto app = NewApp(accounts->front().uin);
  auto seen = other.VerifyingAppKeys(app.app.sdkappid);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->front().key, app.key.key);

  for (ControlStore* s : {store_.get(), &other}) {
    auto report = s->audit().Verify();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok) << report->problem << " at " << report->first_bad_seq;
    EXPECT_EQ(report->records, 49u);
  }
}

TEST_F(ControlStoreTest, ConcurrentAppendersFromTwoStoresKeepTheChainValid) {
  auto keyring2 = MakeKeyring();
  auto second = ControlStore::Open(data_dir_, *keyring2, clock_);
  ASSERT_TRUE(second.ok());
  constexpr int kPerWriter = 60;
  auto writer = [](ControlStore* s, const std::string& who, int* failures) {
    for (int i = 0; i < kPerWriter; ++i) {
      AuditEvent e{who, "api.Test", "t" + std::to_string(i), "ok", "", "", ""};
      if (!s->audit().Append(e).ok()) ++*failures;
    }
  };
  int f1 = 0, f2 = 0, f3 = 0;
  std::thread t1(writer, store_.get(), "aegisd", &f1);
  std::thread t2(writer, second->get(), "aegisctl", &f2);
  std::thread t3(writer, store_.get(), "aegisd-2", &f3);  // same store, other thread
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(f1 + f2 + f3, 0);
  auto report = (*second)->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem << " at " << report->first_bad_seq;
  EXPECT_EQ(report->records, static_cast<uint64_t>(3 * kPerWriter));
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(DISTINCT seq) FROM audit_log;"), 3 * kPerWriter);
}

// A second process appending to the same audit log (aegisctl next to aegisd).
// Disabled: only run as the child of the test below.
constexpr int kPerProcess = 100;

TEST(StoreChildProcess, DISABLED_AppendAuditRecords) {
  const char* dir = std::getenv("AEGIS_STORE_CHILD_DIR");
  if (dir == nullptr) GTEST_SKIP() << "only runs as a child process";
  auto provider = crypto::FileMasterKeyProvider::Open(std::string(dir) + "/master.key", false);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  crypto::Keyring keyring(std::move(*provider));
  FakeClock clock;
  auto store = ControlStore::Open(std::string(dir) + "/data", keyring, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (int i = 0; i < kPerProcess; ++i) {
    AuditEvent e{"aegisctl", "api.Child", "t" + std::to_string(i), "ok", "", "", ""};
    ASSERT_TRUE((*store)->audit().Append(e).ok());
  }
}

TEST_F(ControlStoreTest, ConcurrentAppendersInTwoProcessesKeepTheChainValid) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  const std::string log = dir_.path() + "/child.log";
  std::vector<std::string> args = {exe, "--gtest_filter=StoreChildProcess.*",
                                   "--gtest_also_run_disabled_tests"};
  std::vector<std::string> env = {"AEGIS_STORE_CHILD_DIR=" + dir_.path()};
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  auto to_argv = [](std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  };
  auto argv = to_argv(args);
  auto envp = to_argv(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);

  int failures = 0;
  for (int i = 0; i < kPerProcess; ++i) {
    AuditEvent e{"aegisd", "api.Parent", "t" + std::to_string(i), "ok", "", "", ""};
    if (!store_->audit().Append(e).ok()) ++failures;
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("[  PASSED  ] 1 test"), std::string::npos) << ReadFile(log);
  EXPECT_EQ(failures, 0);

  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem << " at " << report->first_bad_seq;
  EXPECT_EQ(report->records, static_cast<uint64_t>(2 * kPerProcess));
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_log WHERE actor = 'aegisctl';"), kPerProcess);
}

}  // namespace
}  // namespace aegis::store::testing
