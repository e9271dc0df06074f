// Browser tests of the SDK and the demo page against web/test/mock-server.mjs
// (the protocol of docs/SIGNALING.md) with a fake SFU page doing the media.
// Needs `npm run build:web` first and Debian's chromium. Run: `npm run test:web`
// (web/test/run.sh puts it in a loopback-only network namespace when it can).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startMockServer } from './mock-server.mjs';
import { connectSfu } from './sfu-page.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// WebRTC media between pages uses ICE host candidates: those tests run only in
// the private network namespace that web/test/run.sh sets up, so no packet is
// ever sent outside it.
const inPrivateNetns = process.env.AEGIS_WEB_TEST_NETNS === '1';

const skipAll = !existsSync(join(dist, 'demo', 'index.html'))
  ? 'run `npm run build:web` first'
  : !existsSync(chromiumPath)
    ? `no chromium at ${chromiumPath}`
    : false;

async function waitFor(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('aegis web SDK + demo', { skip: skipAll }, () => {
  let browser;
  let mock;
  const pageErrors = [];

  before(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--autoplay-policy=no-user-gesture-required',
        '--disable-features=WebRtcHideLocalIpsWithMdns',
      ],
    });
    const sfuPage = await browser.newPage();
    const sfu = await connectSfu(sfuPage);
    mock = await startMockServer({ root: dist, sfu });
  });

  after(async () => {
    await browser?.close();
    await mock?.close();
  });

  async function openDemo(query) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${query}: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/WebSocket connection to .* failed|Failed to load resource/.test(m.text())) {
        pageErrors.push(`${query}: console: ${m.text()}`);
      }
    });
    await page.goto(`${mock.base}/demo/?${query}`);
    await page.waitForFunction(() => window.aegisDemo !== undefined);
    return page;
  }
  const stats = (page) => page.evaluate(() => window.aegisDemo.stats());

  test('the page loads; an unreachable server is a clean error', async () => {
    // Default server URL is wss://<host>/signal: the mock has no TLS, so it fails.
    const page = await openDemo('sdkAppId=1400000001&userId=carol&userSig=abc&roomId=7&autojoin=1');
    const s = await waitFor('join error', async () => ((await stats(page)).error ? stats(page) : null));
    assert.equal(s.joined, false);
    assert.equal(s.error.code, 'connection_failed');
    assert.deepEqual(s.remoteUsers, []);
    assert.match(await page.textContent('#error'), /connection_failed/);
    assert.equal(await page.isEnabled('#join'), true);
    await page.context().close();
  });

  test('demo mode off: Get demo UserSig says so', async () => {
    mock.setDemoMode(false);
    const page = await openDemo(`userId=dave&roomId=7&server=${mock.signalUrl}`);
    await page.click('#get-usersig');
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error'), /Demo mode is off/);
    assert.equal((await stats(page)).error.code, 'demo_mode_off');
    mock.setDemoMode(true);
    await page.click('#get-usersig');
    await page.waitForFunction(() => document.getElementById('userSig').value === 'demo-sig-dave');
    assert.equal(await page.inputValue('#sdkAppId'), '1400000001');
    await page.context().close();
  });

  test('a refused join reports the server code', async () => {
    const page = await openDemo(`sdkAppId=1400000001&userId=erin&userSig=expired&roomId=7&autojoin=1&server=${mock.signalUrl}`);
    const s = await waitFor('join error', async () => ((await stats(page)).error ? stats(page) : null));
    assert.deepEqual({ joined: s.joined, code: s.error.code }, { joined: false, code: 'usersig_expired' });
    await page.context().close();
  });

  test('audience join without publishing, then Leave', async () => {
    const page = await openDemo(`sdkAppId=1400000001&userId=frank&roomId=8&role=audience&publish=0&autojoin=1&server=${mock.signalUrl}`);
    await waitFor('joined', async () => (await stats(page)).joined);
    assert.equal((await stats(page)).error, null);
    await page.click('#leave');
    await waitFor('left', async () => !(await stats(page)).joined);
    assert.ok(mock.received.some((m) => m.type === 'leave'));
    await page.context().close();
  });

  describe('two users with media', { skip: inPrivateNetns ? false : 'needs the private network namespace of web/test/run.sh (npm run test:web as root)' }, () => {
    let alice;
    let bob;
    const room = 'strRoomId=e2e-room';
    const remote = async (page, userId) => (await stats(page)).remoteUsers.find((u) => u.userId === userId);

    test('each receives the other (frames decoded, audio packets)', async () => {
      alice = await openDemo(`userId=alice&${room}&autojoin=1&server=${mock.signalUrl}`);
      bob = await openDemo(`userId=bob&${room}&autojoin=1&server=${mock.signalUrl}`);
      for (const [page, other] of [[alice, 'bob'], [bob, 'alice']]) {
        await waitFor(`${other}'s media`, async () => {
          const u = await remote(page, other);
          return u && u.framesDecoded > 5 && u.audioPacketsReceived > 5;
        }, 30000);
      }
      const s = await stats(bob);
      assert.equal(s.joined, true);
      assert.equal(s.error, null);
      assert.deepEqual(
        s.remoteUsers.map(({ userId, videoMuted, audioMuted }) => ({ userId, videoMuted, audioMuted })),
        [{ userId: 'alice', videoMuted: false, audioMuted: false }],
      );
      const publishes = mock.received.filter((m) => m.type === 'publish');
      assert.ok(publishes.length >= 2);
      for (const p of publishes) {
        assert.deepEqual(p.tracks.map((t) => t.trackId).sort(), ['cam', 'mic']);
        for (const t of p.tracks) assert.match(t.mid, /^[A-Za-z0-9_-]+$/);
      }
      assert.ok(!mock.received.some((m) => m.type === 'ice-candidate'));
    });

    test('mute and unmute reach the other side', async () => {
      await alice.click('#mute-video');
      await waitFor('videoMuted', async () => (await remote(bob, 'alice'))?.videoMuted === true);
      assert.equal(await alice.evaluate(() => window.aegisDemo.client.videoMuted), true);
      await alice.click('#mute-audio');
      await waitFor('audioMuted', async () => (await remote(bob, 'alice'))?.audioMuted === true);
      await alice.click('#mute-video');
      await alice.click('#mute-audio');
      await waitFor('unmuted', async () => {
        const u = await remote(bob, 'alice');
        return u && !u.videoMuted && !u.audioMuted;
      });
    });

    test('unpublish and publish again renegotiate the other side', async () => {
      await bob.evaluate(() => {
        window.removed = [];
        window.aegisDemo.client.on('track-removed', (e) => window.removed.push(`${e.userId}/${e.trackId}`));
      });
      await alice.evaluate(() => window.aegisDemo.client.unpublish());
      await waitFor('tracks removed', () => bob.evaluate(() => window.removed.length === 2));
      assert.deepEqual((await bob.evaluate(() => window.removed)).sort(), ['alice/cam', 'alice/mic']);
      await waitFor('no tracks', async () => {
        const users = await bob.evaluate(() => window.aegisDemo.client.remoteUsers());
        return users.length === 1 && users[0].tracks.length === 0;
      });
      assert.equal((await remote(bob, 'alice')).framesDecoded, 0);
      await alice.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
        await window.aegisDemo.client.publish(stream);
      });
      await waitFor('media again', async () => {
        const u = await remote(bob, 'alice');
        return u && u.framesDecoded > 5 && u.audioPacketsReceived > 5;
      }, 30000);
      // The same transceivers (mids) carry the new tracks.
      const mine = mock.received.filter((m) => m.type === 'publish' && m.from === 'alice');
      const mids = (p) => Object.fromEntries(p.tracks.map((t) => [t.trackId, t.mid]));
      assert.deepEqual(mids(mine.at(-1)), mids(mine[0]));
    });

    test('ICE restart re-sends publish with new ICE credentials and the same tracks', async () => {
      const before = mock.received.filter((m) => m.type === 'publish' && m.from === 'alice');
      // What the SDK does when the publish connection's ICE state becomes
      // 'failed' (private members: test-only shortcut, a network change cannot be faked here).
      await alice.evaluate(() => {
        const c = window.aegisDemo.client;
        c.pubIceRestartWanted = true;
        c.tryPublishIceRestart();
      });
      await waitFor('restart publish', () =>
        mock.received.filter((m) => m.type === 'publish' && m.from === 'alice').length > before.length);
      const last = mock.received.filter((m) => m.type === 'publish' && m.from === 'alice').at(-1);
      assert.notEqual(last.ufrag, before.at(-1).ufrag);
      assert.deepEqual(last.tracks, before.at(-1).tracks);
      const frames = (await remote(bob, 'alice')).framesDecoded;
      await waitFor('frames after restart', async () => (await remote(bob, 'alice')).framesDecoded > frames + 10);
    });

    test('a dropped socket is resumed; media keeps flowing', async () => {
      await alice.evaluate(() => {
        window.seenStates = [];
        window.aegisDemo.client.on('connection-state', ({ state }) => window.seenStates.push(state));
      });
      const resumesBefore = mock.received.filter((m) => m.type === 'resume').length;
      assert.ok(mock.drop('alice'));
      await waitFor('reconnected', () => alice.evaluate(() => window.seenStates.includes('connected')));
      assert.deepEqual(await alice.evaluate(() => window.seenStates), ['reconnecting', 'connected']);
      assert.equal(mock.received.filter((m) => m.type === 'resume').length, resumesBefore + 1);
      const before = (await remote(bob, 'alice')).framesDecoded;
      await waitFor('more frames', async () => (await remote(bob, 'alice')).framesDecoded > before + 10);
    });

    test('resume refused: the SDK joins and publishes again', async () => {
      const joinsBefore = mock.received.filter((m) => m.type === 'join' && m.userId === 'alice').length;
      assert.ok(mock.drop('alice', { forget: true }));
      await waitFor('re-join', async () => mock.received.filter((m) => m.type === 'join' && m.userId === 'alice').length > joinsBefore);
      // bob sees alice leave and come back, then receives her new tracks.
      await waitFor('alice back with media', async () => {
        const u = await remote(bob, 'alice');
        return u && u.framesDecoded > 5 && u.audioPacketsReceived > 5;
      }, 30000);
      await waitFor('alice receives bob again', async () => ((await remote(alice, 'bob'))?.framesDecoded ?? 0) > 5, 30000);
      assert.equal((await stats(alice)).joined, true);
    });

    test('a second login with the same userId kicks the first', async () => {
      const bob2 = await openDemo(`userId=bob&${room}&publish=0&autojoin=1&server=${mock.signalUrl}`);
      await waitFor('bob kicked', async () => (await stats(bob)).kickedReason === 'kicked_duplicate_login');
      assert.equal((await stats(bob)).joined, false);
      await waitFor('bob2 joined', async () => (await stats(bob2)).joined);
      await waitFor('bob2 receives alice', async () => ((await remote(bob2, 'alice'))?.framesDecoded ?? 0) > 5, 30000);
      bob = bob2;
    });

    test('kick: the kicked user is out, the other sees it leave', async () => {
      assert.ok(mock.kick('bob'));
      await waitFor('bob kicked', async () => (await stats(bob)).kickedReason === 'removed_by_api');
      assert.equal((await stats(bob)).joined, false);
      await waitFor('bob gone for alice', async () => (await stats(alice)).remoteUsers.length === 0);
    });

    test('room dismissed', async () => {
      mock.dismiss();
      await waitFor('dismissed', async () => (await stats(alice)).kickedReason === 'room_dismissed');
      assert.equal((await stats(alice)).joined, false);
    });
  });

  test('no uncaught page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
