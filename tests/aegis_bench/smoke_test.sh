#!/usr/bin/env bash
# aegis-bench smoke: a few seconds of small load (1 publisher, 3 subscribers,
# audio + 300 kbps video) against a real aegisd started on a fresh data dir —
# in one generator process, in two (--procs 2: the publisher and the
# subscribers in different processes) and with 3 simulcast layers — then
# against Janus when /usr/bin/janus is installed (skipped with a message
# otherwise). Checks only that every packet sent was received (no loss, no
# missing stream, no failed client) and that --json wrote well-formed JSON
# with the documented sections; the real numbers come from `make bench`.
set -euo pipefail
SELF=$(readlink -f "${BASH_SOURCE[0]}")
SRC=${AEGIS_SOURCE_DIR:-$(cd "$(dirname "$SELF")/../.." && pwd)}
export AEGIS_BIN_DIR=${AEGIS_BIN_DIR:-$SRC/build/bin}
BENCH=$AEGIS_BIN_DIR/aegis-bench
[ -x "$BENCH" ] || { echo "FAIL: $BENCH not built" >&2; exit 1; }
command -v node >/dev/null || { echo "FAIL: node not installed (make test-deps)" >&2; exit 1; }
# shellcheck source=tests/integration/lib.sh
source "$SRC/tests/integration/lib.sh"

# check_json FILE: well-formed, every section present, nothing lost.
check_json() {
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const need = ["scenario","target","config","clients","window_s","latency_ms","packets",
                  "rates","join_ms","server","srtp_profiles","jitter_ms_mean"];
    for (const k of need) if (!(k in r)) { console.error("missing section " + k); process.exit(1); }
    for (const k of ["p50","p95","p99"]) if (typeof r.latency_ms[k] !== "number") {
      console.error("latency_ms." + k + " not a number"); process.exit(1); }
    const p = r.packets;
    if (!(p.expected > 0)) { console.error("no packets expected"); process.exit(1); }
    if (p.lost !== 0 || p.missing_streams !== 0 || p.received_unique !== p.expected) {
      console.error("loss: " + JSON.stringify(p)); process.exit(1); }
    if (r.clients.failed !== 0) { console.error("failed clients: " + r.clients.errors); process.exit(1); }
    if (!(r.latency_ms.samples > 0)) { console.error("no latency samples"); process.exit(1); }
  ' "$1"
}

# check_field FILE EXPR: a JavaScript expression over the result r holds.
check_field() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (!eval(process.argv[2])) { console.error("not true: " + process.argv[2]); process.exit(1); }
  ' "$1" "$2"
}

run_bench() {
  "$BENCH" --preset smoke --duration 3 --quiet --fail-if 'lost>0' --fail-if 'missing_streams>0' \
    --fail-if 'failed_clients>0' --fail-if 'received<1' "$@"
}

# ---- Aegis ----
DATA=$AEGIS_TMP/var
aegis_start "$DATA" AEGIS_DEMO_ENABLED=true AEGIS_MEDIA_ANNOUNCED_IP=127.0.0.1
aegis_wait_listening
SDKAPPID=$(aegis_field SdkAppId)
aegis_field AppKey >"$AEGIS_TMP/app.key"
[[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "no SdkAppId in the demo block"
echo "smoke: aegisd on https://$AEGIS_ADDR (pid $AEGIS_PID)"
rc=0
run_bench --port "$AEGIS_PORT" --sdkappid "$SDKAPPID" --key-file "$AEGIS_TMP/app.key" \
  --ca "$DATA/tls/cert.pem" --server-pid "$AEGIS_PID" --json "$AEGIS_TMP/aegis.json" \
  >"$AEGIS_TMP/bench.out" 2>&1 || rc=$?
cat "$AEGIS_TMP/bench.out"
[ "$rc" -eq 0 ] || fail "aegis-bench against aegisd exited $rc"
check_json "$AEGIS_TMP/aegis.json" || fail "aegis-bench JSON check failed (aegis)"
# Two generator processes: latency and loss are merged across them.
run_bench --port "$AEGIS_PORT" --sdkappid "$SDKAPPID" --key-file "$AEGIS_TMP/app.key" \
  --ca "$DATA/tls/cert.pem" --server-pid "$AEGIS_PID" --procs 2 --json "$AEGIS_TMP/procs.json" \
  >"$AEGIS_TMP/procs.out" 2>&1 || { cat "$AEGIS_TMP/procs.out"; fail "aegis-bench --procs 2 failed"; }
check_json "$AEGIS_TMP/procs.json" || fail "aegis-bench JSON check failed (--procs 2)"
check_field "$AEGIS_TMP/procs.json" \
  'r.generator.procs === 2 && r.generator.processes.every(p => p.clients === 2)' ||
  fail "--procs 2 did not split the clients over two processes"
# Simulcast: three layers published; every subscriber gets the one aegisd forwards.
run_bench --port "$AEGIS_PORT" --sdkappid "$SDKAPPID" --key-file "$AEGIS_TMP/app.key" \
  --ca "$DATA/tls/cert.pem" --server-pid "$AEGIS_PID" --simulcast 3 \
  --json "$AEGIS_TMP/simulcast.json" >"$AEGIS_TMP/simulcast.out" 2>&1 ||
  { cat "$AEGIS_TMP/simulcast.out"; fail "aegis-bench --simulcast 3 failed"; }
check_json "$AEGIS_TMP/simulcast.json" || fail "aegis-bench JSON check failed (--simulcast 3)"
check_field "$AEGIS_TMP/simulcast.json" \
  'r.simulcast.layers === 3 && r.simulcast.subscribers_per_final_layer.reduce((a, b) => a + b) === 3' ||
  fail "--simulcast 3: subscribers did not receive a simulcast layer"
aegis_stop
# The application key (used to mint UserSigs) never appears in the generator's output.
for f in "$AEGIS_TMP/bench.out" "$AEGIS_TMP/aegis.json"; do
  if grep -qFf "$AEGIS_TMP/app.key" "$f"; then fail "$f contains the application key"; fi
done
echo "PASS: aegis-bench smoke against aegisd"

# ---- Janus ----
if [ ! -x /usr/bin/janus ]; then
  echo "SKIP: Janus smoke (/usr/bin/janus not installed; apt-get install janus)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then
  echo "SKIP: Janus smoke (needs root and unshare -n for its loopback network namespace)"
  exit 0
fi
bash "$SRC/bench/janus_loopback.sh" run-bench "$AEGIS_TMP/janus" \
  "$BENCH" --preset smoke --duration 3 --quiet --fail-if 'lost>0' --fail-if 'missing_streams>0' \
  --fail-if 'failed_clients>0' --fail-if 'received<1' --json "$AEGIS_TMP/janus.json" ||
  fail "aegis-bench against Janus failed"
check_json "$AEGIS_TMP/janus.json" || fail "aegis-bench JSON check failed (janus)"
bash "$SRC/bench/janus_loopback.sh" run-bench "$AEGIS_TMP/janus-simulcast" \
  "$BENCH" --preset smoke --duration 3 --quiet --fail-if 'lost>0' --fail-if 'missing_streams>0' \
  --fail-if 'failed_clients>0' --fail-if 'received<1' --simulcast 3 \
  --json "$AEGIS_TMP/janus-simulcast.json" || fail "aegis-bench --simulcast 3 against Janus failed"
check_json "$AEGIS_TMP/janus-simulcast.json" || fail "aegis-bench JSON check failed (janus simulcast)"
echo "PASS: aegis-bench smoke against Janus (one layer and 3 simulcast layers)"
