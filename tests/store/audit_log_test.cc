// AuditLog: hash chain, MACs, checkpoint and the tamper cases of AUD-02
// (modification, deletion, insertion, reordering, truncation) on a
// 1000-entry log edited directly with SQLite.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "crypto/primitives.h"
#include "store/audit_internal.h"
#include "store/control_store_internal.h"
#include "store_test_util.h"

namespace aegis::store::testing {
namespace {

namespace fs = std::filesystem;

AuditEvent Event(int i) {
  AuditEvent e;
  e.actor = "operator:local";
  e.action = "api.DismissRoom";
  e.target = "room:1400000001/" + std::to_string(i);
  e.result = "ok";
  e.request_id = "req-" + std::to_string(i);
  e.client_ip = "198.51.100." + std::to_string(i % 250);
  e.detail = "n=" + std::to_string(i);
  return e;
}

TEST(AuditCanonicalTest, FieldBoundariesAreUnambiguous) {
  AuditRecord a;
  a.actor = "ab";
  a.action = "c";
  AuditRecord b;
  b.actor = "a";
  b.action = "bc";
  EXPECT_NE(internal::CanonicalAuditRecord(a), internal::CanonicalAuditRecord(b));
  a.prev_hash = b.prev_hash = std::string(internal::kGenesisHash);
  EXPECT_NE(internal::ComputeAuditHash(a), internal::ComputeAuditHash(b));
}

class AuditLogTest : public StoreTest {};

TEST_F(AuditLogTest, EmptyLogVerifies) {
  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->records, 0u);
}

TEST_F(AuditLogTest, AppendBuildsAChainOfMaskedRecords) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->audit().Append(Event(i)).ok());
    clock_.AdvanceMillis(5);
  }
  auto records = store_->audit().List(0, 100);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  std::string prev(internal::kGenesisHash);
  const std::regex hex64("[0-9a-f]{64}");
  for (size_t i = 0; i < records->size(); ++i) {
    const AuditRecord& r = (*records)[i];
    EXPECT_EQ(r.seq, i + 1);
    EXPECT_EQ(r.time_ms, 1'700'000'000'000 + static_cast<int64_t>(5 * i));
    EXPECT_EQ(r.prev_hash, prev);
    EXPECT_TRUE(std::regex_match(r.hash, hex64));
    EXPECT_TRUE(std::regex_match(r.mac, hex64));
    EXPECT_TRUE(std::regex_match(r.client_ip_hash, hex64));
    EXPECT_EQ(r.client_ip_masked, "198.51.*.*");
    EXPECT_EQ(r.hash, internal::ComputeAuditHash(r));
    prev = r.hash;
  }
  // Same address, same keyed hash; the full address is stored nowhere.
  AuditEvent again = Event(0);
  ASSERT_TRUE(store_->audit().Append(again).ok());
  auto all = store_->audit().List(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->back().client_ip_hash, all->front().client_ip_hash);
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_log WHERE client_ip_masked LIKE '%100.0%' OR "
                    "detail LIKE '%198.51.100%';"),
            0);

  auto since = store_->audit().List(1'700'000'000'005, 100);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 3u);
  EXPECT_EQ(since->front().seq, 2u);
  auto limited = store_->audit().List(0, 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);

  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem << " at " << report->first_bad_seq;
  EXPECT_EQ(report->records, 4u);
}

TEST_F(AuditLogTest, DetailIsScrubbedOfSecretLookingRuns) {
  AuditEvent e = Event(1);
  const std::string leaked = crypto::RandomAlnum(32) + "9a";
  e.detail = "oops " + leaked;
  ASSERT_TRUE(store_->audit().Append(e).ok());
  auto records = store_->audit().List(0, 10);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->front().detail.find(leaked), std::string::npos);
}

TEST_F(AuditLogTest, NewLogStartsFromAGenesisCheckpoint) {
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_checkpoint WHERE seq = 0;"), 1);
  EXPECT_EQ(raw.Text("SELECT hash FROM audit_checkpoint;"), internal::kGenesisHash);
  ASSERT_TRUE(store_->audit().Append(Event(1)).ok());
  EXPECT_EQ(raw.Int("SELECT seq FROM audit_checkpoint;"), 1);
  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, 1u);
}

// Regression: with the checkpoint row deleted, the next append used to
// continue from the last surviving row, and Verify then passed on the
// truncated log.
TEST_F(AuditLogTest, TruncateDeleteCheckpointAndAppendIsRefused) {
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE(store_->audit().Append(Event(i)).ok());
  {
    RawDb raw(ControlPath());
    raw.Exec("DELETE FROM audit_log WHERE seq > 3;");
    raw.Exec("DELETE FROM audit_checkpoint;");
  }
  const Status appended = store_->audit().Append(Event(7));
  EXPECT_EQ(appended.code(), "store_invalid");
  EXPECT_NE(appended.message().find("audit checkpoint missing"), std::string::npos)
      << appended.message();
  // Audited mutations are refused too: their record could not be chained.
  EXPECT_EQ(store_->CreateAccount("acme", Ctx()).status().code(), "store_invalid");

  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->problem, "checkpoint_missing");
  EXPECT_EQ(report->records, 3u);
  EXPECT_EQ(report->first_bad_seq, 4u);
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_log;"), 3);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_checkpoint;"), 0);
}

