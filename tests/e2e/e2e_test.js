// End-to-end browser scenarios against a running aegisd: headless Chromium
// (Debian package, driven by playwright-core) opens the demo page
// /demo/?sdkAppId=…&userId=…&userSig=…&roomId=…&autojoin=1, which joins with
// the browser SDK and publishes a fake camera + microphone; the test reads
// `await window.aegisDemo.stats()` from each page and drives the REST API with
// the official tencentcloud-sdk-nodejs TRTC client.
//
// Scenarios (one PASS/FAIL line each; on failure the stats and console logs
// of the pages involved are printed, secrets redacted):
//   a-media            two pages in one numeric room decode each other's video
//                      (>= 60 frames) and receive audio (> 50 packets)
//   b-isolation        a page of a second application in the same numeric
//                      room sees nobody and is seen by nobody
//   c-bad-usersig      expired UserSig -> usersig_expired; forged UserSig ->
//                      usersig_*; never joined, never any remote user
//   d-remove-user      REST RemoveUser kicks B (removed_by_api within 2 s of
//                      the reply); A sees B leave
//   e-dismiss-room     REST DismissRoom ends the room for every page within
//                      2 s; the other application's room is untouched; the
//                      room is gone from the live registry (RoomNotExist)
//   f-room-history     after both pages of a room leave, DescribeRoomInfo
//                      lists the finished instance, DescribeUserInfo both
//                      finished sessions, and the room is no longer live
//   g-duplicate-login  the same userId joins twice: the older page is kicked
//                      with kicked_duplicate_login, the newer stays
//   h-roles            an audience page is hidden from the anchor (counted
//                      only), cannot publish (role_audience_cannot_publish),
//                      switches to anchor, publishes, and the anchor decodes
//                      its video; the anchor shares its screen and the other
//                      page decodes a remote track with source 'screen'
//   j-e2ee             two pages with the same end-to-end key decode each
//                      other's video; a page with another key receives the
//                      packets but decodes no frame (its transform counts
//                      decrypt failures); a plain observer page taps the
//                      frames exactly as the SFU forwarded them: each is in
//                      the documented encrypted format, decrypts here in
//                      Node with the key to a VP8 frame, and none of the
//                      clear frames' bytes beyond the clear header appear
//   k-simulcast        a page publishes its camera as simulcast; a viewer's
//                      setRemoteVideoQuality('low') drops the decoded width
//                      (640 -> 320) while frames keep coming, 'high' restores it
//
// Run by run_e2e.sh, which provides: AEGIS_ADDR (host:port), AEGIS_SDKAPPID +
// AEGIS_APP_KEY (demo application), AEGIS_SDKAPPID2 + AEGIS_APP_KEY2 (second
// application, another account), AEGIS_SECRET_ID + AEGIS_SECRET_KEY (REST,
// demo account), NODE_EXTRA_CA_CERTS (aegisd's self-signed certificate, so the
// REST client verifies it), AEGIS_CHROMIUM (default /usr/bin/chromium),
// AEGIS_E2E_USERSIG_FILE (every minted UserSig is appended there, for the log
// check), AEGIS_E2E_ONLY (comma-separated scenario names; default all).
// Exits non-zero when any scenario fails. Waits are deadline-bounded polls of
// stats(), never fixed sleeps.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');

const { chromium } = require('playwright-core');
const TLSSigAPIv2 = require('tls-sig-api-v2');
const tencentcloud = require('tencentcloud-sdk-nodejs');

const { CHROMIUM_ARGS, withTimeout, waitFor, holdFor, PeerBase } = require('./lib.js');

const TrtcClient = tencentcloud.trtc.v20190722.Client;

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`missing environment variable ${name}`);
  }
  return v;
}

const ADDR = env('AEGIS_ADDR');
const APP1 = { name: 'app1', sdkAppId: Number(env('AEGIS_SDKAPPID')), key: env('AEGIS_APP_KEY') };
const APP2 = { name: 'app2', sdkAppId: Number(env('AEGIS_SDKAPPID2')), key: env('AEGIS_APP_KEY2') };
const SECRET_ID = env('AEGIS_SECRET_ID');
const SECRET_KEY = env('AEGIS_SECRET_KEY');
const CHROMIUM = process.env.AEGIS_CHROMIUM || '/usr/bin/chromium';
const SIG_FILE = process.env.AEGIS_E2E_USERSIG_FILE || '';
const ONLY = (process.env.AEGIS_E2E_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean);

// Deadlines (ms).
const JOIN_MS = 15000;
const MEDIA_MS = 30000;
const KICK_MS = 2000; // kick / dismissal after the API reply
const ISOLATION_WATCH_MS = 5000;
const SCENARIO_MS = 90000;

// Rooms of this run (fresh data dir; random anyway so that two runs against
// one server would not mix).
const BASE_ROOM = 100000 + crypto.randomInt(800000);
const ROOM_SHARED = BASE_ROOM; // a-e (app1 and app2 both use this number)
const ROOM_HISTORY = BASE_ROOM + 1; // f
const ROOM_DUP = BASE_ROOM + 2; // g
const ROOM_ROLES = BASE_ROOM + 3; // h
const ROOM_E2EE = BASE_ROOM + 40; // j
const ROOM_MSG = BASE_ROOM + 60; // i
const ROOM_SIMULCAST = BASE_ROOM + 70; // k

// ---------------------------------------------------------------------------
// Secrets never printed: keys, SecretKey, every UserSig minted.

const secrets = new Set([APP1.key, APP2.key, SECRET_KEY]);

function redact(text) {
  let s = String(text);
  for (const x of secrets) {
    if (x) {
      s = s.split(x).join('<redacted>');
    }
  }
  return s;
}

// TLS sig v2 ticket from the official generator. `issuedAtMs` back-dates
// TLS.time (the library reads Date.now() synchronously), which makes an
// already-expired ticket without waiting and independent of the server's
// usersig.clock_skew_s (default 300 s).
function mintUserSig(app, userId, { expire = 3600, issuedAtMs, key = app.key } = {}) {
  const api = new TLSSigAPIv2.Api(app.sdkAppId, key);
  const realNow = Date.now;
  if (issuedAtMs !== undefined) {
    Date.now = () => issuedAtMs;
  }
  let sig;
  try {
    sig = api.genUserSig(userId, expire);
  } finally {
    Date.now = realNow;
  }
  secrets.add(sig);
  if (SIG_FILE) {
    fs.appendFileSync(SIG_FILE, `${sig}\n`);
  }
  return sig;
}

// ---------------------------------------------------------------------------
// Small helpers.

const nowS = () => Math.floor(Date.now() / 1000);

