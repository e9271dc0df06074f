// Unit tests of the SDK's E2EE frame format (web/sdk/src/e2ee_frame.ts), in
// node with its WebCrypto: round trip per codec, clear-header lengths, wrong
// key, tampering, unknown key ids, rotation grace on an injected clock, IV
// uniqueness. Run: node --test web/test/e2ee_frame.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const entry = fileURLToPath(new URL('../sdk/src/e2ee_frame.ts', import.meta.url));
const built = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', write: false, platform: 'neutral' });
const { FrameCryptor, clearHeaderBytes, TRAILER_BYTES, TAG_BYTES } = await import(
  `data:text/javascript;base64,${Buffer.from(built.outputFiles[0].text).toString('base64')}`
);

async function aesKey(byte, bits = 256) {
  const raw = new Uint8Array(bits / 8).fill(byte);
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

// A VP8 keyframe: frame tag with P=0, start code, 640x480, then payload.
function vp8Key(len = 200) {
  const f = new Uint8Array(len);
  f.set([0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
  for (let i = 10; i < len; i++) f[i] = i & 0xff;
  return f;
}

function vp8Delta(len = 100) {
  const f = new Uint8Array(len);
  f[0] = 0x31; // P=1
  for (let i = 1; i < len; i++) f[i] = (i * 7) & 0xff;
  return f;
}

async function cryptorWith(keyByte, keyId = 0, now = () => 0) {
  const c = new FrameCryptor(now);
  c.setKey({ keyId, key: await aesKey(keyByte), activate: true, graceMs: 1000 });
  return c;
}

test('clear header lengths: VP8 keyframe 10, delta 3, Opus 1', () => {
  assert.equal(clearHeaderBytes('video', vp8Key()), 10);
  assert.equal(clearHeaderBytes('video', vp8Delta()), 3);
  assert.equal(clearHeaderBytes('audio', new Uint8Array([0xfc, 1, 2])), 1);
  assert.equal(clearHeaderBytes('video', new Uint8Array([0x00, 1])), 2);
  assert.equal(clearHeaderBytes('video', new Uint8Array(0)), 0);
});

test('round trip keeps the header in clear and hides the payload', async () => {
  const a = await cryptorWith(7, 5);
  const b = await cryptorWith(7, 5);
  for (const [kind, frame] of [['video', vp8Key()], ['video', vp8Delta()], ['audio', new Uint8Array([0xfc, 9, 8, 7, 6])]]) {
    const s = a.newSender(kind);
    const enc = await a.encrypt(s, frame.slice());
    const n = clearHeaderBytes(kind, frame);
    assert.equal(enc.length, frame.length + TAG_BYTES + TRAILER_BYTES);
    assert.deepEqual(enc.subarray(0, n), frame.subarray(0, n));
    assert.equal(enc[enc.length - 1], n);
    assert.equal(enc[enc.length - 2], 5);
    assert.notDeepEqual(enc.subarray(n, frame.length), frame.subarray(n));
    assert.deepEqual(await b.decrypt(kind, enc), frame);
  }
  assert.equal(b.counters.framesDecrypted, 3);
});

test('wrong key, tampering and garbage are dropped and counted', async () => {
  const a = await cryptorWith(1);
  const wrong = await cryptorWith(2);
  const enc = await a.encrypt(a.newSender('video'), vp8Key());
  assert.equal(await wrong.decrypt('video', enc), null);
  for (const i of [0, 4, 20, enc.length - 3, enc.length - 1]) {
    const t = enc.slice();
    t[i] ^= 0x01;
    assert.equal(await a.decrypt('video', t), null, `flipped byte ${i}`);
  }
  assert.equal(await a.decrypt('video', vp8Key(500)), null); // a plain frame
  assert.equal(await a.decrypt('video', new Uint8Array(5)), null);
  assert.equal(wrong.counters.decryptFailures, 1);
  assert.equal(a.counters.framesDecrypted, 0);
  assert.ok(a.counters.decryptFailures + a.counters.unknownKeyFrames >= 6);
});

test('no key: frames are dropped, never sent in clear', async () => {
  const c = new FrameCryptor();
  assert.equal(await c.encrypt(c.newSender('audio'), new Uint8Array([1, 2, 3])), null);
  assert.equal(c.counters.framesDroppedNoKey, 1);
});

test('rotation: the replaced key is accepted for the grace period only', async () => {
  let t = 0;
  const now = () => t;
  const sender = await cryptorWith(1, 1, now);
  const recv = await cryptorWith(1, 1, now);
  const s = sender.newSender('video');
  const old = await sender.encrypt(s, vp8Delta());
  const k2 = await aesKey(2);
  sender.setKey({ keyId: 2, key: k2, activate: true, graceMs: 1000 });
  recv.setKey({ keyId: 2, key: k2, activate: true, graceMs: 1000 });
  const fresh = await sender.encrypt(s, vp8Delta());
  assert.equal(fresh[fresh.length - 2], 2);
  t = 999;
  assert.ok(await recv.decrypt('video', old), 'old key within the grace period');
  assert.ok(await recv.decrypt('video', fresh));
  t = 1000;
  assert.equal(await recv.decrypt('video', old), null, 'old key after the grace period');
  assert.equal(recv.counters.unknownKeyFrames, 1);
});

test('staged key (activate: false) decrypts but is not sent with', async () => {
  const a = await cryptorWith(1, 1);
  const k2 = await aesKey(2);
  a.setKey({ keyId: 2, key: k2, activate: false, graceMs: 1000 });
  assert.equal(a.currentKeyId, 1);
  const b = await cryptorWith(2, 2);
  const enc = await b.encrypt(b.newSender('audio'), new Uint8Array([0xfc, 1, 2, 3]));
  assert.ok(await a.decrypt('audio', enc));
});

test('IVs never repeat within a sender and differ across senders', async () => {
  const a = await cryptorWith(3);
  const ivs = new Set();
  for (const s of [a.newSender('video'), a.newSender('video')]) {
    for (let i = 0; i < 50; i++) {
      const enc = await a.encrypt(s, vp8Delta());
      ivs.add(Buffer.from(enc.subarray(enc.length - 14, enc.length - 2)).toString('hex'));
    }
  }
  assert.equal(ivs.size, 100);
});