// Migration 2 on a database written by schema 1.
TEST_F(AuditLogTest, MigrationAddsGenesisCheckpointOnlyToAnEmptyLog) {
  store_.reset();
  {
    RawDb raw(ControlPath());
    raw.Exec("DELETE FROM audit_checkpoint; DELETE FROM schema_migrations WHERE version = 2;");
  }
  store_ = OpenStore();
  ASSERT_TRUE(store_);
  {
    RawDb raw(ControlPath());
    EXPECT_EQ(raw.Int("SELECT MAX(version) FROM schema_migrations;"), 2);
    EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_checkpoint WHERE seq = 0;"), 1);
  }
  ASSERT_TRUE(store_->audit().Append(Event(1)).ok());

  // A schema-1 log with records but no checkpoint stays without one.
  store_.reset();
  {
    RawDb raw(ControlPath());
    raw.Exec("DELETE FROM audit_checkpoint; DELETE FROM schema_migrations WHERE version = 2;");
  }
  store_ = OpenStore();
  ASSERT_TRUE(store_);
  RawDb raw(ControlPath());
  EXPECT_EQ(raw.Int("SELECT MAX(version) FROM schema_migrations;"), 2);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM audit_checkpoint;"), 0);
  auto report = store_->audit().Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->problem, "checkpoint_missing");
  EXPECT_EQ(store_->audit().Append(Event(2)).code(), "store_invalid");
}

// ---- AUD-02: tampering with a 1000-entry log ----

class AuditTamperTest : public ::testing::Test {
 protected:
  static constexpr int kEntries = 1000;

  // Builds the 1000-entry log once; each test works on its own copy.
  static void SetUpTestSuite() {
    template_dir_ = new TempDir();
    const std::string key = template_dir_->path() + "/master.key";
    auto provider = crypto::FileMasterKeyProvider::Open(key, true);
    ASSERT_TRUE(provider.ok());
    crypto::Keyring keyring(std::move(*provider));
    FakeClock clock;
    // Durability is irrelevant for a fixture: skip the fsync per append.
    auto store = internal::OpenControlStore(template_dir_->path() + "/data", keyring, clock,
                                            internal::DbOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 1; i <= kEntries; ++i) {
      ASSERT_TRUE((*store)->audit().Append(Event(i)).ok());
      clock.AdvanceMillis(1);
    }
  }
  static void TearDownTestSuite() {
    delete template_dir_;
    template_dir_ = nullptr;
  }

