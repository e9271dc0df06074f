#!/usr/bin/env bash
# `make bench`: the standard Aegis vs Janus comparison with aegis-bench, and
# docs/PERFORMANCE.md written from the results.
#
# Method: each server is pinned to CPU 0 with taskset and the generator to
# the other CPUs (CPU 1 on 2 vCPUs); each scenario runs A B A B ... (Aegis, Janus) ROUNDS times on a fresh
# server process; the report gives the median of the rounds and the range.
# Aegis runs with one media worker, its per-room / per-address caps raised for
# the load (the generator spreads its signalling over 127.0.1.x source
# addresses); Janus runs through bench/janus_loopback.sh (private config,
# ICE-lite, network namespace with a 127.0.0.2 veth, PERFORMANCE-NOTES §3).
#
# The generator gets every CPU but the server's and runs as one process
# (aegis-bench --procs) per generator CPU, at most 4: each event loop on its
# own core. On a 2-vCPU machine that is one process on CPU 1: two processes
# sharing that core did not lower latency (bench/ANALYSIS.md, --procs 1 vs 2)
# and cost generator CPU.
#
# Environment: BUILD (build dir, default build), ROUNDS (default 3),
# DURATION (seconds per run, default 20), SCENARIOS (default
# "broadcast-1x300 meeting-10x10 audio-only-50"), OUT (results dir, default
# $BUILD/bench-results), REPORT (default docs/PERFORMANCE.md),
# SKIP_JANUS=1 (Aegis only; the report says so), GEN_PROCS (generator
# processes; default: one per generator CPU, at most 4).
# AEGIS_BENCH_SOAK=1 adds a soak of Aegis after the comparison (off by
# default): `--preset soak`, SOAK_DURATION seconds (default 600) at 70 % of
# SOAK_CAPACITY subscribers (default 300), server RSS every 10 s; the report
# gets a "Soak" section.
set -euo pipefail
SRC=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$SRC"
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20}
SCENARIOS=${SCENARIOS:-"broadcast-1x300 meeting-10x10 audio-only-50"}
OUT=${OUT:-$BUILD/bench-results}
REPORT=${REPORT:-docs/PERFORMANCE.md}
SOAK=${AEGIS_BENCH_SOAK:-0}
SOAK_DURATION=${SOAK_DURATION:-600}
SOAK_CAPACITY=${SOAK_CAPACITY:-300}
BIN=$(readlink -f "$BUILD/bin")
BENCH=$BIN/aegis-bench
AEGISD=$BIN/aegisd
[ -x "$BENCH" ] && [ -x "$AEGISD" ] || { echo "bench: build first (make build)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "bench: taskset missing (util-linux)" >&2; exit 1; }
command -v node >/dev/null || { echo "bench: node missing (make deps)" >&2; exit 1; }
NCPU=$(nproc)
SERVER_CPU=0
GEN_CPU=$((NCPU > 1 ? 1 : 0))
[ "$NCPU" -gt 2 ] && GEN_CPU=1-$((NCPU - 1))
GEN_NCPU=$((NCPU > 1 ? NCPU - 1 : 1))
GEN_PROCS=${GEN_PROCS:-$((GEN_NCPU < 4 ? GEN_NCPU : 4))}
JANUS=1
if [ "${SKIP_JANUS:-0}" = 1 ] || [ ! -x /usr/bin/janus ] || [ "$(id -u)" -ne 0 ]; then
  JANUS=0
  echo "bench: Janus leg skipped (SKIP_JANUS=1, /usr/bin/janus missing, or not root for unshare -n)"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/aegis-bench-XXXXXX)
