#include "process_fleet.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>

#include "runner.h"

namespace aegis::bench {
namespace {

// A generator process that cannot start makes the whole run fail with its
// own message, and no process is left behind (all reaped).
TEST(RunProcesses, AChildsSetupErrorFailsTheRunWithItsMessage) {
  ScenarioConfig c;
  c.procs = 2;
  c.subscribers = 2;
  c.progress = false;
  c.ca_file = "/nonexistent/aegis-bench-ca.pem";
  c.sdkappid = 1;
  c.app_key = "unused";
  auto r = RunScenario(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "bench_procs");
  EXPECT_NE(r.status().message().find("generator process"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("cannot load CA"), std::string::npos)
      << r.status().ToString();
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left, not even a zombie
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace aegis::bench