  void SetUp() override {
    fs::copy(template_dir_->path(), dir_.path(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    auto provider = crypto::FileMasterKeyProvider::Open(dir_.path() + "/master.key", false);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    keyring_ = std::make_unique<crypto::Keyring>(std::move(*provider));
    auto store = ControlStore::Open(dir_.path() + "/data", *keyring_, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    raw_ = std::make_unique<RawDb>(dir_.path() + "/data/control.db");
  }

  AuditVerifyReport Verify() {
    auto report = store_->audit().Verify();
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : AuditVerifyReport{};
  }

  void ExpectBad(const std::string& problem, uint64_t seq) {
    const AuditVerifyReport r = Verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.problem, problem);
    EXPECT_EQ(r.first_bad_seq, seq);
  }

  AuditRecord Row(uint64_t seq) {
    auto all = store_->audit().List(0, 10000);
    EXPECT_TRUE(all.ok());
    for (const auto& r : *all) {
      if (r.seq == seq) return r;
    }
    ADD_FAILURE() << "no seq " << seq;
    return {};
  }

  static TempDir* template_dir_;
  TempDir dir_;
  FakeClock clock_{1'800'000'000'000};
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<ControlStore> store_;
  std::unique_ptr<RawDb> raw_;
};

TempDir* AuditTamperTest::template_dir_ = nullptr;

TEST_F(AuditTamperTest, IntactLogVerifies) {
  const AuditVerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem << " at " << r.first_bad_seq;
  EXPECT_EQ(r.records, static_cast<uint64_t>(kEntries));
}

TEST_F(AuditTamperTest, DetectsModifiedField) {
  raw_->Exec("UPDATE audit_log SET result = 'ok-forged' WHERE seq = 500;");
  ExpectBad("modified", 500);
}

TEST_F(AuditTamperTest, DetectsModifiedRecordWithRecomputedHashByMac) {
  AuditRecord r = Row(500);
  r.detail = "nothing happened";
  r.hash = internal::ComputeAuditHash(r);  // SHA-256 is public; the MAC key is not
  raw_->Exec("UPDATE audit_log SET detail = '" + r.detail + "', hash = '" + r.hash +
             "' WHERE seq = 500;");
  ExpectBad("bad_mac", 500);
}

TEST_F(AuditTamperTest, DetectsRemovedMiddleRecord) {
  raw_->Exec("DELETE FROM audit_log WHERE seq = 500;");
  ExpectBad("removed", 500);
}

TEST_F(AuditTamperTest, DetectsInsertedForgedRecord) {
  // A forged record slipped in after 499, reusing seq 500 and linking to 499
  // with a correctly computed (unkeyed) hash and a copied MAC.
  AuditRecord f = Row(500);
  f.action = "app.key.show";
  f.hash = internal::ComputeAuditHash(f);
  raw_->Exec(
      "INSERT INTO audit_log (seq, time_ms, actor, action, target, result, request_id, "
      "client_ip_masked, client_ip_hash, detail, prev_hash, hash, mac) SELECT seq, time_ms, "
      "actor, '" +
      f.action + "', target, result, request_id, client_ip_masked, client_ip_hash, detail, " +
      "prev_hash, '" + f.hash + "', mac FROM audit_log WHERE seq = 500;");
  ExpectBad("inserted", 500);
}

TEST_F(AuditTamperTest, DetectsRecordAppendedPastTheCheckpoint) {
  AuditRecord f = Row(kEntries);
  f.prev_hash = f.hash;
  f.seq = kEntries + 1;
  f.hash = internal::ComputeAuditHash(f);
  raw_->Exec(
      "INSERT INTO audit_log (seq, time_ms, actor, action, target, result, request_id, "
      "client_ip_masked, client_ip_hash, detail, prev_hash, hash, mac) SELECT 1001, time_ms, "
      "actor, action, target, result, request_id, client_ip_masked, client_ip_hash, detail, '" +
      f.prev_hash + "', '" + f.hash + "', mac FROM audit_log WHERE seq = 1000;");
  ExpectBad("bad_mac", kEntries + 1);
}

TEST_F(AuditTamperTest, DetectsReorderedRecords) {
  raw_->Exec(
      "UPDATE audit_log SET seq = CASE seq WHEN 300 THEN 700 ELSE 300 END "
      "WHERE seq IN (300, 700);");
  ExpectBad("reordered", 300);
}

TEST_F(AuditTamperTest, DetectsAdjacentSwap) {
  raw_->Exec(
      "UPDATE audit_log SET seq = CASE seq WHEN 300 THEN 301 ELSE 300 END "
      "WHERE seq IN (300, 301);");
  ExpectBad("reordered", 300);
}

TEST_F(AuditTamperTest, DetectsTruncatedTail) {
  raw_->Exec("DELETE FROM audit_log WHERE seq > 990;");
  ExpectBad("truncated", 991);
}

TEST_F(AuditTamperTest, TruncationStaysVisibleAfterTheNextAppend) {
  raw_->Exec("DELETE FROM audit_log WHERE seq > 990;");
  ASSERT_TRUE(store_->audit().Append(Event(1)).ok());
  EXPECT_EQ(Row(kEntries + 1).seq, static_cast<uint64_t>(kEntries + 1));
  ExpectBad("removed", 991);
}

TEST_F(AuditTamperTest, DetectsForgedCheckpoint) {
  raw_->Exec(
      "UPDATE audit_checkpoint SET seq = 990, hash = (SELECT hash FROM audit_log WHERE "
      "seq = 990);");
  raw_->Exec("DELETE FROM audit_log WHERE seq > 990;");
  ExpectBad("checkpoint_bad_mac", 990);
}

TEST_F(AuditTamperTest, DetectsDeletedCheckpoint) {
  raw_->Exec("DELETE FROM audit_checkpoint;");
  ExpectBad("checkpoint_missing", kEntries + 1);
}

TEST_F(AuditTamperTest, DeletedCheckpointRefusesTheNextAppend) {
  raw_->Exec("DELETE FROM audit_log WHERE seq > 990;");
  raw_->Exec("DELETE FROM audit_checkpoint;");
  EXPECT_EQ(store_->audit().Append(Event(1)).code(), "store_invalid");
  ExpectBad("checkpoint_missing", 991);
}

TEST_F(AuditTamperTest, CheckpointRolledBackToGenesisIsDetectedAndRefused) {
  raw_->Exec("UPDATE audit_checkpoint SET seq = 0, hash = '" + std::string(internal::kGenesisHash) +
             "', time_ms = 0, mac = '';");
  ExpectBad("checkpoint_bad_mac", 1);
  const Status appended = store_->audit().Append(Event(1));
  EXPECT_EQ(appended.code(), "store_invalid");
  EXPECT_EQ(raw_->Int("SELECT COUNT(*) FROM audit_log;"), kEntries);
}

TEST_F(AuditTamperTest, AppendsContinueTheChain) {
  ASSERT_TRUE(store_->audit().Append(Event(7)).ok());
  const AuditVerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, static_cast<uint64_t>(kEntries + 1));
}

}  // namespace
}  // namespace aegis::store::testing
