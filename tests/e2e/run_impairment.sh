#!/usr/bin/env bash
# Browser tests under real network impairment: headless Chromium pages (demo
# page + browser SDK) talk to a real aegisd across veth links whose client
# side loses packets or is rate-capped. Scenarios are in impairment_test.js:
#   loss  5 % random loss on both client links, both directions, for 15 s:
#         the subscriber keeps decoding, few freezes, NACK and RTX visible in
#         the browsers' stats and on aegisd's /metrics (both directions).
#   cap   a 3-layer simulcast publisher (1280x720, rids l/m/h); the
#         subscriber (auto quality) is capped at 500 kbit/s downlink: it must
#         settle on the low layer, and return to the high one once the cap is
#         lifted.
#
# Topology (named network namespaces, unique per run: aegis-imp-<pid>-*):
#
#   srv: lo 10.77.0.1/32 (aegisd: HTTPS, WSS and media UDP/TCP, announced
#        as 10.77.0.1), vpub 10.77.1.1/24, vsub 10.77.2.1/24
#   pub: eth0 10.77.1.2/24 (veth peer of vpub), default via 10.77.1.1
#   sub: eth0 10.77.2.2/24 (veth peer of vsub), default via 10.77.2.1
#
# The publisher's browser runs in `pub`, the subscriber's in `sub` (two
# Chromium processes, each started through a wrapper that does
# `ip netns exec <ns> chromium`), so each client has a link of its own and an
# impairment of one never touches the other, the host, or any shared
# interface. The test driver (node) and aegisd run in `srv`.
#
# Impairment elements, all on the client side of the veth pairs:
# - Loss: nftables rules in the client namespaces, on the input hook and on
#   the egress of the client's eth0 (netdev family; a drop in the output hook
#   would fail the sender's sendmsg() with EPERM and Chromium would resend,
#   so nothing would be lost):
#   `meta l4proto udp numgen random mod 100 < 5 counter drop`. UDP only, so
#   the signalling WebSocket (TCP) is not hit; the media must therefore run
#   over UDP, which the test checks (selected ICE candidate pair). tc netem
#   is not used because the kernels we run on (CI and dev VMs) lack sch_netem
#   ("Specified qdisc kind is unknown") and every tc classifier; nft's random
#   drop is the loss element.
# - Rate cap: `tc qdisc ... tbf rate 500kbit burst 10kb latency 100ms` on the
#   egress of vsub, i.e. the subscriber's downlink (server -> client); tbf is
#   available where netem is not. Removing the qdisc lifts the cap.
#
# Needs root, `ip netns`, veth, tbf and nft (package nftables; make
# test-deps). When any of them is missing the test FAILS, naming what is
# missing; AEGIS_E2E_IMPAIR=off skips it explicitly (exit 77, which ctest
# reports as skipped). Every exit path removes the namespaces (their veths go
# with them) after killing what runs inside (aegisd, Chromium): all of it was
# started by this script.
#
# Environment: AEGIS_BIN_DIR (aegisd; default $SRC/build/bin),
# AEGIS_SOURCE_DIR (default: two levels up), AEGIS_CHROMIUM (default
# /usr/bin/chromium), AEGIS_E2E_ONLY (comma-separated scenario names),
# AEGIS_E2E_IMPAIR=off (skip).
set -euo pipefail
SELF=$(readlink -f "${BASH_SOURCE[0]}")
SRC=${AEGIS_SOURCE_DIR:-$(cd "$(dirname "$SELF")/../.." && pwd)}
export AEGIS_SOURCE_DIR=$SRC
export AEGIS_BIN_DIR=${AEGIS_BIN_DIR:-$SRC/build/bin}
CHROMIUM=${AEGIS_CHROMIUM:-/usr/bin/chromium}
export AEGIS_CHROMIUM=$CHROMIUM

SRV_IP=10.77.0.1
PUB_GW=10.77.1.1
PUB_IP=10.77.1.2
SUB_GW=10.77.2.1
SUB_IP=10.77.2.2
TBF_ARGS="rate 500kbit burst 10kb latency 100ms"

missing() { echo "FAIL: $*" >&2; exit 1; }

