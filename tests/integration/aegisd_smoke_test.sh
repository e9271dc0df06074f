#!/usr/bin/env bash
# aegisd end to end on a fresh data dir: first start with the demo enabled
# prints the credentials block once and the listening line (port 0), probes
# and metrics answer over HTTPS, the TLS policy holds against real clients
# (openssl s_client: 1.1 refused, 1.2 and 1.3 accepted), oversized bodies get
# 413, master.key and the TLS key are 0600 and a group/world readable
# master.key stops startup, SIGTERM exits 0, a restart prints no secrets, and
# the logs (stderr, debug level) never contain the printed secrets.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
DIR=$AEGIS_TMP
# Debug logging on: the "no secrets in the logs" checks cover debug lines too.
START_ENV=(AEGIS_DEMO_ENABLED=true AEGIS_LOG_LEVEL=debug)

# start: starts aegisd on $DIR/var and waits until it listens; sets ADDR
# (host:port), PORT, OUT and ERR (this run's stdout and stderr).
start() {
  aegis_start "$DIR/var" "${START_ENV[@]}"
  aegis_wait_listening
  ADDR=$AEGIS_ADDR
  PORT=$AEGIS_PORT
  OUT=$AEGIS_OUT
  ERR=$AEGIS_ERR
}

code() { curl -sk -o /dev/null -w '%{http_code}' "$@"; }

# --- first start: demo credentials printed once ----------------------------
start
OUT1=$OUT
ERR1=$ERR
UIN=$(aegis_field Uin)
SECRET_ID=$(aegis_field SecretId)
SECRET_KEY=$(aegis_field SecretKey)
SDKAPPID=$(aegis_field SdkAppId)
APP_KEY=$(aegis_field AppKey)
URL=$(aegis_field "HTTPS address")
USERSIG_CMD=$(aegis_field "UserSig command")
[[ $UIN =~ ^[0-9]+$ ]] || fail "Uin missing or not numeric: '$UIN'"
[[ $SECRET_ID =~ ^AKID[A-Za-z0-9]+$ ]] || fail "SecretId missing: '$SECRET_ID'"
[[ $SECRET_KEY =~ ^[A-Za-z0-9]{16,}$ ]] || fail "SecretKey missing: '$SECRET_KEY'"
[[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "SdkAppId missing: '$SDKAPPID'"
[[ $APP_KEY =~ ^[0-9a-f]{64}$ ]] || fail "AppKey missing or not 64 hex chars"
[ "$URL" = "https://$ADDR" ] || fail "HTTPS address '$URL' != listening address https://$ADDR"
[[ $USERSIG_CMD == *aegisctl" "*"usersig gen"*"--sdkappid $SDKAPPID"* ]] || fail "usersig command: '$USERSIG_CMD'"
[ "$PORT" -gt 0 ] || fail "port 0 was not resolved to the bound port"

# The printed aegisctl command works as is, pasted in aegisd's working
# directory (when aegisctl is built, aegisd prints a path to it).
if [ -x "$AEGIS_BIN_DIR/aegisctl" ]; then
  [[ $USERSIG_CMD == aegisctl" "* ]] && fail "aegisctl is built but the command has no path to it"
  SIG=$(eval "$USERSIG_CMD") || fail "printed usersig command failed: $USERSIG_CMD"
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
grep -qi '^strict-transport-security: max-age=' <<<"$HEADERS" || fail "HSTS header missing"
grep -qi '^x-content-type-options: nosniff' <<<"$HEADERS" || fail "nosniff header missing"
grep -qi '^cache-control: no-store' <<<"$HEADERS" || fail "Cache-Control: no-store missing"
METRICS_CT=$(curl -sk -o /dev/null -w '%{content_type}' "https://$ADDR/metrics")
[[ $METRICS_CT == "text/plain; version=0.0.4"* ]] || fail "/metrics content type: $METRICS_CT"
METRICS=$(curl -sk "https://$ADDR/metrics")
grep -q '^aegis_build_info{version="[^"]*"} 1$' <<<"$METRICS" || fail "aegis_build_info missing"
grep -q '^aegis_http_requests_total{code="200",route="/healthz"} [0-9]' <<<"$METRICS" \
  || fail "aegis_http_requests_total for /healthz missing"
grep -q '^# TYPE aegis_http_requests_total counter$' <<<"$METRICS" || fail "TYPE line missing"
# Every per-worker media counter (apps/aegisd/media_metrics.h) is described and exported.
# (Here-strings, not `echo | grep -q`: grep -q exits at its first match and, under pipefail,
# the echo still writing the now large page dies of SIGPIPE and fails the check.)
for m in rtp_received_total rtp_sent_total rtcp_received_total dropped_total transports \
         nack_received_total retransmitted_total nack_sent_total rtx_received_total duplicates_total \
         bwe_probes_ok_total bwe_probes_failed_total layer_switches_total producers \
         relay_sent_total relay_received_total relay_dropped_total udp_sent_total \
         udp_send_syscalls_total udp_gso_segments_total udp_send_dropped_total; do
  grep -q "^# TYPE aegis_media_$m " <<<"$METRICS" || fail "TYPE line for aegis_media_$m missing"
  grep -q "^aegis_media_$m{worker=\"0\"} [0-9]" <<<"$METRICS" || fail "aegis_media_$m missing"
done

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
aegis_stop
grep -qF "$SECRET_KEY" "$ERR1" && fail "SecretKey found in the logs"
grep -qF "$APP_KEY" "$ERR1" && fail "application key found in the logs"
grep -q '"msg":"listening"' "$ERR1" || fail "no 'listening' log line"
grep -q '"msg":"stopped"' "$ERR1" || fail "no 'stopped' log line"
grep -q '"level":"debug"' "$ERR1" || fail "sanity: debug lines should have been logged"
grep -qF "$SECRET_KEY" "$OUT1" || fail "sanity: SecretKey should have been printed on stdout"

# --- a readable master key refuses startup ---------------------------------------
chmod 644 "$DIR/var/master.key"
set +e
env "${START_ENV[@]}" timeout 20 "$AEGISD" --data-dir "$DIR/var" --listen 127.0.0.1:0 \
  >"$DIR/out.perm" 2>"$DIR/err.perm"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "start with a 0644 master.key: exit $rc, want 1"
grep -q 'master key' "$DIR/err.perm" || fail "refusal message does not mention the master key"
grep -q 'listening' "$DIR/out.perm" && fail "aegisd listened despite a readable master key"
chmod 600 "$DIR/var/master.key"

# --- restart: address only, no credentials -----------------------------------------
start
grep -q 'SecretKey\|AppKey\|SecretId' "$OUT" && fail "credentials printed again on restart"
grep -qF "$SECRET_KEY" "$OUT" && fail "SecretKey printed again on restart"
[ "$(code "https://$ADDR/healthz")" = 200 ] || fail "/healthz after restart"
[ "$(code "https://$ADDR/readyz")" = 200 ] || fail "/readyz after restart"
aegis_stop
for f in "$ERR" "$DIR/err.perm"; do
  grep -qF "$SECRET_KEY" "$f" && fail "SecretKey found in $f"
  grep -qF "$APP_KEY" "$f" && fail "application key found in $f"
done

echo "aegisd smoke test: OK"