AEGIS_PID=""
cleanup() {
  [ -n "$AEGIS_PID" ] && kill -KILL "$AEGIS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

run_aegis() {  # scenario round [result-name [extra aegis-bench flags...]]
  local scn=$1 round=$2 dir=$WORK/aegis-$1-$2
  local name=${3:-aegis-$scn-$round}
  shift $(($# < 3 ? $# : 3))
  mkdir -p "$dir"
  local port=$((30000 + RANDOM % 5000)) udp=$((40000 + RANDOM % 5000))
  env AEGIS_DEMO_ENABLED=true AEGIS_LOG_LEVEL=warn AEGIS_MEDIA_WORKERS=1 \
    AEGIS_MEDIA_UDP_PORT_BASE=$udp AEGIS_MEDIA_ANNOUNCED_IP=127.0.0.1 \
    AEGIS_SIGNAL_MAX_USERS_PER_ROOM=1000 AEGIS_SIGNAL_MAX_CONNECTIONS_PER_IP=100 \
    AEGIS_SERVER_MAX_CONNECTIONS=4000 \
    taskset -c $SERVER_CPU "$AEGISD" --data-dir "$dir/var" --listen "127.0.0.1:$port" \
    >"$dir/out" 2>"$dir/err" &
  AEGIS_PID=$!
  for _ in $(seq 1 100); do
    grep -q '^aegisd listening on' "$dir/out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^aegisd listening on' "$dir/out" || { echo "bench: aegisd did not start" >&2; tail "$dir/err" >&2; exit 1; }
  sed -n 's/^AppKey: *//p' "$dir/out" >"$dir/key"
  local appid
  appid=$(sed -n 's/^SdkAppId: *//p' "$dir/out")
  taskset -c $GEN_CPU "$BENCH" --preset "$scn" --duration "$DURATION" --quiet --port "$port" \
    --sdkappid "$appid" --key-file "$dir/key" --ca "$dir/var/tls/cert.pem" \
    --procs "$GEN_PROCS" --server-pid "$AEGIS_PID" --json "$OUT/$name.json" "$@" \
    >"$OUT/$name.txt" || echo "bench: aegis $scn round $round: aegis-bench exited $?" >&2
  kill -TERM "$AEGIS_PID"
  wait "$AEGIS_PID" || true
  AEGIS_PID=""
}

run_janus() {  # scenario round
  local scn=$1 round=$2
  JANUS_TASKSET="taskset -c $SERVER_CPU" BENCH_TASKSET="taskset -c $GEN_CPU" \
    bash "$SRC/bench/janus_loopback.sh" run-bench "$WORK/janus-$scn-$round" "$BENCH" \
    --preset "$scn" --duration "$DURATION" --quiet --procs "$GEN_PROCS" \
    --json "$OUT/janus-$scn-$round.json" \
    >"$OUT/janus-$scn-$round.txt" ||
    echo "bench: janus $scn round $round: exited $?" >&2
}

for scn in $SCENARIOS; do
  for round in $(seq 1 "$ROUNDS"); do
    echo "bench: $scn round $round/$ROUNDS: aegis"
    run_aegis "$scn" "$round"
    if [ "$JANUS" = 1 ]; then
      echo "bench: $scn round $round/$ROUNDS: janus"
      run_janus "$scn" "$round"
    fi
  done
done

if [ "$SOAK" = 1 ]; then
  # Not an A/B: the soak result is named so the comparison table skips it.
  echo "bench: soak: aegis, ${SOAK_DURATION}s at 70 % of $SOAK_CAPACITY subscribers"
  DURATION=$SOAK_DURATION run_aegis soak 1 soak-aegis --soak-capacity "$SOAK_CAPACITY"
fi

{
  echo "cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "cpus=$NCPU"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "mem=$(free -g | awk '/Mem:/{print $2}') GiB"
  echo "janus=$(dpkg-query -W -f='${Version}' janus 2>/dev/null || echo none)"
  echo "openssl=$(openssl version | cut -d' ' -f2)"
  echo "aegis_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds=$ROUNDS"
  echo "duration=$DURATION"
  echo "server_cpu=$SERVER_CPU"
  echo "generator_cpu=$GEN_CPU"
  echo "generator_procs=$GEN_PROCS"
  echo "soak=$SOAK"
} >"$OUT/machine.txt"
node "$SRC/bench/performance_report.js" "$OUT" >"$REPORT"
echo "bench: wrote $REPORT (raw results in $OUT)"
