#include "server_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace aegis::bench {
namespace {

TEST(ServerProbe, ParsesStatWithAwkwardCommandName) {
  // proc(5): pid (comm) state ppid ... utime(14) stime(15) ...; comm may
  // contain spaces and parentheses.
  const std::string stat =
      "1234 (aeg is) (d)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 100 "
      "1000000 500 18446744073709551615";
  auto cpu = ParseProcStatCpuSeconds(stat, 100);
  ASSERT_TRUE(cpu);
  EXPECT_DOUBLE_EQ(*cpu, 4.0);  // (250 + 150) / 100
  EXPECT_FALSE(ParseProcStatCpuSeconds("garbage", 100));
  EXPECT_FALSE(ParseProcStatCpuSeconds("1 (x) S 1 2", 100));
  EXPECT_FALSE(ParseProcStatCpuSeconds(stat, 0));
}

TEST(ServerProbe, ParsesRss) {
  auto rss = ParseProcStatusRssBytes("Name:\taegisd\nVmRSS:\t   2048 kB\nThreads: 3\n");
  ASSERT_TRUE(rss);
  EXPECT_EQ(*rss, 2048u * 1024);
  EXPECT_FALSE(ParseProcStatusRssBytes("Name: x\n"));
}

TEST(ServerProbe, SamplesOurOwnProcess) {
  auto s = SampleProcess(static_cast<int>(getpid()));
  ASSERT_TRUE(s);
  EXPECT_GT(s->rss_bytes, 0u);
  EXPECT_FALSE(SampleProcess(0));
}

}  // namespace
}  // namespace aegis::bench
