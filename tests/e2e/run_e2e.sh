#!/usr/bin/env bash
# End-to-end browser test: real headless Chromium pages (the demo page at
# /demo/ with the browser SDK /sdk/aegis.js) against a real aegisd, plus the
# REST API through tencentcloud-sdk-nodejs. Scenarios are in e2e_test.js.
#
# As root, when `unshare -n` works, the script re-runs itself in a private
# network namespace with only the loopback interface up, so every packet
# (HTTPS, WSS, ICE/DTLS/SRTP) stays on 127.0.0.1 and no port of the host can
# collide (see /work/shared/PERFORMANCE-NOTES.md §4). Otherwise it runs in the
# current namespace. AEGIS_E2E_NETNS=off forces the current namespace.
#
# Steps: start aegisd on a fresh data dir (demo enabled, two media workers,
# web root $AEGIS_SOURCE_DIR/web/dist), read the demo credentials, create a
# second account + application with aegisctl on the same data dir while
# aegisd runs, run e2e_test.js, stop aegisd (must exit 0), then check that
# aegisd's log never contains an application key, the SecretKey or any
# UserSig minted by the test.
#
# Environment: AEGIS_BIN_DIR (aegisd, aegisctl; default $SRC/build/bin),
# AEGIS_SOURCE_DIR (default: two levels up), AEGIS_CHROMIUM (default
# /usr/bin/chromium), AEGIS_E2E_ONLY (comma-separated scenario names, for
# debugging), AEGIS_E2E_NETNS=off.
set -euo pipefail
SELF=$(readlink -f "${BASH_SOURCE[0]}")
SRC=${AEGIS_SOURCE_DIR:-$(cd "$(dirname "$SELF")/../.." && pwd)}
export AEGIS_SOURCE_DIR=$SRC
export AEGIS_BIN_DIR=${AEGIS_BIN_DIR:-$SRC/build/bin}
CHROMIUM=${AEGIS_CHROMIUM:-/usr/bin/chromium}

# ---- preconditions (checked before anything is started) ----
missing() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$CHROMIUM" ] || missing "$CHROMIUM not installed (make test-deps installs the Debian 'chromium' package)"
command -v node >/dev/null || missing "node not installed (make test-deps)"
for m in playwright-core tencentcloud-sdk-nodejs tls-sig-api-v2; do
  [ -d "$SRC/node_modules/$m" ] || missing "$SRC/node_modules/$m missing (npm ci, or make test-deps)"
done
[ -f "$SRC/web/dist/sdk/aegis.js" ] ||
  missing "$SRC/web/dist/sdk/aegis.js missing (build the web SDK and demo: npm run build:web, or make build)"
[ -f "$SRC/web/dist/demo/index.html" ] || echo "warning: $SRC/web/dist/demo/index.html not found" >&2
[ -x "$AEGIS_BIN_DIR/aegisctl" ] || missing "$AEGIS_BIN_DIR/aegisctl not built"

# ---- network namespace ----
if [ "${AEGIS_E2E_NETNS:-}" = inside ]; then
  echo "e2e: network namespace: private (unshare -n, loopback only)"
elif [ "${AEGIS_E2E_NETNS:-}" = off ]; then
  echo "e2e: network namespace: current (AEGIS_E2E_NETNS=off)"
