#!/usr/bin/env bash
# REST API with the official tencentcloud-sdk-nodejs TRTC client: starts
# aegisd on a fresh data dir (port 0, demo enabled, debug logging), reads the
# demo credentials printed on first start, runs rest_sdk_test.js against it
# and stops aegisd with SIGTERM. Also checks that aegisd's logs, debug lines
# included, never contain the SecretKey or the unmasked SecretId after SDK
# calls with right and wrong keys.
set -euo pipefail
SRC=${AEGIS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/integration/lib.sh
source "$SRC/tests/integration/lib.sh"
command -v node >/dev/null || { echo "FAIL: node not installed" >&2; exit 1; }
[ -d "$SRC/node_modules/tencentcloud-sdk-nodejs" ] ||
  { echo "FAIL: $SRC/node_modules/tencentcloud-sdk-nodejs missing (npm ci)" >&2; exit 1; }

DATA=$AEGIS_TMP/var
aegis_start "$DATA" AEGIS_DEMO_ENABLED=true AEGIS_LOG_LEVEL=debug
aegis_wait_listening

SECRET_ID=$(aegis_field SecretId)
SECRET_KEY=$(aegis_field SecretKey)
SDKAPPID=$(aegis_field SdkAppId)
[[ $SECRET_ID =~ ^AKID[A-Za-z0-9]+$ ]] || fail "SecretId not printed"
[[ $SECRET_KEY =~ ^[A-Za-z0-9]+$ ]] || fail "SecretKey not printed"
[[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "SdkAppId not printed"
CERT=$DATA/tls/cert.pem
[ -f "$CERT" ] || fail "no self-signed certificate at $CERT"

# The client verifies the server: the self-signed certificate (SAN
# IP:127.0.0.1, DNS:localhost) is trusted as an extra CA, never
# NODE_TLS_REJECT_UNAUTHORIZED=0.
rc=0
( cd "$SRC" &&
  AEGIS_ADDR="$AEGIS_ADDR" AEGIS_SECRET_ID="$SECRET_ID" AEGIS_SECRET_KEY="$SECRET_KEY" \
  AEGIS_SDKAPPID="$SDKAPPID" NODE_EXTRA_CA_CERTS="$CERT" NODE_NO_WARNINGS=1 \
  node "$SRC/tests/integration/rest_sdk_test.js" ) || rc=$?

aegis_stop
[ "$rc" -eq 0 ] || fail "rest_sdk_test.js failed"
# The secrets check below only means something if debug lines were written.
# (grep -c, not -q: an early exit would SIGPIPE the first grep under pipefail.)
[ "$(grep -F '"level":"debug"' "$AEGIS_ERR" | grep -cF '"component":"api"')" -gt 0 ] ||
  fail "no api debug lines in the log (AEGIS_LOG_LEVEL=debug not honoured?)"
# stdout holds the demo block (the SecretKey, by design); the log is stderr.
if grep -qF "$SECRET_KEY" "$AEGIS_ERR"; then fail "aegisd logs contain the SecretKey"; fi
if grep -qF "$SECRET_ID" "$AEGIS_ERR"; then fail "aegisd logs contain the unmasked SecretId"; fi
echo "PASS: rest_sdk_test"
