// End-to-end encryption for one client (R5): derives the media and message
// keys from the application's key material (HKDF-SHA256, WebCrypto), attaches
// encrypting/decrypting encoded transforms to the client's RTP senders and
// receivers, and encrypts room messages. Owned by one Client, main thread only.
// The raw key material is copied, imported and zeroed; it never leaves the
// page and never reaches the server. Frame format: ./e2ee_frame.ts.

import { FrameCryptor, IV_BYTES, TAG_BYTES, frameTransformer, type FrameCounters, type MediaKind } from './e2ee_frame.js';
import type { WorkerRequest } from './e2ee_worker.js';
import { AegisError, type E2eeMode, type E2eeOptions, type E2eeStats } from './types.js';

const HKDF_SALT = 'aegis-e2ee-v1';
const MEDIA_INFO = 'aegis e2ee media frames';
const MESSAGE_INFO = 'aegis e2ee room messages';
const DEFAULT_GRACE_MS = 10_000;
const MAX_GRACE_MS = 3_600_000;
const STATS_TIMEOUT_MS = 1_000;
/** First byte of an encrypted room message: format version. */
const MESSAGE_VERSION = 0x01;
const MESSAGE_HEADER_BYTES = 2 + IV_BYTES; // version, key id, IV

/** Name of the worker bundle, next to aegis.js. */
export const WORKER_FILE = 'aegis-e2ee-worker.js';

const textEncoder = new TextEncoder();

/** Which encoded-transform API this browser offers. */
export function detectE2eeMode(): E2eeMode {
  if (typeof RTCRtpScriptTransform === 'function' && typeof Worker === 'function') return 'script-transform';
  if (typeof RTCRtpSender !== 'undefined' && 'createEncodedStreams' in RTCRtpSender.prototype) {
    return 'encoded-streams';
  }
  return 'unsupported';
}

/** A copy of the key material, checked to be 16 or 32 bytes. */
export function keyMaterial(key: unknown): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer> | null = null;
  if (key instanceof ArrayBuffer) bytes = new Uint8Array(key.slice(0));
  else if (key instanceof Uint8Array) bytes = new Uint8Array(key);
  if (!bytes || (bytes.length !== 16 && bytes.length !== 32)) {
    throw new AegisError('invalid_argument', 'The E2EE key must be a Uint8Array or ArrayBuffer of 16 or 32 bytes.');
  }
  return bytes;
}

function checkKeyId(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
    throw new AegisError('invalid_argument', 'The E2EE keyId must be an integer 0..255.');
  }
  return v;
}

interface DerivedKeys {
  media: CryptoKey;
  message: CryptoKey;
}

/** HKDF-SHA256 → one AES-GCM key per purpose, of the input's length (128 or 256 bit). */
async function deriveKeys(material: Uint8Array<ArrayBuffer>): Promise<DerivedKeys> {
  try {
    const base = await crypto.subtle.importKey('raw', material, 'HKDF', false, ['deriveKey']);
    const derive = (info: string): Promise<CryptoKey> =>
      crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: textEncoder.encode(HKDF_SALT), info: textEncoder.encode(info) },
        base,
        { name: 'AES-GCM', length: material.length * 8 },
        false,
        ['encrypt', 'decrypt'],
      );
    return { media: await derive(MEDIA_INFO), message: await derive(MESSAGE_INFO) };
  } finally {
    material.fill(0);
  }
}

interface MessageKey {
  key: CryptoKey;
  expiresAt: number | null;
}

type EncodedStreamsHost = {
  createEncodedStreams(): { readable: ReadableStream; writable: WritableStream };
};

export class E2ee {
  readonly mode: E2eeMode = detectE2eeMode();
  private readonly graceMs: number;
  private readonly workerUrl: string;
  private worker: Worker | null = null;
  /** Frame state for the `createEncodedStreams` fallback (main thread). */
  private readonly local = new FrameCryptor();
  private readonly attached = new WeakSet<RTCRtpSender | RTCRtpReceiver>();
  /** Key installs run in call order. */
  private keyChain: Promise<void> = Promise.resolve();
  private readonly messageKeys = new Map<number, MessageKey>();
  private messageKeyId: number | null = null;
  private mediaKeyId: number | null = null;
  private statsSeq = 0;
  private readonly pendingStats = new Map<number, (c: { counters: FrameCounters; keyId: number | null }) => void>();
  private messagesEncrypted = 0;
  private messageFailures = 0;