function brief(st) {
  if (!st || st.evaluateError) {
    return `stats unavailable (${st && st.evaluateError})`;
  }
  const users = (st.remoteUsers || []).map((u) => `${u.userId}[frames=${u.framesDecoded},` +
    `audio=${u.audioPacketsReceived}${u.videoMuted ? ',videoMuted' : ''}` +
    `${u.audioMuted ? ',audioMuted' : ''}]`);
  return `joined=${st.joined} kickedReason=${st.kickedReason} ` +
    `error=${st.error ? `${st.error.code}` : null} remoteUsers=[${users.join(' ')}]`;
}

function remote(st, userId) {
  return ((st && st.remoteUsers) || []).find((u) => u.userId === userId);
}

// ---------------------------------------------------------------------------
// REST API (the certificate is verified through NODE_EXTRA_CA_CERTS).

function trtc() {
  return new TrtcClient({
    credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: ADDR, reqTimeout: 15 } },
  });
}

async function rest(action, params) {
  try {
    return await trtc()[action](params);
  } catch (e) {
    throw new Error(`REST ${action} ${JSON.stringify(params)} failed: ${e.code || ''} ` +
      `${redact(e.message)}`);
  }
}

async function restExpectError(action, params, code) {
  let res;
  try {
    res = await trtc()[action](params);
  } catch (e) {
    assert.equal(e.code, code, `REST ${action} ${JSON.stringify(params)}: error code ` +
      `(message: ${redact(e.message)})`);
    return;
  }
  assert.fail(`REST ${action} ${JSON.stringify(params)}: expected ${code}, got success ` +
    `${JSON.stringify(res)}`);
}

// ---------------------------------------------------------------------------
// Pages.

let browser;

class Peer extends PeerBase {
  constructor(name, app, userId) {
    super(name, userId, 400);
    this.app = app;
  }

  // Opens the demo page; it joins on load (autojoin=1). `e2eeKey` (hex) turns
  // on the SDK's end-to-end encryption; `initScript` runs before the page's
  // scripts (`bypassCSP` lets it start blob: workers).
  async open({ roomId, strRoomId, userSig, publish = true, role, e2eeKey, initScript, bypassCSP }) {
    this.context = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: Boolean(bypassCSP) });
    if (initScript) {
      await this.context.addInitScript(initScript);
    }
    this.page = await this.context.newPage();
    const page = this.page;
    page.on('console', (m) => this.log(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.log(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => this.log(`requestfailed: ${r.url()} ` +
      `${r.failure() ? r.failure().errorText : ''}`));
    page.on('crash', () => this.log('page crashed'));
    page.on('websocket', (ws) => {
      this.log(`websocket opened: ${ws.url()}`);
      ws.on('close', () => this.log(`websocket closed: ${ws.url()}`));
    });
    const q = new URLSearchParams({
      sdkAppId: String(this.app.sdkAppId),
      userId: this.userId,
      userSig: userSig || mintUserSig(this.app, this.userId),
    });
    if (strRoomId !== undefined) {
      q.set('strRoomId', strRoomId);
    } else {
      q.set('roomId', String(roomId));
    }
    q.set('autojoin', '1');
    if (role) {
      q.set('role', role);
    }
    if (!publish) {
      q.set('publish', '0');
    }
    if (e2eeKey) {
      secrets.add(e2eeKey);
      q.set('e2eeKey', e2eeKey);
    }
    const url = `https://${ADDR}/demo/?${q}`;
    this.log(`goto ${url}`);
    const resp = await page.goto(url, { waitUntil: 'load', timeout: JOIN_MS });
    if (!resp || !resp.ok()) {
      throw new Error(`${this.name}: GET /demo/ answered HTTP ${resp ? resp.status() : 'nothing'}`);
    }
    try {
      await page.waitForFunction(
        () => window.aegisDemo && typeof window.aegisDemo.stats === 'function', null,
        { timeout: JOIN_MS });
    } catch (e) {
      throw new Error(`${this.name}: the demo page never defined window.aegisDemo.stats()`);
    }
    return this;
  }

  get isOpen() {
    return this.page !== null && !this.page.isClosed();
  }

  async stats() {
    if (!this.isOpen) {
      return { evaluateError: 'page closed' };
    }
    try {
      const st = await withTimeout(this.page.evaluate(() => window.aegisDemo.stats()), 5000,
        `${this.name}.stats()`);
      if (!st || typeof st !== 'object') {
        return { evaluateError: `stats() returned ${JSON.stringify(st)}` };
      }
      return { ...st, remoteUsers: st.remoteUsers || [] };
    } catch (e) {
      return { evaluateError: e.message.split('\n')[0] };
    }
  }

  // The demo page's own event log (#log, newest first) and status line.
  async pageLog() {
    if (!this.isOpen) {
      return [];
    }
    try {
      return await withTimeout(this.page.evaluate(() => {
        const items = [...document.querySelectorAll('#log li')].map((li) => li.textContent);
        const status = document.querySelector('#status');
        return [...items.reverse(), ...(status ? [`status: ${status.textContent}`] : [])];
      }), 3000, `${this.name} page log`);
    } catch (e) {
      return [`(page log unavailable: ${e.message.split('\n')[0]})`];
    }
  }

  // Runs a demo page action (window.aegisDemo[name](...args)); resolves to
  // null on success or the error code.
  async demo(name, ...args) {
    return withTimeout(this.page.evaluate(([n, a]) => window.aegisDemo[n](...a), [name, args]),
      JOIN_MS, `${this.name}: aegisDemo.${name}()`);
  }

  async leave() {
    await withTimeout(this.page.evaluate(() => window.aegisDemo.client.leave()), 10000,
      `${this.name}: aegisDemo.client.leave()`);
  }

  async close() {
    if (this.context) {
      const ctx = this.context;
      this.context = null;
      await ctx.close().catch(() => {});
    }
  }
}

async function statsOf(peers) {
  return Promise.all(peers.map((p) => p.stats()));
}

// Waits until every peer has joined; an auth error or kick ends the wait.
async function waitJoined(peers, timeoutMs = JOIN_MS) {
  await waitFor(`${peers.map((p) => p.name).join(', ')} joined`, timeoutMs, async () => {
    const all = await statsOf(peers);
    const pending = [];
    all.forEach((st, i) => {
      const p = peers[i];
      if (st.error) {
        throw new Error(`${p.name} (${p.userId}) failed to join: ${st.error.code}: ` +
          `${redact(st.error.message)}`);
      }
      if (st.kickedReason) {
        throw new Error(`${p.name} (${p.userId}) was kicked (${st.kickedReason}) while joining`);
      }
      if (st.joined !== true) {
        pending.push(`${p.name}: ${brief(st)}`);
      }
    });
    return pending.length === 0 ? true : pending.join('; ');
  });
}

