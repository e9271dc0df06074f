#include "ops/metrics.h"

#include <gtest/gtest.h>

namespace aegis::ops {
namespace {

TEST(MetricsTest, RendersHelpTypeAndSeriesInStableOrder) {
  Metrics m;
  m.Describe("zeta_total", "counter", "Last family.");
  m.Describe("alpha", "gauge", "First family.");
  m.Increment("zeta_total", {{"route", "/b"}, {"code", "200"}});
  m.Increment("zeta_total", {{"route", "/a"}, {"code", "200"}}, 2);
  m.Set("alpha", {}, 1.5);
  EXPECT_EQ(m.Render(),
            "# HELP alpha First family.\n"
            "# TYPE alpha gauge\n"
            "alpha 1.5\n"
            "# HELP zeta_total Last family.\n"
            "# TYPE zeta_total counter\n"
            "zeta_total{code=\"200\",route=\"/a\"} 2\n"
            "zeta_total{code=\"200\",route=\"/b\"} 1\n");
}

TEST(MetricsTest, LabelOrderDoesNotMatter) {
  Metrics m;
  m.Increment("x_total", {{"a", "1"}, {"b", "2"}});
  m.Increment("x_total", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(m.Value("x_total", {{"a", "1"}, {"b", "2"}}), 2);
  EXPECT_EQ(m.Value("x_total", {{"b", "2"}, {"a", "1"}}), 2);
  EXPECT_EQ(m.Value("missing"), 0);
  EXPECT_EQ(m.Value("x_total", {{"a", "other"}}), 0);
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics m;
  m.Describe("e", "counter", "back\\slash\nnewline \"quoted\"");
  m.Increment("e", {{"v", "a\\b\"c\nd"}});
  EXPECT_EQ(m.Render(),
            "# HELP e back\\\\slash\\nnewline \"quoted\"\n"
            "# TYPE e counter\n"
            "e{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsTest, UndescribedFamilyIsUntypedAndUnknownTypeFallsBack) {
  Metrics m;
  m.Set("plain", {}, 3);
  m.Describe("weird", "histogram", "not supported here");
  m.Set("weird", {}, -0.25);
  EXPECT_EQ(m.Render(),
            "# TYPE plain untyped\n"
            "plain 3\n"
            "# HELP weird not supported here\n"
            "# TYPE weird untyped\n"
            "weird -0.25\n");
}

TEST(MetricsTest, SetOverwritesAndIncrementAccumulates) {
  Metrics m;
  m.Set("g", {{"k", "v"}}, 5);
  m.Set("g", {{"k", "v"}}, 7);
  m.Increment("c");
  m.Increment("c", {}, 0.5);
  EXPECT_EQ(m.Value("g", {{"k", "v"}}), 7);
  EXPECT_EQ(m.Value("c"), 1.5);
}

}  // namespace
}  // namespace aegis::ops