elif [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
  unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
  exec unshare -n env AEGIS_E2E_NETNS=inside bash -c 'ip link set lo up && exec bash "$@"' \
    bash "$SELF" "$@"
else
  echo "e2e: network namespace: current (not root, or unshare -n / ip unavailable);" \
    "Chromium will use the host's interface addresses as ICE host candidates"
fi

# shellcheck source=tests/integration/lib.sh
source "$SRC/tests/integration/lib.sh"
CTL=$AEGIS_BIN_DIR/aegisctl
cd "$SRC"

# Two consecutive free UDP ports (workers 0 and 1). In the private namespace
# nothing else is bound; in the host namespace a random base avoids other
# test runs and a running `make run` (default 50000).
pick_udp_base() {
  local base _
  for _ in $(seq 1 50); do
    base=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if ! command -v ss >/dev/null ||
      [ -z "$(ss -Hlun "( sport = :$base or sport = :$((base + 1)) )" 2>/dev/null)" ]; then
      echo "$base"
      return
    fi
  done
  fail "no free UDP port pair found for the media workers"
}
UDP_BASE=$(pick_udp_base)

DATA=$AEGIS_TMP/var
# Debug logging: the secrets check below then covers debug lines too.
aegis_start "$DATA" AEGIS_DEMO_ENABLED=true AEGIS_LOG_LEVEL=debug \
  AEGIS_WEB_ROOT="$SRC/web/dist" AEGIS_MEDIA_WORKERS=2 AEGIS_MEDIA_UDP_PORT_BASE="$UDP_BASE" \
  AEGIS_MEDIA_ANNOUNCED_IP=127.0.0.1
aegis_wait_listening
echo "e2e: aegisd on https://$AEGIS_ADDR, media UDP ports $UDP_BASE-$((UDP_BASE + 1))"

SECRET_ID=$(aegis_field SecretId)
SECRET_KEY=$(aegis_field SecretKey)
SDKAPPID=$(aegis_field SdkAppId)
APP_KEY=$(aegis_field AppKey)
[[ $SECRET_ID =~ ^AKID[A-Za-z0-9]+$ ]] || fail "SecretId not printed in the demo block"
[[ $SECRET_KEY =~ ^[A-Za-z0-9]+$ ]] || fail "SecretKey not printed in the demo block"
[[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "SdkAppId not printed in the demo block"
[[ $APP_KEY =~ ^[0-9a-f]{64}$ ]] || fail "AppKey not printed in the demo block"
CERT=$DATA/tls/cert.pem
[ -f "$CERT" ] || fail "no self-signed certificate at $CERT"

# Second account and application on the same data dir, while aegisd runs
# (aegisctl is built for that: SQLite WAL, aegisd reads the store per request).
jget() {
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];if(v===undefined)process.exit(3);console.log(v)})' "$1"
}
UIN2=$("$CTL" --data-dir "$DATA" account create --name e2e-other | jget Uin) ||
  fail "aegisctl account create failed while aegisd runs"
APP2=$("$CTL" --data-dir "$DATA" app create --uin "$UIN2" --name e2e-other) ||
  fail "aegisctl app create failed while aegisd runs: $APP2"
SDKAPPID2=$(echo "$APP2" | jget SdkAppId)
APP_KEY2=$(echo "$APP2" | jget Key)
[[ $SDKAPPID2 =~ ^[0-9]+$ && $SDKAPPID2 != "$SDKAPPID" ]] || fail "bad second SdkAppId: $SDKAPPID2"
[[ $APP_KEY2 =~ ^[0-9a-f]{64}$ ]] || fail "bad second application key"
echo "e2e: applications $SDKAPPID (demo) and $SDKAPPID2 (aegisctl)"

# Every UserSig the test mints (valid, expired, forged) is appended here for
# the log check below.
SIGS=$AEGIS_TMP/usersigs.txt
: >"$SIGS"

rc=0
AEGIS_ADDR="$AEGIS_ADDR" AEGIS_SDKAPPID="$SDKAPPID" AEGIS_APP_KEY="$APP_KEY" \
  AEGIS_SDKAPPID2="$SDKAPPID2" AEGIS_APP_KEY2="$APP_KEY2" \
  AEGIS_SECRET_ID="$SECRET_ID" AEGIS_SECRET_KEY="$SECRET_KEY" AEGIS_CERT="$CERT" \
  AEGIS_CHROMIUM="$CHROMIUM" AEGIS_E2E_USERSIG_FILE="$SIGS" \
  NODE_EXTRA_CA_CERTS="$CERT" NODE_NO_WARNINGS=1 \
  node "$SRC/tests/e2e/e2e_test.js" || rc=$?

aegis_stop
[ "$rc" -eq 0 ] || fail "e2e_test.js failed (see the FAIL lines above)"

# ---- secrets never in the log ----
# stdout holds the demo block (SecretKey and the demo AppKey, by design); the
# log is stderr. The second application's key and UserSigs belong in neither.
[ -s "$AEGIS_ERR" ] || fail "aegisd wrote no log lines"
for f in "$AEGIS_TMP"/err.*; do
  if grep -qF "$APP_KEY" "$f"; then fail "aegisd log $f contains the demo application key"; fi
  if grep -qF "$SECRET_KEY" "$f"; then fail "aegisd log $f contains the SecretKey"; fi
done
for f in "$AEGIS_TMP"/err.* "$AEGIS_TMP"/out.*; do
  if grep -qF "$APP_KEY2" "$f"; then fail "aegisd output $f contains the second application key"; fi
  if [ -s "$SIGS" ] && grep -qFf "$SIGS" "$f"; then
    fail "aegisd output $f contains a full UserSig"
  fi
done
[ -s "$SIGS" ] || fail "e2e_test.js recorded no UserSigs (log check would be vacuous)"
echo "PASS: browser_e2e_test"
