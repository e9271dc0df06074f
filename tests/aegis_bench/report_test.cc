#include "report.h"

#include <gtest/gtest.h>

namespace aegis::bench {
namespace {

using json = nlohmann::json;

json Sample() {
  return json{{"scenario", "smoke"},
              {"target", "aegis"},
              {"clients",
               {{"publishers", 1}, {"subscribers", 3}, {"failed", 0}, {"errors", json::array()}}},
              {"latency_ms", {{"p50", 0.2}, {"p95", 0.4}, {"p99", 3.5}}},
              {"packets", {{"lost", 0}, {"loss_pct", 0.0}, {"sent", 500}, {"received", 1500}}},
              {"server", {{"cpu_seconds", 0.5}, {"rss_bytes_end", 16 * 1048576}}}};
}

TEST(Threshold, Parses) {
  auto t = ParseThreshold("p99_ms>50");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->metric, "p99_ms");
  EXPECT_EQ(t->op, ">");
  EXPECT_EQ(t->value, 50);
  t = ParseThreshold("loss_pct>=0.5");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->op, ">=");
  EXPECT_DOUBLE_EQ(t->value, 0.5);
  t = ParseThreshold("out_pps_per_cpu_s<1000");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->op, "<");
}

TEST(Threshold, AcceptsDashesForUnderscores) {
  auto t = ParseThreshold("rss-growth-mib>8");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->metric, "rss_growth_mib");
  json r = Sample();
  r["server"]["rss_growth_bytes"] = 9 * 1048576;
  auto hit = CheckThresholds(r, {*t});
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  EXPECT_EQ(hit->size(), 1u);
}

TEST(Threshold, RejectsMalformed) {
  for (const char* bad : {"", "p99_ms", ">5", "p99_ms>", "p99_ms>abc", "p99_ms>5x", "p99_ms=5"}) {
    auto t = ParseThreshold(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), "bench_fail_if");
    }
  }
}

TEST(Threshold, ChecksAgainstResult) {
  const json r = Sample();
  auto ok = CheckThresholds(r, {*ParseThreshold("p99_ms>50"), *ParseThreshold("lost>0")});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->empty());
  auto hit = CheckThresholds(r, {*ParseThreshold("p99_ms>3"), *ParseThreshold("received<2000")});
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->size(), 2u);
  auto unknown = CheckThresholds(r, {*ParseThreshold("bogus>1")});
  EXPECT_FALSE(unknown.ok());
}

TEST(FlatFigures, ReadsNestedFieldsAndDefaultsMissingToZero) {
  const auto figures = FlatFigures(Sample());
  auto get = [&](const std::string& name) {
    for (const auto& [k, v] : figures) {
      if (k == name) return v;
    }
    ADD_FAILURE() << "no figure " << name;
    return -1.0;
  };
  EXPECT_EQ(get("subscribers"), 3);
  EXPECT_EQ(get("p99_ms"), 3.5);
  EXPECT_EQ(get("server_rss_mb"), 16);
  EXPECT_EQ(get("out_pps"), 0);  // absent
  const std::string table = FormatTable(Sample());
  EXPECT_NE(table.find("p99_ms"), std::string::npos);
  EXPECT_NE(table.find("scenario smoke"), std::string::npos);
}

}  // namespace
}  // namespace aegis::bench