# ---- phase 2: inside the server namespace (aegisd + the node driver) ----
if [ "${AEGIS_IMPAIR_PHASE:-}" = server ]; then
  # shellcheck source=tests/integration/lib.sh
  source "$SRC/tests/integration/lib.sh"
  # A TERM (from phase 1's cleanup or timeout) ends the run through lib.sh's
  # EXIT trap: aegisd killed, scratch directory removed.
  trap 'exit 143' TERM INT
  cd "$SRC"
  # Chromium launchers: the browser of each client runs in its namespace.
  for side in pub sub; do
    ns_var=AEGIS_IMPAIR_NS_${side^^}
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "${!ns_var}" "$CHROMIUM" \
      >"$AEGIS_TMP/chromium-$side"
    chmod +x "$AEGIS_TMP/chromium-$side"
  done
  DATA=$AEGIS_TMP/var
  # A fresh namespace: nothing else binds here, fixed ports are fine.
  AEGIS_LISTEN=$SRV_IP:0 aegis_start "$DATA" AEGIS_DEMO_ENABLED=true \
    AEGIS_WEB_ROOT="$SRC/web/dist" AEGIS_MEDIA_WORKERS=2 AEGIS_MEDIA_UDP_PORT_BASE=40000 \
    AEGIS_MEDIA_LISTEN_IP=$SRV_IP AEGIS_MEDIA_ANNOUNCED_IP=$SRV_IP
  aegis_wait_listening
  echo "impair: aegisd on https://$AEGIS_ADDR, media on $SRV_IP UDP/TCP 40000-40001"
  SDKAPPID=$(aegis_field SdkAppId)
  APP_KEY=$(aegis_field AppKey)
  [[ $SDKAPPID =~ ^[0-9]+$ ]] || fail "SdkAppId not printed in the demo block"
  [[ $APP_KEY =~ ^[0-9a-f]{64}$ ]] || fail "AppKey not printed in the demo block"
  CERT=$DATA/tls/cert.pem
  [ -f "$CERT" ] || fail "no self-signed certificate at $CERT"
  rc=0
  AEGIS_ADDR="$AEGIS_ADDR" AEGIS_SDKAPPID="$SDKAPPID" AEGIS_APP_KEY="$APP_KEY" \
    AEGIS_CERT="$CERT" AEGIS_CHROMIUM_PUB="$AEGIS_TMP/chromium-pub" \
    AEGIS_CHROMIUM_SUB="$AEGIS_TMP/chromium-sub" AEGIS_IMPAIR_DOWNLINK_DEV=vsub \
    AEGIS_IMPAIR_TBF="$TBF_ARGS" NODE_NO_WARNINGS=1 \
    node "$SRC/tests/e2e/impairment_test.js" || rc=$?
  aegis_stop
  [ "$rc" -eq 0 ] || fail "impairment_test.js failed (see the FAIL lines above)"
  echo "PASS: browser_impairment_test"
  exit 0
fi

# ---- phase 1: preconditions, namespaces, then phase 2 inside `srv` ----
if [ "${AEGIS_E2E_IMPAIR:-}" = off ]; then
  echo "SKIP: browser_impairment_test (AEGIS_E2E_IMPAIR=off)"
  exit 77
fi
[ -x "$CHROMIUM" ] || missing "$CHROMIUM not installed (make test-deps installs the Debian 'chromium' package)"
command -v node >/dev/null || missing "node not installed (make test-deps)"
for m in playwright-core tls-sig-api-v2; do
  [ -d "$SRC/node_modules/$m" ] || missing "$SRC/node_modules/$m missing (npm ci, or make test-deps)"
done
[ -f "$SRC/web/dist/sdk/aegis.js" ] ||
  missing "$SRC/web/dist/sdk/aegis.js missing (build the web SDK and demo: npm run build:web, or make build)"
[ -x "$AEGIS_BIN_DIR/aegisd" ] || missing "$AEGIS_BIN_DIR/aegisd not built"
why="(the impairment test needs root, ip netns, veth, tc tbf and nft; AEGIS_E2E_IMPAIR=off skips it)"
[ "$(id -u)" -eq 0 ] || missing "not root $why"
command -v ip >/dev/null || missing "ip (iproute2) not installed $why"
command -v tc >/dev/null || missing "tc (iproute2) not installed $why"
command -v nft >/dev/null || missing "nft not installed: apt-get install nftables, or make test-deps $why"