// Waits until `peer` lists (or, with present=false, no longer lists) `userId`.
async function waitSees(peer, userId, timeoutMs, present = true) {
  await waitFor(`${peer.name} ${present ? 'lists' : 'no longer lists'} ${userId}`, timeoutMs,
    async () => {
      const st = await peer.stats();
      return Boolean(remote(st, userId)) === present ? true : `${peer.name}: ${brief(st)}`;
    });
}

// ---------------------------------------------------------------------------
// Scenario runner.

class Scenario {
  constructor(name) {
    this.name = name;
    this.peers = [];
  }

  // Makes `peers` part of this scenario's failure dump.
  involve(...peers) {
    for (const p of peers) {
      if (p && !this.peers.includes(p)) {
        this.peers.push(p);
      }
    }
  }

  async open(name, app, userId, opts) {
    const peer = new Peer(name, app, userId);
    this.involve(peer);
    return peer.open(opts);
  }

  async dump() {
    for (const p of this.peers) {
      const st = await p.stats();
      console.log(`  --- ${p.name} (${p.app.name}, userId ${p.userId}) stats: ` +
        `${redact(JSON.stringify(st))}`);
      const events = await p.pageLog();
      if (events.length > 0) {
        console.log(`  --- ${p.name} demo page events:`);
        for (const l of events.slice(-60)) {
          console.log(`      ${redact(l)}`);
        }
      }
      const lines = p.logs.slice(-120);
      console.log(`  --- ${p.name} browser log (${lines.length} of ${p.logs.length} lines):`);
      for (const l of lines) {
        console.log(`      ${redact(l)}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// j-e2ee helpers: an independent (Node) reading of the SDK's E2EE frame
// format (web/sdk/src/e2ee_frame.ts, docs/SECURITY.md), and a frame tap for a
// plain observer page.

// Media key = HKDF-SHA256(key material, salt "aegis-e2ee-v1", info "aegis e2ee
// media frames"), as long as the material (16 or 32 bytes).
function e2eeMediaKey(keyHex) {
  const ikm = Buffer.from(keyHex, 'hex');
  return Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.from('aegis-e2ee-v1'),
    Buffer.from('aegis e2ee media frames'), ikm.length));
}

// Frame = clear header (N) | ciphertext | tag (16) | IV (12) | key id | N;
// AAD = header | key id | N. Returns { n, keyId, iv, clear } or throws.
function e2eeDecryptFrame(mediaKey, frame) {
  const len = frame.length;
  assert.ok(len >= 14 + 16, `frame of ${len} bytes is shorter than trailer + tag`);
  const n = frame[len - 1];
  const keyId = frame[len - 2];
  assert.ok(n <= 10, `clear header length ${n} > 10`);
  const iv = frame.subarray(len - 14, len - 2);
  const tag = frame.subarray(len - 30, len - 14);
  const ct = frame.subarray(n, len - 30);
  const aad = Buffer.concat([frame.subarray(0, n), Buffer.from([keyId, n])]);
  const alg = mediaKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  const d = crypto.createDecipheriv(alg, mediaKey, iv);
  d.setAAD(aad);
  d.setAuthTag(tag);
  const body = Buffer.concat([d.update(ct), d.final()]);
  return { n, keyId, iv: Buffer.from(iv).toString('hex'),
    clear: Buffer.concat([frame.subarray(0, n), body]) };
}

// Init script of the observer page: every receiver of every peer connection
// gets an RTCRtpScriptTransform (blob worker, hence bypassCSP) that copies the
// first video frames, exactly as received from the SFU, to window.__tapped
// (base64) and passes every frame on unchanged.
function frameTapInitScript() {
  const worker = `self.onrtctransform = (ev) => {
    const t = ev.transformer; let count = 0, bytes = 0;
    t.readable.pipeThrough(new TransformStream({ transform(f, c) {
      if (t.options.kind === 'video' && count < 60 && bytes < 800000) {
        const d = new Uint8Array(f.data).slice(); count++; bytes += d.length;
        self.postMessage({ type: f.type, data: d }, [d.buffer]);
      }
      c.enqueue(f);
    } })).pipeTo(t.writable).catch(() => {});
  };`;
  const url = URL.createObjectURL(new Blob([worker], { type: 'text/javascript' }));
  window.__tapped = [];
  const Orig = window.RTCPeerConnection;
  const Tapped = function (...args) {
    const pc = new Orig(...args);
    pc.addEventListener('track', (ev) => {
      const w = new Worker(url);
      w.onmessage = (m) => {
        let bin = '';
        for (const b of m.data.data) bin += String.fromCharCode(b);
        window.__tapped.push({ type: m.data.type, b64: btoa(bin) });
      };
      ev.receiver.transform = new RTCRtpScriptTransform(w, { kind: ev.track.kind });
    });
    return pc;
  };
  Tapped.prototype = Orig.prototype;
  window.RTCPeerConnection = Tapped;
}

const results = [];

async function scenario(name, fn) {
  if (ONLY.length > 0 && !ONLY.includes(name)) {
    return;
  }
  const s = new Scenario(name);
  const t0 = Date.now();
  try {
    const detail = await withTimeout(fn(s), SCENARIO_MS, `scenario ${name}`);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`PASS ${name} (${secs} s)${detail ? `: ${redact(detail)}` : ''}`);
    results.push({ name, ok: true });
  } catch (e) {
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const why = redact(e && e.message ? e.message : e).replace(/\s*\n+\s*/g, ' | ');
    console.log(`FAIL ${name} (${secs} s): ${why}`);
    await s.dump().catch((err) => console.log(`  (dump failed: ${err.message})`));
    results.push({ name, ok: false });
  }
}

// Pages shared by scenarios a-e: A (alice) and B (bob) of app1 and C (carol)
// of app2, all in numeric room ROOM_SHARED.
const shared = { A: null, B: null, C: null };

// Opens A and B if an earlier scenario did not (AEGIS_E2E_ONLY).
async function ensurePair(s) {
  const opening = [];
  if (!shared.A || !shared.A.isOpen) {
    opening.push(s.open('A', APP1, 'alice', { roomId: ROOM_SHARED }).then((p) => { shared.A = p; }));
  }
  if (!shared.B || !shared.B.isOpen) {
    opening.push(s.open('B', APP1, 'bob', { roomId: ROOM_SHARED }).then((p) => { shared.B = p; }));
  }
  await Promise.all(opening);
  s.involve(shared.A, shared.B);
  await waitJoined([shared.A, shared.B]);
}

async function main() {
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000,
  });
  console.log(`e2e: Chromium ${browser.version()}, aegisd https://${ADDR}, ` +
    `SdkAppIds ${APP1.sdkAppId}/${APP2.sdkAppId}, rooms ${ROOM_SHARED}..${ROOM_DUP}`);

  await scenario('a-media', async (s) => {
    await ensurePair(s);
    const { A, B } = shared;
    let last = '';
    await waitFor('A and B each decode >= 60 video frames and receive > 50 audio packets ' +
      'of the other', MEDIA_MS, async () => {
      const [sa, sb] = await statsOf([A, B]);
      const missing = [];
      const seen = [];
      for (const [me, st, other] of [[A, sa, 'bob'], [B, sb, 'alice']]) {
        if (st.joined !== true) {
          throw new Error(`${me.name} is no longer joined: ${brief(st)}`);
        }
        const r = remote(st, other);
        if (!r) {
          missing.push(`${me.name} does not list ${other}`);
        } else {
          seen.push(`${me.name}<-${other}: ${r.framesDecoded} frames, ` +
            `${r.audioPacketsReceived} audio packets`);
          if (!(r.framesDecoded >= 60) || !(r.audioPacketsReceived > 50)) {
            missing.push(seen[seen.length - 1]);
          }
        }
      }
      last = seen.join('; ');
      return missing.length === 0 ? true : missing.join('; ');
    });
    return last;
  });

  await scenario('b-isolation', async (s) => {
    await ensurePair(s);
    const { A, B } = shared;
    // Same numeric room id, other application (other account).
    shared.C = await s.open('C', APP2, 'carol', { roomId: ROOM_SHARED });
    const { C } = shared;
    await waitJoined([C]);
    await holdFor(ISOLATION_WATCH_MS, async () => {
      const [sa, sb, sc] = await statsOf([A, B, C]);
      assert.equal(sc.joined, true, `C (app2) left the room: ${brief(sc)}`);
      assert.equal(sc.remoteUsers.length, 0,
        `C (app2, room ${ROOM_SHARED}) sees users of app1's room with the same number: ${brief(sc)}`);
      for (const [p, st] of [[A, sa], [B, sb]]) {
        assert.equal(st.joined, true, `${p.name} (app1) left the room: ${brief(st)}`);
        assert.ok(!remote(st, 'carol'), `${p.name} (app1) sees carol of app2: ${brief(st)}`);
      }
    });
    return `app2 page saw nobody for ${ISOLATION_WATCH_MS / 1000} s; app1 pages never saw it`;
  });

  await scenario('c-bad-usersig', async (s) => {
    await ensurePair(s);
    const { A } = shared;
    // Issued two hours ago, valid for 60 s: expired beyond any clock skew.
    const expired = mintUserSig(APP1, 'eve', { expire: 60, issuedAtMs: Date.now() - 7200 * 1000 });
    // Well-formed ticket signed with a random key instead of the app's.
    const forged = mintUserSig(APP1, 'mallory', { key: crypto.randomBytes(32).toString('hex') });
    const [E, F] = await Promise.all([
      s.open('E', APP1, 'eve', { roomId: ROOM_SHARED, userSig: expired }),
      s.open('F', APP1, 'mallory', { roomId: ROOM_SHARED, userSig: forged }),
    ]);
    const invariant = (p, st) => {
      assert.notEqual(st.joined, true, `${p.name} (${p.userId}) joined with a bad UserSig`);
      assert.equal(st.remoteUsers.length, 0, `${p.name} (${p.userId}) sees remote users: ` +
        `${brief(st)}`);
    };
    const notSeen = (st) => {
      assert.ok(!remote(st, 'eve') && !remote(st, 'mallory'),
        `A sees a user who joined with a bad UserSig: ${brief(st)}`);
    };
    await waitFor('E and F report an auth error', JOIN_MS, async () => {
      const [se, sf, sa] = await statsOf([E, F, A]);
      invariant(E, se);
      invariant(F, sf);
      notSeen(sa);
      if (!se.error || !sf.error) {
        return `E: ${brief(se)}; F: ${brief(sf)}`;
      }
      return true;
    });
    const [se, sf] = await statsOf([E, F]);
    assert.equal(se.error.code, 'usersig_expired', `expired UserSig: error code`);
    assert.match(String(sf.error.code), /^usersig_/, `forged UserSig: error code`);
    // The refusal is final: they stay out.
    await holdFor(1500, async () => {
      const [se2, sf2, sa] = await statsOf([E, F, A]);
      invariant(E, se2);
      invariant(F, sf2);
      notSeen(sa);
    });
    await Promise.all([E.close(), F.close()]);
    return `expired -> ${se.error.code}, forged -> ${sf.error.code}`;
  });

  await scenario('d-remove-user', async (s) => {
    await ensurePair(s);
    const { A, B } = shared;
    await waitSees(A, 'bob', JOIN_MS);
    await rest('RemoveUser', { SdkAppId: APP1.sdkAppId, RoomId: ROOM_SHARED, UserIds: ['bob'] });
    const replied = Date.now();
    await waitFor(`B's kickedReason is 'removed_by_api' (within ${KICK_MS} ms of the API reply)`,
      KICK_MS, async () => {
        const st = await B.stats();
        if (st.kickedReason && st.kickedReason !== 'removed_by_api') {
          throw new Error(`B kicked with the wrong reason: ${brief(st)}`);
        }
        return st.kickedReason === 'removed_by_api' ? true : `B: ${brief(st)}`;
      });
    const kickedAfter = Date.now() - replied;
    await waitSees(A, 'bob', 5000, false);
    const sa = await A.stats();
    assert.equal(sa.joined, true, `A must stay in the room: ${brief(sa)}`);
    await B.close(); // kicked; frees its encoder for the next scenarios
    return `B kicked ${kickedAfter} ms after the reply; A saw B leave`;
  });

  await scenario('e-dismiss-room', async (s) => {
    if (!shared.A || !shared.A.isOpen) {
      shared.A = await s.open('A', APP1, 'alice', { roomId: ROOM_SHARED });
    }
    const { A, C } = shared;
    s.involve(A, C);
    // B was removed in d; bob rejoins from a new page (as B2).
    const B2 = await s.open('B2', APP1, 'bob', { roomId: ROOM_SHARED });
    await waitJoined([A, B2]);
    await waitSees(A, 'bob', JOIN_MS);
    await rest('DismissRoom', { SdkAppId: APP1.sdkAppId, RoomId: ROOM_SHARED });
    const replied = Date.now();
    await waitFor(`every page of the room is out (kickedReason 'room_dismissed' or joined ` +
      `false, within ${KICK_MS} ms of the API reply)`, KICK_MS, async () => {
      const all = await statsOf([A, B2]);
      const pending = [];
      all.forEach((st, i) => {
        const p = [A, B2][i];
        if (st.kickedReason && st.kickedReason !== 'room_dismissed') {
          throw new Error(`${p.name} kicked with the wrong reason: ${brief(st)}`);
        }
        if (!(st.kickedReason === 'room_dismissed' || st.joined === false)) {
          pending.push(`${p.name}: ${brief(st)}`);
        }
      });
      return pending.length === 0 ? true : pending.join('; ');
    });
    const outAfter = Date.now() - replied;
    // The room of the same number in the other application is untouched.
    if (C && C.isOpen) {
      const sc = await C.stats();
      assert.equal(sc.joined, true, `C (app2) must not be affected by app1's DismissRoom: ` +
        `${brief(sc)}`);
      assert.equal(sc.kickedReason ?? null, null, `C (app2) kicked: ${brief(sc)}`);
    }
    // Gone from the live registry.
    await restExpectError('DismissRoom', { SdkAppId: APP1.sdkAppId, RoomId: ROOM_SHARED },
      'FailedOperation.RoomNotExist');
    await Promise.all([A.close(), B2.close(), shared.B && shared.B.close(), C && C.close()]);
    return `all pages out ${outAfter} ms after the reply; app2's room untouched`;
  });

  await scenario('f-room-history', async (s) => {
    const start = nowS() - 5;
    const [G, H] = await Promise.all([
      s.open('G', APP1, 'gina', { roomId: ROOM_HISTORY }),
      s.open('H', APP1, 'hank', { roomId: ROOM_HISTORY }),
    ]);
    await waitJoined([G, H]);
    await Promise.all([waitSees(G, 'hank', JOIN_MS), waitSees(H, 'gina', JOIN_MS)]);
    await Promise.all([G.leave(), H.leave()]);
    await waitFor('G and H report joined false after leave()', 5000, async () => {
      const [sg, sh] = await statsOf([G, H]);
      return sg.joined === false && sh.joined === false ? true : `G: ${brief(sg)}; H: ${brief(sh)}`;
    });
    // The finished room instance in the history (written when the last user left).
    let room;
    await waitFor(`DescribeRoomInfo lists room ${ROOM_HISTORY} as finished`, 5000, async () => {
      const res = await rest('DescribeRoomInfo', {
        SdkAppId: APP1.sdkAppId, StartTime: start, EndTime: nowS(), RoomId: String(ROOM_HISTORY),
      });
      room = (res.RoomList || []).find((r) => r.RoomString === String(ROOM_HISTORY));
      if (!room) {
        return `RoomList: ${JSON.stringify(res.RoomList)}`;
      }
      return room.IsFinished === true && room.DestroyTime > 0 ? true : JSON.stringify(room);
    });
    assert.ok(room.CreateTime >= start && room.CreateTime <= room.DestroyTime,
      `CreateTime/DestroyTime inconsistent: ${JSON.stringify(room)}`);
    assert.ok(room.DestroyTime <= nowS() + 1, `DestroyTime in the future: ${JSON.stringify(room)}`);
    assert.ok(['gina', 'hank'].includes(room.UserId), `room creator: ${JSON.stringify(room)}`);
    // Both sessions, finished.
    const users = await rest('DescribeUserInfo', {
      SdkAppId: APP1.sdkAppId, CommId: room.CommId, StartTime: start, EndTime: nowS(),
    });
    const byUser = Object.fromEntries((users.UserList || []).map((u) => [u.UserId, u]));
    for (const id of ['gina', 'hank']) {
      assert.ok(byUser[id], `DescribeUserInfo lacks ${id}: ${JSON.stringify(users.UserList)}`);
      assert.equal(byUser[id].Finished, true, `session of ${id} not finished: ` +
        `${JSON.stringify(byUser[id])}`);
      assert.ok(byUser[id].LeaveTs >= byUser[id].JoinTs, `LeaveTs < JoinTs: ` +
        `${JSON.stringify(byUser[id])}`);
    }
    // No longer live.
    await restExpectError('RemoveUser',
      { SdkAppId: APP1.sdkAppId, RoomId: ROOM_HISTORY, UserIds: ['gina'] },
      'FailedOperation.RoomNotExist');
    await restExpectError('DismissRoom', { SdkAppId: APP1.sdkAppId, RoomId: ROOM_HISTORY },
      'FailedOperation.RoomNotExist');
    await Promise.all([G.close(), H.close()]);
    return `CommId ${room.CommId}, ${room.CreateTime}..${room.DestroyTime}, ` +
      `${users.Total} finished sessions`;
  });

  await scenario('g-duplicate-login', async (s) => {
    const I1 = await s.open('I1', APP1, 'ivan', { roomId: ROOM_DUP, publish: false });
    await waitJoined([I1]);
    const I2 = await s.open('I2', APP1, 'ivan', { roomId: ROOM_DUP, publish: false });
    await waitFor(`the older page's kickedReason is 'kicked_duplicate_login' and the newer ` +
      `page is joined`, JOIN_MS, async () => {
      const [s1, s2] = await statsOf([I1, I2]);
      if (s2.error) {
        throw new Error(`I2 failed to join: ${s2.error.code}: ${redact(s2.error.message)}`);
      }
      if (s1.kickedReason && s1.kickedReason !== 'kicked_duplicate_login') {
        throw new Error(`I1 kicked with the wrong reason: ${brief(s1)}`);
      }
      if (s2.kickedReason) {
        throw new Error(`the newer page I2 was kicked: ${brief(s2)}`);
      }
      return s1.kickedReason === 'kicked_duplicate_login' && s2.joined === true ? true :
        `I1: ${brief(s1)}; I2: ${brief(s2)}`;
    });
    await holdFor(1000, async () => {
      const [s1, s2] = await statsOf([I1, I2]);
      assert.notEqual(s1.joined, true, `I1 rejoined: ${brief(s1)}`);
      assert.equal(s2.joined, true, `I2 must stay joined: ${brief(s2)}`);
    });
    await Promise.all([I1.close(), I2.close()]);
    return 'older session kicked, newer kept';
  });

  await scenario('h-roles', async (s) => {
    // J (jill) publishes as anchor; K (kurt) joins as audience.
    const [J, K] = await Promise.all([
      s.open('J', APP1, 'jill', { roomId: ROOM_ROLES }),
      s.open('K', APP1, 'kurt', { roomId: ROOM_ROLES, role: 'audience', publish: false }),
    ]);
    await waitJoined([J, K]);
    // room.show_audience is off by default: J counts K but does not list it.
    await waitFor('J counts one audience member and K lists J', JOIN_MS, async () => {
      const [sj, sk] = await statsOf([J, K]);
      assert.ok(!remote(sj, 'kurt'), `J lists the audience member kurt: ${brief(sj)}`);
      return sj.audienceCount === 1 && remote(sk, 'jill') ? true :
        `J: audienceCount=${sj.audienceCount}; K: ${brief(sk)}`;
    });
    const refused = await K.demo('publishCamera');
    assert.equal(refused, 'role_audience_cannot_publish', 'audience publish: error code');
    assert.equal(await K.demo('switchRole', 'anchor'), null, 'switchRole(anchor)');
    assert.equal(await K.demo('publishCamera'), null, 'publish after switchRole(anchor)');
    let camera = '';
    await waitFor('J lists kurt (anchor now), counts no audience and decodes >= 30 frames of ' +
      'its camera', MEDIA_MS, async () => {
      const sj = await J.stats();
      const r = remote(sj, 'kurt');
      camera = r ? `${r.framesDecoded} frames` : 'not listed';
      return r && r.role === 'anchor' && r.framesDecoded >= 30 && sj.audienceCount === 0 ? true :
        `J: audienceCount=${sj.audienceCount} ${brief(sj)}`;
    });
    // Screen share: the SDK captures the screen (Chromium's fake capture) and
    // publishes it as a second video track next to the camera.
    assert.equal(await J.demo('shareScreen'), null, 'publishScreen()');
    let screen = '';
    await waitFor('K receives jill\'s screen as a separate track (source screen) and decodes ' +
      '>= 30 frames of it', MEDIA_MS, async () => {
      const sk = await K.stats();
      const r = remote(sk, 'jill');
      const track = r && r.tracks.find((t) => t.source === 'screen');
      screen = r ? `${r.screenFramesDecoded} screen frames, ${r.framesDecoded} camera frames` : '';
      return track && track.kind === 'video' && track.received && r.screenFramesDecoded >= 30 &&
        r.framesDecoded > 0 ? true : `K: ${screen || brief(sk)}`;
    });
    await Promise.all([J.close(), K.close()]);
    return `audience publish -> ${refused}; after switchRole: J<-kurt ${camera}; ` +
      `K<-jill ${screen}`;
  });

  await scenario('i-messages', async (s) => {
    // P (pia) publishes the fake camera + microphone; Q (quinn, audience) and
    // R (rita) publish nothing: their data channels ride data-only publish
    // connections opened by on('message').
    const [P, Q, R] = await Promise.all([
      s.open('P', APP1, 'pia', { roomId: ROOM_MSG }),
      s.open('Q', APP1, 'quinn', { roomId: ROOM_MSG, role: 'audience', publish: false }),
      s.open('R', APP1, 'rita', { roomId: ROOM_MSG, publish: false }),
    ]);
    await waitJoined([P, Q, R]);
    const record = () => {
      const c = window.aegisDemo.client;
      window.__msgs = [];
      window.__volumes = [];
      c.on('message', ({ userId, data }) => window.__msgs.push(
        { userId, data: typeof data === 'string' ? data : `bin:${data.byteLength}` }));
      c.on('volume', ({ volumes }) => window.__volumes.push(volumes));
    };
    await Promise.all([P, Q, R].map((p) => p.page.evaluate(record)));
    // A message reaches the users whose channel is open at the server: an
    // accepted (acknowledged) first message shows each page's is.
    const ready = await Promise.all([P, Q, R].map((p) => p.page.evaluate(
      () => window.aegisDemo.client.sendMessage('ready').then(() => null, (e) => e.code))));
    assert.deepEqual(ready, [null, null, null], 'first message of each page');
    const msgs = (p) => p.page.evaluate(() => window.__msgs.filter((x) => x.data !== 'ready'));
    // 50 messages from the audience member to everyone, paced under the rate cap.
    const sent = await Q.page.evaluate(async () => {
      const c = window.aegisDemo.client;
      for (let i = 0; i < 50; i++) {
        await c.sendMessage(`m${i}`);
        await new Promise((r) => setTimeout(r, 40));
      }
      return 50;
    });
    const expected = Array.from({ length: sent }, (_, i) => `m${i}`);
    await waitFor('P and R receive quinn\'s 50 messages in order', JOIN_MS, async () => {
      const [mp, mr] = await Promise.all([msgs(P), msgs(R)]);
      const got = (m) => m.filter((x) => x.userId === 'quinn').map((x) => x.data);
      assert.deepEqual(got(mp), expected.slice(0, got(mp).length), 'P: order');
      assert.deepEqual(got(mr), expected.slice(0, got(mr).length), 'R: order');
      return got(mp).length === 50 && got(mr).length === 50 ? true :
        `P has ${got(mp).length}, R has ${got(mr).length}`;
    });
    // One to one: only rita gets it.
    assert.equal(await P.page.evaluate(() => window.aegisDemo.client.sendMessage(
      new Uint8Array([1, 2, 3]), { to: ['rita'] }).then(() => null, (e) => e.code)), null);
    await waitFor('R receives pia\'s direct message', JOIN_MS, async () => {
      const mr = await msgs(R);
      return mr.some((x) => x.userId === 'pia' && x.data === 'bin:3') ? true : 'not yet';
    });
    await holdFor(300, async () => {
      const mq = await msgs(Q);
      assert.ok(!mq.some((x) => x.userId === 'pia'), 'Q got a message addressed to rita');
    });
    // 17 KiB: refused by the server with its code.
    const big = await R.page.evaluate(() => window.aegisDemo.client.sendMessage(
      'x'.repeat(17 * 1024)).then(() => null, (e) => e.code));
    assert.equal(big, 'message_too_large', '17 KiB message');
    // 60 messages at once: beyond the 30/s cap some are refused.
    const codes = await R.page.evaluate(async () => {
      const c = window.aegisDemo.client;
      const all = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => c.sendMessage(`burst${i}`)));
      return all.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.code));
    });
    const limited = codes.filter((c) => c === 'message_rate_limited').length;
    const ok = codes.filter((c) => c === 'ok').length;
    assert.ok(limited > 0 && ok > 0 && limited + ok === 60, `burst results: ${codes.join(',')}`);
    // Audio levels: pia's fake microphone yields volume events at Q.
    await waitFor('Q gets volume events naming pia', JOIN_MS, async () => {
      const v = await Q.page.evaluate(() => window.__volumes);
      return v.some((list) => list.some((e) => e.userId === 'pia' && e.volume > 0)) ? true :
        `${v.length} volume events`;
    });
    await Promise.all([P.close(), Q.close(), R.close()]);
    return `50 in order to 2 pages, 1 direct, 17 KiB -> ${big}, burst of 60 -> ${ok} ok / ` +
      `${limited} rate-limited, volume events seen`;
  });

  await scenario('j-e2ee', async (s) => {
    const KEY = crypto.randomBytes(32).toString('hex');
    const WRONG = crypto.randomBytes(32).toString('hex');
    // L runs the createEncodedStreams fallback (RTCRtpScriptTransform hidden
    // from the page), M RTCRtpScriptTransform: both paths, interoperating.
    const [L, M, W, O] = await Promise.all([
      s.open('L', APP1, 'lena', { roomId: ROOM_E2EE, e2eeKey: KEY,
        initScript: () => { delete window.RTCRtpScriptTransform; } }),
      s.open('M', APP1, 'mike', { roomId: ROOM_E2EE, e2eeKey: KEY }),
      s.open('W', APP1, 'wade', { roomId: ROOM_E2EE, e2eeKey: WRONG, publish: false }),
      s.open('O', APP1, 'olga', { roomId: ROOM_E2EE, publish: false,
        initScript: frameTapInitScript, bypassCSP: true }),
    ]);
    await waitJoined([L, M, W, O]);
    await waitFor('L and M decode >= 30 frames of each other\'s video, W receives > 100 video ' +
      'packets of lena and counts decrypt failures, O tapped >= 20 frames', MEDIA_MS, async () => {
      const [sl, sm, sw] = await statsOf([L, M, W]);
      const tapped = await O.page.evaluate(() => window.__tapped.length);
      const lm = remote(sl, 'mike');
      const ml = remote(sm, 'lena');
      const wl = remote(sw, 'lena');
      const ok = lm && ml && wl && lm.framesDecoded >= 30 && ml.framesDecoded >= 30 &&
        wl.videoPacketsReceived > 100 && sw.e2ee && sw.e2ee.decryptFailures > 0 && tapped >= 20;
      return ok ? true : `L: ${brief(sl)}; M: ${brief(sm)}; W: ${brief(sw)} ` +
        `video packets ${wl && wl.videoPacketsReceived} e2ee ${JSON.stringify(sw.e2ee)}; ` +
        `O tapped ${tapped}`;
    });
    const [sl, sm, sw] = await statsOf([L, M, W]);
    for (const [name, st] of [['L', sl], ['M', sm]]) {
      assert.ok(st.e2ee && st.e2ee.framesEncrypted > 0 && st.e2ee.framesDecrypted > 0,
        `${name} e2ee counters: ${JSON.stringify(st.e2ee)}`);
      assert.equal(st.e2ee.decryptFailures + st.e2ee.unknownKeyFrames, 0,
        `${name}: frames of the same key failed: ${JSON.stringify(st.e2ee)}`);
    }
    assert.equal(sl.e2ee.mode, 'encoded-streams', 'L: E2EE mode');
    assert.equal(sm.e2ee.mode, 'script-transform', 'M: E2EE mode');
    // The wrong key: packets arrive, no frame is decoded, nothing authenticates.
    for (const u of ['lena', 'mike']) {
      const r = remote(sw, u);
      assert.ok(r && r.videoPacketsReceived > 0, `W receives no video of ${u}: ${brief(sw)}`);
      assert.equal(r.framesDecoded, 0, `W (wrong key) decoded frames of ${u}: ${brief(sw)}`);
    }
    assert.equal(sw.e2ee.framesDecrypted, 0, `W decrypted frames: ${JSON.stringify(sw.e2ee)}`);

    // The frames as the SFU forwarded them (tapped by the plain observer).
    const tapped = (await O.page.evaluate(() => window.__tapped))
      .map((f) => ({ type: f.type, data: Buffer.from(f.b64, 'base64') }));
    const mediaKey = e2eeMediaKey(KEY);
    const wrongKey = e2eeMediaKey(WRONG);
    const ivs = new Set();
    let keyframes = 0;
    let bytes = 0;
    for (const [i, f] of tapped.entries()) {
      if (f.data.length === 0) {
        continue;
      }
      const what = `tapped frame ${i} (${f.type}, ${f.data.length} bytes)`;
      let dec;
      try {
        dec = e2eeDecryptFrame(mediaKey, f.data);
      } catch (e) {
        throw new Error(`${what} does not decrypt with the room key: ${e.message}`);
      }
      assert.throws(() => e2eeDecryptFrame(wrongKey, f.data), `${what} decrypts with another key`);
      assert.equal(dec.keyId, 0, `${what}: key id`);
      assert.ok(!ivs.has(dec.iv), `${what}: IV ${dec.iv} used twice`);
      ivs.add(dec.iv);
      const clear = dec.clear;
      const isKey = (clear[0] & 1) === 0;
      // The clear header is what VP8 needs it to be: 10 bytes for a keyframe
      // (frame tag, start code, size), 3 for a delta frame.
      assert.equal(dec.n, isKey ? 10 : 3, `${what}: clear header length`);
      if (isKey) {
        keyframes++;
        assert.deepEqual([...clear.subarray(3, 6)], [0x9d, 0x01, 0x2a],
          `${what}: the decrypted keyframe has no VP8 start code`);
      }
      // The forwarded bytes beyond the clear header are not the clear frame's:
      // no 8-byte run of the clear payload appears anywhere in the forwarded frame.
      const body = clear.subarray(dec.n);
      for (let off = 0; off + 8 <= body.length; off += 8) {
        assert.equal(f.data.indexOf(body.subarray(off, off + 8), dec.n), -1,
          `${what}: clear payload bytes ${dec.n + off}..${dec.n + off + 8} appear in the ` +
          'forwarded frame');
      }
      bytes += f.data.length;
    }
    assert.ok(ivs.size >= 20, `only ${ivs.size} non-empty frames tapped`);
    assert.ok(keyframes >= 1, 'no keyframe among the tapped frames');
    // Room messages are end-to-end encrypted too: M reads lena's text, the
    // plain observer O gets only ciphertext, W (wrong key) gets a decrypt error.
    const SECRET = 'e2ee-secret-message-4242';
    const recordMessages = () => {
      window.__msgs = [];
      window.__errors = [];
      const c = window.aegisDemo.client;
      c.on('message', ({ userId, data }) => window.__msgs.push({ userId,
        text: typeof data === 'string' ? data : new TextDecoder().decode(data) }));
      c.on('error', ({ code }) => window.__errors.push(code));
      return c.sendMessage('ready').then(() => null, (e) => e.code);
    };
    assert.deepEqual(await Promise.all([L, M, W, O].map((p) => p.page.evaluate(recordMessages))),
      [null, null, null, null], 'first message of each page');
    await L.page.evaluate((t) => window.aegisDemo.client.sendMessage(t), SECRET);
    await waitFor('M decrypts lena\'s message, O and W receive it', JOIN_MS, async () => {
      const [mm, om, we] = await Promise.all([
        M.page.evaluate(() => window.__msgs.filter((x) => x.userId === 'lena')),
        O.page.evaluate(() => window.__msgs.filter((x) => x.userId === 'lena')),
        W.page.evaluate(() => window.__errors)]);
      // (O may have missed lena's 'ready', sent before O's channel was open.)
      return mm.some((x) => x.text === SECRET) && om.length >= 1 &&
        we.includes('e2ee_decrypt_failed') ? true :
        `M ${JSON.stringify(mm)}, O ${om.length}, W errors ${JSON.stringify(we)}`;
    });
    const observed = await O.page.evaluate(() => window.__msgs.filter((x) => x.userId === 'lena'));
    assert.ok(observed.every((x) => !x.text.includes(SECRET) && !x.text.includes('ready')),
      'the plain observer read a clear message');
    const [so] = await statsOf([O]);
    const ol = remote(so, 'lena');
    await Promise.all([L.close(), M.close(), W.close(), O.close()]);
    return `L (encoded-streams) <-mike ${remote(sl, 'mike').framesDecoded} frames, ` +
      `M (script-transform) <-lena ` +
      `${remote(sm, 'lena').framesDecoded}; W (wrong key): ${remote(sw, 'lena').videoPacketsReceived} ` +
      `video packets, 0 frames, ${sw.e2ee.decryptFailures} decrypt failures; ` +
      `O tapped ${ivs.size} frames (${keyframes} keyframes, ${bytes} bytes): all in the E2EE ` +
      `format, none leaks clear payload; plain O decoded ${ol ? ol.framesDecoded : '?'} frames; ` +
      'room messages: M decrypted, O saw only ciphertext, W failed to decrypt';
  });

  // k-simulcast: P publishes its 640x480 camera as simulcast (SDK default:
  // 320x240 low layer, full high layer); S asks for 'low' and the decoded
  // width drops while frames keep coming, then 'high' brings it back. The high
  // layer only flows once P's send-side estimate (fed by the worker's
  // transport-cc feedback) allows it, so the first wait is the longest.
  await scenario('k-simulcast', async (s) => {
    const [P, S] = await Promise.all([
      s.open('P', APP1, 'pia', { roomId: ROOM_SIMULCAST }),
      s.open('S', APP1, 'sam', { roomId: ROOM_SIMULCAST, publish: false }),
    ]);
    await waitJoined([P, S]);
    const camOf = async () => {
      const st = await withTimeout(S.page.evaluate(() => window.aegisDemo.client.getStats()), 5000,
        'S getStats');
      const t = st.remoteTracks.find((r) => r.userId === 'pia' && r.kind === 'video' &&
        r.source === 'camera');
      return t ? { width: t.frameWidth || 0, frames: t.framesDecoded || 0 } : { width: 0, frames: 0 };
    };
    const quality = (q) => withTimeout(S.page.evaluate(
      (qq) => window.aegisDemo.client.setRemoteVideoQuality('pia', qq), q), 5000, `quality ${q}`);
    // Waits for `width` with frames still being decoded after it was reached.
    const waitWidth = async (label, want, timeoutMs) => {
      let at = null;
      let last = '';
      await waitFor(`S decodes pia's camera at ${label}`, timeoutMs, async () => {
        const c = await camOf();
        last = `${c.width}px, ${c.frames} frames`;
        if (!want(c.width)) {
          at = null;
          return last;
        }
        if (at === null) {
          at = c.frames;
        }
        return c.frames >= at + 10 ? true : last;
      });
      return last;
    };
    // P's layers as its browser sends them (for the failure message: on a
    // loaded machine Chrome scales both layers down for CPU, or holds the high
    // one back for bandwidth).
    const sent = () => withTimeout(P.page.evaluate(async () => {
      const st = await window.aegisDemo.client.getStats();
      const out = [];
      if (st.publish) {
        st.publish.forEach((r) => {
          if (r.type === 'outbound-rtp' && r.kind === 'video') {
            out.push(`${r.rid || '-'}:${r.frameWidth || 0}px/${r.framesEncoded || 0}f/` +
              `${r.qualityLimitationReason || ''}`);
          }
        });
      }
      return out.sort().join(' ');
    }), 5000, 'P getStats').catch((e) => `? (${e.message})`);
    // Under auto the high layer arrives once P's estimate allows it: 640 px
    // normally; whatever Chrome's CPU adaptation left of it otherwise.
    let best = 0;
    try {
      await waitWidth('640 px (auto: high layer)', (w) => {
        best = Math.max(best, w);
        return w >= 640;
      }, 10000);
    } catch (e) {
      if (!(best >= 320)) {
        throw new Error(`${e.message}; P sends ${await sent()}`);
      }
    }
    const high0 = `${best}px`;
    await quality('low');
    let lowWidth = 0;
    const low = await waitWidth(`<= ${best / 2} px (low layer)`, (w) => {
      lowWidth = w;
      return w > 0 && w <= best / 2;
    }, 6000).catch(async (e) => { throw new Error(`${e.message}; P sends ${await sent()}`); });
    await quality('high');
    const high1 = await waitWidth(`> ${lowWidth} px (high layer again)`, (w) => w > lowWidth, 6000)
      .catch(async (e) => { throw new Error(`${e.message}; P sends ${await sent()}`); });
    const st = await S.stats();
    assert.equal(st.joined, true, `S left: ${brief(st)}`);
    await Promise.all([P.close(), S.close()]);
    return `auto ${high0}; low ${low}; high ${high1}`;
  });

  await browser.close();
  const failed = results.filter((r) => !r.ok);
  console.log(`e2e: ${results.length - failed.length}/${results.length} scenarios passed` +
    (failed.length ? ` (failed: ${failed.map((r) => r.name).join(', ')})` : ''));
  return failed.length === 0 && results.length > 0;
}

main().then((ok) => process.exit(ok ? 0 : 1), async (e) => {
  console.log(`FAIL e2e setup: ${redact(e && e.stack ? e.stack : e)}`);
  if (browser) {
    await browser.close().catch(() => {});
  }
  process.exit(1);
});
