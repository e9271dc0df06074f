#!/usr/bin/env bash
# Runs a command against a private Janus 1.1.x (Debian package `janus`) on
# loopback, following /work/shared/PERFORMANCE-NOTES.md §3: a private config
# dir (nothing under /etc/janus is touched), ICE-lite, and — because Janus
# never gathers candidates on IFF_LOOPBACK devices — a veth holding
# 127.0.0.2 inside a network namespace this script creates (unshare -n, so
# root is needed). Janus listens for its WebSocket API on 127.0.0.1:8188.
#
#   janus_loopback.sh run-bench WORKDIR BENCH [ARGS...]
#       starts Janus (under $JANUS_TASKSET, e.g. "taskset -c 0", when set),
#       runs BENCH --target janus --server-pid <janus pid> ARGS... (under
#       $BENCH_TASKSET when set), stops Janus, exits with BENCH's status.
#   Debugging: JANUS_DEBUG_LEVEL (default 3), JANUS_NICE_DEBUG=true (libnice
#   traces in WORKDIR/janus.out), JANUS_WRAPPER (e.g. "strace -f -o FILE").
#   JANUS_MEDIA_IP (default 127.0.0.3) is the clients' media address.
set -euo pipefail
SELF=$(readlink -f "${BASH_SOURCE[0]}")
cmd=${1:-}
[ "$cmd" = run-bench ] || { echo "usage: $0 run-bench WORKDIR BENCH [ARGS...]" >&2; exit 2; }
shift
WORK=$1
shift
[ -x /usr/bin/janus ] || { echo "janus_loopback: /usr/bin/janus not installed" >&2; exit 2; }
LIB=/usr/lib/x86_64-linux-gnu/janus

if [ "${JANUS_LOOPBACK_NETNS:-}" != inside ]; then
  [ "$(id -u)" -eq 0 ] || { echo "janus_loopback: needs root (unshare -n)" >&2; exit 2; }
  exec unshare -n env JANUS_LOOPBACK_NETNS=inside bash "$SELF" run-bench "$WORK" "$@"
fi

ip link set lo up
ip link add jv0 type veth peer name jv1
ip link set jv1 up
ip link set jv0 up
ip addr add 127.0.0.2/32 dev jv0
# The clients' media sockets use 127.0.0.3 on the same device: libnice pins its
# sockets to the interface (IP_UNICAST_IF), so any other destination is EINVAL.
ip addr add 127.0.0.3/32 dev jv0

mkdir -p "$WORK/conf"
CONF=$WORK/conf
cat >"$CONF/janus.jcfg" <<JCFG
general: {
  configs_folder = "$CONF"
  plugins_folder = "$LIB/plugins"
  transports_folder = "$LIB/transports"
  events_folder = "$LIB/events"
  loggers_folder = "$LIB/loggers"
  debug_level = ${JANUS_DEBUG_LEVEL:-3}
  server_name = "janus-bench"
  interface = "127.0.0.2"
  session_timeout = 60
}
certificates: { }
media: { rtp_port_range = "20000-40000" }
nat: {
  nice_debug = ${JANUS_NICE_DEBUG:-false}
  ice_lite = true
  ice_enforce_list = "127.0.0.2"
  ignore_mdns = true
}
plugins: { disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so" }
transports: { disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_http.so" }
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_sampleevh.so,libjanus_wsevh.so" }
JCFG
cat >"$CONF/janus.transport.websockets.jcfg" <<'JCFG'
general: { json = "compact" ws = true ws_port = 8188 ws_ip = "127.0.0.1" wss = false }
admin: { admin_ws = false admin_wss = false }
cors: { }
certificates: { }
JCFG
echo 'general: { }' >"$CONF/janus.plugin.videoroom.jcfg"

# shellcheck disable=SC2086
${JANUS_TASKSET:-} ${JANUS_WRAPPER:-} /usr/bin/janus -F "$CONF" -C "$CONF/janus.jcfg" -L "$WORK/janus.log" -N \
  >"$WORK/janus.out" 2>&1 &
JP=$!
trap 'kill $JP 2>/dev/null || true; wait $JP 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/8188) 2>/dev/null; then break; fi
  kill -0 $JP 2>/dev/null || { echo "janus_loopback: janus exited" >&2; tail -n 30 "$WORK/janus.out" >&2; exit 1; }
  sleep 0.1
done
# The janus started by taskset is exec'd in place, so $JP is Janus itself.
BENCH=$1
shift
rc=0
# shellcheck disable=SC2086
${BENCH_TASKSET:-} "$BENCH" --target janus --host 127.0.0.1 --janus-port 8188 --media-ip "${JANUS_MEDIA_IP:-127.0.0.3}" --server-pid "$JP" "$@" || rc=$?
exit $rc
