// The multi-process generator (--procs N > 1). This process forks N
// generator processes, each running a Shard (its share of the clients) on
// its own event loop, and only coordinates: the Controller drives them
// through a ProcessFleet over two pipes per child — newline-delimited
// commands down ("begin", "end", "stop_media", "add <rounds>", "interval",
// "finish"), newline-delimited JSON up (a status every 100 ms and after each
// command, interval figures on request, the ShardResult at the end, or an
// error). The children's JSON is untrusted input (parsed defensively).
// Latency needs no clock translation: publishers and subscribers stamp and
// read CLOCK_MONOTONIC, which is one clock for every process on the host.
// No orphans: each child dies with its parent (PR_SET_PDEATHSIG) and on EOF
// of its command pipe; SIGINT/SIGTERM of the parent, or any child failing,
// kills the others and the run fails with that child's message. Children
// never return from RunProcesses (they _exit). One thread.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "runner.h"

namespace aegis::bench {

// Errors: bench_procs (fork/pipe failed, a child failed or stopped
// answering, interrupted by a signal), or a child's own setup error text.
Result<nlohmann::json> RunProcesses(const ScenarioConfig& config);

}  // namespace aegis::bench
