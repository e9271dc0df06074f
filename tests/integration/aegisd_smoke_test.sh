#!/usr/bin/env bash
# aegisd end to end on a fresh data dir: first start with the demo enabled
# prints the credentials block once and the listening line (port 0), probes
# and metrics answer over HTTPS, the TLS policy holds against real clients
# (openssl s_client: 1.1 refused, 1.2 and 1.3 accepted), oversized bodies get
# 413, master.key and the TLS key are 0600 and a group/world readable
# master.key stops startup, SIGTERM exits 0, a restart prints no secrets, and
# the logs (stderr) never contain the printed secrets.
set -euo pipefail
BIN=${AEGIS_BIN_DIR:?set AEGIS_BIN_DIR to the build bin directory}
AEGISD=$BIN/aegisd
[ -x "$AEGISD" ] || { echo "FAIL: $AEGISD not built" >&2; exit 1; }
DIR=$(mktemp -d /tmp/aegisd-smoke-XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$DIR"/out* "$DIR"/err*; do [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done
  exit 1
}

# start <run>: starts aegisd in the background, waits for the listening line,
# sets PID, ADDR (host:port) and PORT.
start() {
  local run=$1
  AEGIS_DEMO_ENABLED=true "$AEGISD" --data-dir "$DIR/var" --listen 127.0.0.1:0 \
    >"$DIR/out$run" 2>"$DIR/err$run" &
  PID=$!
  for _ in $(seq 1 150); do
    grep -q '^aegisd listening on https://' "$DIR/out$run" && break
    kill -0 "$PID" 2>/dev/null || fail "aegisd (run $run) exited during startup"
    sleep 0.1
  done
  ADDR=$(sed -n 's|^aegisd listening on https://||p' "$DIR/out$run")
  [ -n "$ADDR" ] || fail "no 'aegisd listening on https://HOST:PORT' line (run $run)"
  PORT=${ADDR##*:}
}

stop() {
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  PID=""
  [ "$rc" -eq 0 ] || fail "aegisd exit code after SIGTERM: $rc (want 0)"
}

field() { sed -n "s/^$1: *//p" "$DIR/out1"; }
code() { curl -sk -o /dev/null -w '%{http_code}' "$@"; }

# --- first start: demo credentials printed once ----------------------------
start 1
UIN=$(field Uin)
SECRET_ID=$(field SecretId)
SECRET_KEY=$(field SecretKey)
SDKAPPID=$(field SdkAppId)
APP_KEY=$(field AppKey)
URL=$(field "HTTPS address")
USERSIG_CMD=$(field "UserSig command")
[[ $UIN =~ ^[0-9]+$ ]] || fail "Uin missing or not numeric: '$UIN'"
[[ $SECRET_ID =~ ^AKID[A-Za-z0-9]+$ ]] || fail "SecretId missing: '$SECRET_ID'"
[[ $SECRET_KEY =~ ^[A-Za-z0-9]{16,}$ ]] || fail "SecretKey missing: '$SECRET_KEY'"
[[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "SdkAppId missing: '$SDKAPPID'"
[[ $APP_KEY =~ ^[0-9a-f]{64}$ ]] || fail "AppKey missing or not 64 hex chars"
[ "$URL" = "https://$ADDR" ] || fail "HTTPS address '$URL' != listening address https://$ADDR"
[[ $USERSIG_CMD == aegisctl*"usersig gen"*"--sdkappid $SDKAPPID"* ]] || fail "usersig command: '$USERSIG_CMD'"
[ "$PORT" -gt 0 ] || fail "port 0 was not resolved to the bound port"

# The printed aegisctl command works as is (when aegisctl is built).
if [ -x "$BIN/aegisctl" ]; then
  SIG=$(eval "$BIN/${USERSIG_CMD}") || fail "printed usersig command failed: $USERSIG_CMD"
  [ -n "$SIG" ] || fail "printed usersig command produced no UserSig"
fi

# --- probes and metrics --------------------------------------------------------
[ "$(curl -sk "https://$ADDR/healthz")" = '{"status":"ok"}' ] || fail "/healthz body"
[ "$(code "https://$ADDR/healthz")" = 200 ] || fail "/healthz status"
[ "$(code "https://$ADDR/readyz")" = 200 ] || fail "/readyz status"
[ "$(code "https://$ADDR/no-such-path")" = 404 ] || fail "unknown path must be 404"
[ "$(code "https://$ADDR/")" = 405 ] || fail "GET / must be 405"
[ "$(code -X POST "https://$ADDR/healthz")" = 405 ] || fail "POST /healthz must be 405"
HEADERS=$(curl -sk -D - -o /dev/null "https://$ADDR/healthz")
echo "$HEADERS" | grep -qi '^strict-transport-security: max-age=' || fail "HSTS header missing"
echo "$HEADERS" | grep -qi '^x-content-type-options: nosniff' || fail "nosniff header missing"
echo "$HEADERS" | grep -qi '^cache-control: no-store' || fail "Cache-Control: no-store missing"
METRICS_CT=$(curl -sk -o /dev/null -w '%{content_type}' "https://$ADDR/metrics")
[[ $METRICS_CT == "text/plain; version=0.0.4"* ]] || fail "/metrics content type: $METRICS_CT"
METRICS=$(curl -sk "https://$ADDR/metrics")
echo "$METRICS" | grep -q '^aegis_build_info{version="[^"]*"} 1$' || fail "aegis_build_info missing"
echo "$METRICS" | grep -q '^aegis_http_requests_total{code="200",route="/healthz"} [0-9]' \
  || fail "aegis_http_requests_total for /healthz missing"
echo "$METRICS" | grep -q '^# TYPE aegis_http_requests_total counter$' || fail "TYPE line missing"

# Body over server.max_body_bytes (default 1 MiB): 413 with a JSON body.
BIG_STATUS=$(head -c 1200000 /dev/zero | tr '\0' 'a' |
  curl -sk -o "$DIR/big.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
    --data-binary @- "https://$ADDR/")
[ "$BIG_STATUS" = 413 ] || fail "oversized body: got $BIG_STATUS, want 413"
grep -q '"Code"' "$DIR/big.json" || fail "413 body is not the JSON error envelope"

# --- TLS policy against a real client -------------------------------------------
# SECLEVEL=0 lets the client offer TLS 1.1, so a refusal is the server's doing.
if openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
  </dev/null >"$DIR/tls11.txt" 2>&1; then
  fail "TLS 1.1 handshake succeeded"
fi
grep -q 'BEGIN CERTIFICATE\|Server certificate' "$DIR/tls11.txt" && fail "TLS 1.1 client got a certificate"
grep -q 'alert protocol version' "$DIR/tls11.txt" \
  || fail "TLS 1.1 was not refused with a protocol_version alert: $(cat "$DIR/tls11.txt")"
openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -servername localhost </dev/null \
  >"$DIR/tls12.txt" 2>&1 || fail "TLS 1.2 handshake failed: $(cat "$DIR/tls12.txt")"
grep -Eq 'Cipher is ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' "$DIR/tls12.txt" \
  || fail "TLS 1.2 did not negotiate ECDHE+AEAD: $(grep -i cipher "$DIR/tls12.txt")"
openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -servername localhost </dev/null \
  >"$DIR/tls13.txt" 2>&1 || fail "TLS 1.3 handshake failed"
grep -q 'TLSv1.3' "$DIR/tls13.txt" || fail "TLS 1.3 not negotiated"
# A default client gets TLS 1.3 and the generated localhost certificate.
openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null >"$DIR/tlsdef.txt" 2>&1 \
  || fail "default handshake failed"
grep -q 'New, TLSv1.3' "$DIR/tlsdef.txt" || fail "default client did not get TLS 1.3"
grep -q 'CN *= *localhost' "$DIR/tlsdef.txt" || fail "certificate subject is not CN=localhost"

# --- file permissions --------------------------------------------------------------
[ "$(stat -c %a "$DIR/var/master.key")" = 600 ] || fail "master.key must be 0600"
[ "$(stat -c %a "$DIR/var/tls/key.pem")" = 600 ] || fail "tls/key.pem must be 0600"
[ "$(stat -c %a "$DIR/var")" = 700 ] || fail "data dir must be 0700"

# --- graceful stop -------------------------------------------------------------------
stop
for f in "$DIR/err1"; do
  grep -qF "$SECRET_KEY" "$f" && fail "SecretKey found in the logs"
  grep -qF "$APP_KEY" "$f" && fail "application key found in the logs"
done
grep -q '"msg":"listening"' "$DIR/err1" || fail "no 'listening' log line"
grep -q '"msg":"stopped"' "$DIR/err1" || fail "no 'stopped' log line"
grep -qF "$SECRET_KEY" "$DIR/out1" || fail "sanity: SecretKey should have been printed on stdout"

# --- a readable master key refuses startup ---------------------------------------
chmod 644 "$DIR/var/master.key"
set +e
AEGIS_DEMO_ENABLED=true timeout 20 "$AEGISD" --data-dir "$DIR/var" --listen 127.0.0.1:0 \
  >"$DIR/out_perm" 2>"$DIR/err_perm"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "start with a 0644 master.key: exit $rc, want 1"
grep -q 'master key' "$DIR/err_perm" || fail "refusal message does not mention the master key"
grep -q 'listening' "$DIR/out_perm" && fail "aegisd listened despite a readable master key"
chmod 600 "$DIR/var/master.key"

# --- restart: address only, no credentials -----------------------------------------
start 2
grep -q 'SecretKey\|AppKey\|SecretId' "$DIR/out2" && fail "credentials printed again on restart"
grep -qF "$SECRET_KEY" "$DIR/out2" && fail "SecretKey printed again on restart"
[ "$(code "https://$ADDR/healthz")" = 200 ] || fail "/healthz after restart"
[ "$(code "https://$ADDR/readyz")" = 200 ] || fail "/readyz after restart"
stop
for f in "$DIR/err2" "$DIR/err_perm"; do
  grep -qF "$SECRET_KEY" "$f" && fail "SecretKey found in $f"
  grep -qF "$APP_KEY" "$f" && fail "application key found in $f"
done

echo "aegisd smoke test: OK"
