# shellcheck shell=bash
# Shared helpers for the integration scripts that run aegisd (bash; source it
# after `set -euo pipefail`). Sourcing checks $AEGIS_BIN_DIR/aegisd, creates
# the scratch directory $AEGIS_TMP and installs an EXIT trap that kills a
# still-running aegisd and removes $AEGIS_TMP.
#
#   aegis_start DATA_DIR [VAR=VALUE...]  start aegisd in the background on
#       DATA_DIR, listening on $AEGIS_LISTEN (default 127.0.0.1:0), with the
#       extra environment given; stdout/stderr go to $AEGIS_OUT/$AEGIS_ERR
#       (new files per run); sets AEGIS_PID.
#   aegis_wait_listening  wait for the "aegisd listening on https://" line;
#       sets AEGIS_ADDR (HOST:PORT) and AEGIS_PORT.
#   aegis_field NAME      a field of the demo credentials block in $AEGIS_OUT.
#   aegis_stop            SIGTERM, wait, fail unless aegisd exits 0.
#   fail MESSAGE          print MESSAGE and the tail of every run's output, exit 1.

AEGIS_BIN_DIR=${AEGIS_BIN_DIR:?set AEGIS_BIN_DIR to the build bin directory}
AEGISD=$AEGIS_BIN_DIR/aegisd
[ -x "$AEGISD" ] || { echo "FAIL: $AEGISD not built" >&2; exit 1; }
AEGIS_TMP=$(mktemp -d "/tmp/aegis-$(basename "${0%.sh}")-XXXXXX")
AEGIS_PID=""
AEGIS_RUN=0
AEGIS_OUT=""
AEGIS_ERR=""
# Set by aegis_wait_listening, read by the sourcing scripts.
# shellcheck disable=SC2034
AEGIS_ADDR=""
# shellcheck disable=SC2034
AEGIS_PORT=""

aegis_cleanup() {
  if [ -n "$AEGIS_PID" ] && kill -0 "$AEGIS_PID" 2>/dev/null; then
    kill -KILL "$AEGIS_PID" 2>/dev/null || true
  fi
  rm -rf "$AEGIS_TMP"
}
trap aegis_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$AEGIS_TMP"/out.* "$AEGIS_TMP"/err.*; do
    [ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -n 60 "$f" >&2; }
  done
  exit 1
}

aegis_start() {
  local data_dir=$1
  shift
  AEGIS_RUN=$((AEGIS_RUN + 1))
  AEGIS_OUT=$AEGIS_TMP/out.$AEGIS_RUN
  AEGIS_ERR=$AEGIS_TMP/err.$AEGIS_RUN
  # env execs aegisd in place, so $! is aegisd's own pid.
  # Media ports: one worker on a random base, so parallel ctest runs of
  # several aegisd never collide on UDP/TCP 50000 (the default). The caller's
  # own AEGIS_MEDIA_* settings (later in the env list) win.
  env AEGIS_MEDIA_WORKERS=1 AEGIS_MEDIA_UDP_PORT_BASE=$((20000 + RANDOM % 20000)) "$@" \
    "$AEGISD" --data-dir "$data_dir" --listen "${AEGIS_LISTEN:-127.0.0.1:0}" \
    >"$AEGIS_OUT" 2>"$AEGIS_ERR" &
  AEGIS_PID=$!
}

aegis_wait_listening() {
  local _
  for _ in $(seq 1 150); do
    grep -q '^aegisd listening on https://' "$AEGIS_OUT" && break
    kill -0 "$AEGIS_PID" 2>/dev/null || fail "aegisd (run $AEGIS_RUN) exited during startup"
    sleep 0.1
  done
  AEGIS_ADDR=$(sed -n 's|^aegisd listening on https://||p' "$AEGIS_OUT")
  [ -n "$AEGIS_ADDR" ] || fail "no 'aegisd listening on https://HOST:PORT' line (run $AEGIS_RUN)"
  # shellcheck disable=SC2034
  AEGIS_PORT=${AEGIS_ADDR##*:}
}

aegis_field() { sed -n "s/^$1: *//p" "$AEGIS_OUT"; }

aegis_stop() {
  kill -TERM "$AEGIS_PID"
  local rc=0
  wait "$AEGIS_PID" || rc=$?
  AEGIS_PID=""
  [ "$rc" -eq 0 ] || fail "aegisd exit code after SIGTERM: $rc (want 0)"
}