NS_PREFIX=aegis-imp-$$
NS_SRV=$NS_PREFIX-srv
NS_PUB=$NS_PREFIX-pub
NS_SUB=$NS_PREFIX-sub
# Ends what runs in the namespaces of run $1 (TERM, then KILL after 5 s) and
# deletes them; their veths go with them.
remove_netns() {
  local prefix=$1 ns pids _
  local all=("$prefix-pub" "$prefix-sub" "$prefix-srv")
  pids_in() {
    local n
    for n in "${all[@]}"; do
      [ ! -e "/run/netns/$n" ] || ip netns pids "$n" 2>/dev/null || true
    done
  }
  pids=$(pids_in)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -n "$(pids_in)" ] || break
      sleep 0.1
    done
    pids=$(pids_in)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  fi
  for ns in "${all[@]}"; do
    [ ! -e "/run/netns/$ns" ] || ip netns del "$ns" 2>/dev/null ||
      echo "warning: could not delete netns $ns" >&2
  done
}
# Namespaces of an earlier run that was killed outright (SIGKILL, e.g. a
# ctest timeout) before it could clean up: its pid is gone.
for f in /run/netns/aegis-imp-*-srv; do
  [ -e "$f" ] || continue
  old=${f#/run/netns/aegis-imp-}
  old=${old%-srv}
  if [[ $old =~ ^[0-9]+$ ]] && ! kill -0 "$old" 2>/dev/null; then
    echo "impair: removing the namespaces of an earlier run (pid $old)"
    remove_netns "aegis-imp-$old"
  fi
done
trap 'remove_netns "$NS_PREFIX"' EXIT
trap 'exit 130' INT TERM

for ns in "$NS_SRV" "$NS_PUB" "$NS_SUB"; do
  [ ! -e "/run/netns/$ns" ] || missing "network namespace $ns exists already"
  ip netns add "$ns" || missing "ip netns add $ns failed $why"
  # IPv4 only: a veth with IPv6 on gets its link-local address a second or
  # two after it comes up (duplicate address detection), and Chromium in the
  # namespace takes that address change for a network change and aborts its
  # loads with net::ERR_NETWORK_CHANGED. (Absent when the kernel has no IPv6.)
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
  ip -n "$ns" link set lo up
done
ip link add vpub netns "$NS_SRV" type veth peer name eth0 netns "$NS_PUB" ||
  missing "cannot create a veth pair $why"
ip link add vsub netns "$NS_SRV" type veth peer name eth0 netns "$NS_SUB" ||
  missing "cannot create a veth pair $why"
ip -n "$NS_SRV" addr add "$SRV_IP/32" dev lo
ip -n "$NS_SRV" addr add "$PUB_GW/24" dev vpub
ip -n "$NS_SRV" addr add "$SUB_GW/24" dev vsub
ip -n "$NS_SRV" link set vpub up
ip -n "$NS_SRV" link set vsub up
ip -n "$NS_PUB" addr add "$PUB_IP/24" dev eth0
ip -n "$NS_PUB" link set eth0 up
ip -n "$NS_PUB" route add default via "$PUB_GW"
ip -n "$NS_SUB" addr add "$SUB_IP/24" dev eth0
ip -n "$NS_SUB" link set eth0 up
ip -n "$NS_SUB" route add default via "$SUB_GW"
# The impairment elements must work here before any browser starts.
# shellcheck disable=SC2086
ip netns exec "$NS_SRV" tc qdisc add dev vsub root tbf $TBF_ARGS ||
  missing "tc tbf unavailable $why"
ip netns exec "$NS_SRV" tc qdisc del dev vsub root
ip netns exec "$NS_SUB" nft add table netdev aegis_probe &&
  ip netns exec "$NS_SUB" nft add chain netdev aegis_probe c '{ type filter hook egress device "eth0" priority 0; }' &&
  ip netns exec "$NS_SUB" nft add rule netdev aegis_probe c meta l4proto udp numgen random mod 100 '<' 5 counter drop &&
  ip netns exec "$NS_SUB" nft delete table netdev aegis_probe ||
  missing "nft random-drop rules (netdev egress hook) unavailable $why"
echo "impair: namespaces $NS_SRV ($SRV_IP), $NS_PUB ($PUB_IP), $NS_SUB ($SUB_IP)"

# In the background, so that a signal to this script is handled at once (the
# EXIT trap then ends everything in the namespaces). `timeout` keeps a hung
# run well inside ctest's TIMEOUT, which kills without a chance to clean up.
rc=0
timeout -k 15 360 ip netns exec "$NS_SRV" env AEGIS_IMPAIR_PHASE=server \
  AEGIS_IMPAIR_NS_SRV="$NS_SRV" AEGIS_IMPAIR_NS_PUB="$NS_PUB" AEGIS_IMPAIR_NS_SUB="$NS_SUB" \
  bash "$SELF" &
wait $! || rc=$?
[ "$rc" -ne 124 ] || echo "FAIL: browser_impairment_test did not finish within 360 s" >&2
exit "$rc"
