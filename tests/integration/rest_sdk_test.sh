#!/usr/bin/env bash
# REST API with the official tencentcloud-sdk-nodejs TRTC client: starts
# aegisd on a fresh data dir (port 0, demo enabled), reads the demo
# credentials printed on first start, runs rest_sdk_test.js against it and
# stops aegisd with SIGTERM. Also checks that aegisd's logs never contain the
# SecretKey after SDK calls with right and wrong keys.
set -euo pipefail
BIN=${AEGIS_BIN_DIR:?set AEGIS_BIN_DIR to the build bin directory}
SRC=${AEGIS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
AEGISD=$BIN/aegisd
[ -x "$AEGISD" ] || { echo "FAIL: $AEGISD not built" >&2; exit 1; }
command -v node >/dev/null || { echo "FAIL: node not installed" >&2; exit 1; }
[ -d "$SRC/node_modules/tencentcloud-sdk-nodejs" ] ||
  { echo "FAIL: $SRC/node_modules/tencentcloud-sdk-nodejs missing (npm ci)" >&2; exit 1; }

DIR=$(mktemp -d /tmp/aegis-rest-sdk-XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$DIR"/err; do [ -f "$f" ] && { echo "--- aegisd stderr (tail)" >&2; tail -n 40 "$f" >&2; }; done
  exit 1
}

AEGIS_DEMO_ENABLED=true "$AEGISD" --data-dir "$DIR/var" --listen 127.0.0.1:0 \
  >"$DIR/out" 2>"$DIR/err" &
PID=$!
for _ in $(seq 1 150); do
  grep -q '^aegisd listening on https://' "$DIR/out" && break
  kill -0 "$PID" 2>/dev/null || fail "aegisd exited during startup"
  sleep 0.1
done
ADDR=$(sed -n 's|^aegisd listening on https://||p' "$DIR/out")
[ -n "$ADDR" ] || fail "no 'aegisd listening on https://HOST:PORT' line"

field() { sed -n "s/^$1: *//p" "$DIR/out"; }
SECRET_ID=$(field SecretId)
SECRET_KEY=$(field SecretKey)
SDKAPPID=$(field SdkAppId)
[[ $SECRET_ID =~ ^AKID[A-Za-z0-9]+$ ]] || fail "SecretId not printed"
[[ $SECRET_KEY =~ ^[A-Za-z0-9]+$ ]] || fail "SecretKey not printed"
[[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "SdkAppId not printed"

rc=0
( cd "$SRC" &&
  AEGIS_ADDR="$ADDR" AEGIS_SECRET_ID="$SECRET_ID" AEGIS_SECRET_KEY="$SECRET_KEY" \
  AEGIS_SDKAPPID="$SDKAPPID" NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_NO_WARNINGS=1 \
  node "$SRC/tests/integration/rest_sdk_test.js" ) || rc=$?

kill -TERM "$PID"
stop_rc=0
wait "$PID" || stop_rc=$?
PID=""
[ "$rc" -eq 0 ] || fail "rest_sdk_test.js failed"
[ "$stop_rc" -eq 0 ] || fail "aegisd exit code after SIGTERM: $stop_rc (want 0)"
if grep -qF "$SECRET_KEY" "$DIR/err"; then fail "aegisd logs contain the SecretKey"; fi
if grep -qF "$SECRET_ID" "$DIR/err"; then fail "aegisd logs contain the unmasked SecretId"; fi
echo "PASS: rest_sdk_test"
