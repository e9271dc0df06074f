// Helpers shared by the browser tests (e2e_test.js, impairment_test.js):
// Chromium's command line and deadline-bounded waiting. Nothing here sleeps
// to assert timing: waits end when their condition holds or at a deadline.
'use strict';

// Tested with Debian Chromium 156 (PERFORMANCE-NOTES §4): fake devices and
// permission prompt, 127.0.0.1 host candidates in a loopback-only netns, raw
// IPs instead of mDNS names in the host namespace.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const POLL_MS = 100;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls `check` until it returns true; any other return value is a short
// description of what is still missing. An exception from `check` (a hard
// invariant broken) ends the wait at once.
async function waitFor(desc, timeoutMs, check, pollMs = POLL_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await check();
    if (r === true) {
      return;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${desc}; last: ${r}`);
    }
    await sleep(pollMs);
  }
}

// Runs `check` (which asserts) repeatedly for `durationMs`.
async function holdFor(durationMs, check, pollMs = 250) {
  const end = Date.now() + durationMs;
  do {
    await check();
    await sleep(pollMs);
  } while (Date.now() < end);
}

// A browser page in a scenario: its name in messages, its user id and the
// newest `maxLogs` console lines (printed when a scenario fails).
class PeerBase {
  constructor(name, userId, maxLogs) {
    this.name = name;
    this.userId = userId;
    this.maxLogs = maxLogs;
    this.logs = [];
    this.context = null;
    this.page = null;
  }

  log(line) {
    this.logs.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (this.logs.length > this.maxLogs) {
      this.logs.splice(0, this.logs.length - this.maxLogs);
    }
  }
}

module.exports = { CHROMIUM_ARGS, sleep, withTimeout, waitFor, holdFor, PeerBase };
