#!/bin/sh
# Runs the web SDK/demo browser tests (node:test + playwright-core + Debian's chromium).
# As root with unshare/ip available, they run in a private network namespace
# holding only loopback and a veth pair (198.18.0.1, benchmark range) for
# WebRTC host candidates (Chromium ignores loopback-only hosts), so the test
# pages' media never reaches any other address. Without it the media tests skip.
set -e
cd "$(dirname "$0")/../.."
if [ "${AEGIS_WEB_TEST_NETNS:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 \
   && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  exec unshare -n -- env AEGIS_WEB_TEST_NETNS=1 sh -ec '
    ip link set lo up
    ip link add aegis0 type veth peer name aegis1
    ip addr add 198.18.0.1/24 dev aegis0
    ip link set aegis0 up
    ip link set aegis1 up
    ip route add default via 198.18.0.2 dev aegis0
    exec node --test web/test/sdk.test.mjs'
fi
exec node --test web/test/sdk.test.mjs