  constructor(
    options: E2eeOptions,
    private readonly onError: (message: string) => void,
  ) {
    if (!options || typeof options !== 'object') {
      throw new AegisError('invalid_argument', 'e2ee must be an object { key, keyId? }.');
    }
    const grace = options.keyGraceMs ?? DEFAULT_GRACE_MS;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_MS) {
      throw new AegisError('invalid_argument', `e2ee.keyGraceMs must be an integer 0..${MAX_GRACE_MS}.`);
    }
    this.graceMs = grace;
    this.workerUrl = options.workerUrl ?? new URL(`./${WORKER_FILE}`, import.meta.url).href;
    const material = keyMaterial(options.key);
    const keyId = checkKeyId(options.keyId ?? 0);
    this.queueKey(material, keyId, true);
  }

  /** True when peer connections need `encodedInsertableStreams` (the fallback API). */
  get insertableStreams(): boolean {
    return this.mode === 'encoded-streams';
  }

  /** Resolves once every key given so far is installed. */
  ready(): Promise<void> {
    return this.keyChain;
  }

  setKey(key: unknown, keyId: unknown, activate: boolean): Promise<void> {
    const material = keyMaterial(key);
    const id = checkKeyId(keyId);
    return this.queueKey(material, id, activate);
  }

  private queueKey(material: Uint8Array<ArrayBuffer>, keyId: number, activate: boolean): Promise<void> {
    const p = this.keyChain.then(async () => {
      const keys = await deriveKeys(material);
      const update = { keyId, key: keys.media, activate, graceMs: this.graceMs };
      this.local.setKey(update);
      this.worker?.postMessage({ type: 'key', ...update } satisfies WorkerRequest);
      this.setMessageKey(keyId, keys.message, activate);
      if (activate) this.mediaKeyId = keyId;
    });
    this.keyChain = p.catch((err: unknown) => {
      this.onError(`E2EE key derivation failed: ${String(err)}`);
    });
    return p;
  }

  private setMessageKey(keyId: number, key: CryptoKey, activate: boolean): void {
    const t = Date.now();
    if (activate && this.messageKeyId !== null && this.messageKeyId !== keyId) {
      const old = this.messageKeys.get(this.messageKeyId);
      if (old) old.expiresAt = t + this.graceMs;
    }
    const keep = this.messageKeys.get(keyId);
    this.messageKeys.set(keyId, { key, expiresAt: activate || !keep ? null : keep.expiresAt });
    if (activate) this.messageKeyId = keyId;
    for (const [id, e] of this.messageKeys) if (e.expiresAt !== null && e.expiresAt <= t) this.messageKeys.delete(id);
  }

  /** The worker, started on first use; it receives every key installed so far. */
  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerUrl, { name: 'aegis-e2ee' });
    w.onerror = (ev) => this.onError(`E2EE worker failed: ${ev.message || 'could not load ' + this.workerUrl}`);
    w.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { type?: unknown; id?: unknown; counters?: FrameCounters; keyId?: number | null };
      if (m?.type !== 'stats' || typeof m.id !== 'number' || !m.counters) return;
      const done = this.pendingStats.get(m.id);
      this.pendingStats.delete(m.id);
      done?.({ counters: m.counters, keyId: m.keyId ?? null });
    };
    this.worker = w;
    // Keys installed before the worker existed (the chain keeps later ones in order).
    this.keyChain = this.keyChain.then(() => this.local.exportKeys((u) => w.postMessage({ type: 'key', ...u } satisfies WorkerRequest)));
    return w;
  }

  /** Encrypts everything `sender` sends from now on (idempotent). */
  attachSender(sender: RTCRtpSender, kind: MediaKind): void {
    this.attach(sender, 'send', kind);
  }

  /** Decrypts everything `receiver` receives; frames that do not authenticate are dropped (idempotent). */
  attachReceiver(receiver: RTCRtpReceiver, kind: MediaKind): void {
    this.attach(receiver, 'recv', kind);
  }

  private attach(target: RTCRtpSender | RTCRtpReceiver, side: 'send' | 'recv', kind: MediaKind): void {
    if (this.attached.has(target)) return;
    if (this.mode === 'script-transform') {
      target.transform = new RTCRtpScriptTransform(this.ensureWorker(), { side, kind });
    } else if (this.mode === 'encoded-streams') {
      const { readable, writable } = (target as unknown as EncodedStreamsHost).createEncodedStreams();
      readable
        .pipeThrough(new TransformStream(frameTransformer(this.local, side, kind)))
        .pipeTo(writable)
        .catch(() => undefined);
    } else {
      throw new AegisError('e2ee_unsupported', 'This browser supports no WebRTC encoded transform.');
    }
    this.attached.add(target);
  }

  /**
   * Encrypts a room message: `0x01 | key id | IV (12, random) | AES-GCM(ciphertext | tag)`,
   * AAD = the first two bytes.
   */
  async encryptMessage(clear: Uint8Array): Promise<Uint8Array> {
    await this.keyChain;
    const keyId = this.messageKeyId;
    const entry = keyId === null ? undefined : this.messageKeys.get(keyId);
    if (keyId === null || !entry) throw new AegisError('e2ee_no_key', 'No E2EE key is installed.');
    const out = new Uint8Array(MESSAGE_HEADER_BYTES + clear.length + TAG_BYTES);
    out[0] = MESSAGE_VERSION;
    out[1] = keyId;
    const iv = out.subarray(2, MESSAGE_HEADER_BYTES);
    crypto.getRandomValues(iv);
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: out.slice(2, MESSAGE_HEADER_BYTES), additionalData: out.slice(0, 2), tagLength: TAG_BYTES * 8 },
      entry.key,
      new Uint8Array(clear),
    );
    out.set(new Uint8Array(ct), MESSAGE_HEADER_BYTES);
    this.messagesEncrypted++;
    return out;
  }

  /** Decrypts a room message; rejects with `e2ee_decrypt_failed` when it does not authenticate. */
  async decryptMessage(data: Uint8Array): Promise<Uint8Array> {
    await this.keyChain;
    const fail = (why: string): never => {
      this.messageFailures++;
      throw new AegisError('e2ee_decrypt_failed', `Cannot decrypt the room message: ${why}.`);
    };
    if (data.length < MESSAGE_HEADER_BYTES + TAG_BYTES || data[0] !== MESSAGE_VERSION) fail('not an encrypted message');
    const e = this.messageKeys.get(data[1]!);
    if (!e || (e.expiresAt !== null && e.expiresAt <= Date.now())) fail(`unknown key id ${data[1]}`);
    try {
      const clear = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: data.slice(2, MESSAGE_HEADER_BYTES), additionalData: data.slice(0, 2), tagLength: TAG_BYTES * 8 },
        e!.key,
        data.slice(MESSAGE_HEADER_BYTES),
      );
      return new Uint8Array(clear);
    } catch {
      return fail('authentication failed (wrong key?)');
    }
  }

  async stats(): Promise<E2eeStats> {
    let counters: FrameCounters = { ...this.local.counters };
    const w = this.worker;
    if (w) {
      const id = ++this.statsSeq;
      const got = await new Promise<{ counters: FrameCounters } | null>((resolve) => {
        const timer = setTimeout(() => {
          this.pendingStats.delete(id);
          resolve(null);
        }, STATS_TIMEOUT_MS);
        this.pendingStats.set(id, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        w.postMessage({ type: 'stats', id } satisfies WorkerRequest);
      });
      if (got) {
        const c = got.counters;
        counters = {
          framesEncrypted: counters.framesEncrypted + c.framesEncrypted,
          framesDecrypted: counters.framesDecrypted + c.framesDecrypted,
          decryptFailures: counters.decryptFailures + c.decryptFailures,
          unknownKeyFrames: counters.unknownKeyFrames + c.unknownKeyFrames,
          framesDroppedNoKey: counters.framesDroppedNoKey + c.framesDroppedNoKey,
        };
      }
    }
    return {
      mode: this.mode,
      keyId: this.mediaKeyId,
      ...counters,
      messagesEncrypted: this.messagesEncrypted,
      messageDecryptFailures: this.messageFailures,
    };
  }

  /** Stops the worker (the client is being discarded). */
  close(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const done of this.pendingStats.values()) done({ counters: { ...this.local.counters }, keyId: null });
    this.pendingStats.clear();
  }
}
