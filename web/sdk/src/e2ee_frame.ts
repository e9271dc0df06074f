// End-to-end encryption of media frames (R5): the frame format and the
// per-transform state. Runs in the transform worker (RTCRtpScriptTransform)
// or, for the `createEncodedStreams` fallback, on the page's main thread.
// Input frames on the receive side are untrusted (they come through the SFU):
// every length is checked, and a frame that does not authenticate is dropped,
// never passed on. No DOM access; WebCrypto only.
//
// Frame format (all lengths in bytes; see docs/SECURITY.md):
//   clear header (N) | AES-GCM ciphertext | tag (16) | IV (12) | key id (1) | N (1)
// N = 10 for a VP8 keyframe, 3 for a VP8 delta frame, 1 for Opus (the TOC
// byte), so the SFU and the RTP packetizer still find the VP8 payload header
// and keyframe fields. IV = 8-byte random sender salt || 32-bit frame counter
// (big endian); AAD = clear header || key id || N.

/** Bytes after the ciphertext: IV, key id, clear-header length. */
export const TRAILER_BYTES = 14;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const SALT_BYTES = 8;
/** Largest clear header the format allows (VP8 keyframe). */
export const MAX_CLEAR_BYTES = 10;
const VP8_KEY_CLEAR = 10;
const VP8_DELTA_CLEAR = 3;
const AUDIO_CLEAR = 1;

export type MediaKind = 'audio' | 'video';
export type Side = 'send' | 'recv';

/** Counters of one cryptor (summed over its transforms). */
export interface FrameCounters {
  framesEncrypted: number;
  framesDecrypted: number;
  /** Received frames that failed authentication or were malformed (dropped). */
  decryptFailures: number;
  /** Received frames under a key id this client does not (or no longer) hold (dropped). */
  unknownKeyFrames: number;
  /** Frames not sent because no media key was ready yet. */
  framesDroppedNoKey: number;
}

/** How many leading bytes of a frame stay in clear. */
export function clearHeaderBytes(kind: MediaKind, data: Uint8Array): number {
  if (data.length === 0) return 0;
  let n: number;
  if (kind === 'audio') {
    n = AUDIO_CLEAR;
  } else {
    // VP8 payload header, RFC 6386 §9.1: bit 0 of the first byte is the
    // inverse keyframe flag (0: keyframe, whose 3-byte start code and 4-byte
    // size follow the 3-byte frame tag).
    n = (data[0]! & 0x01) === 0 ? VP8_KEY_CLEAR : VP8_DELTA_CLEAR;
  }
  return Math.min(n, data.length);
}

interface KeyEntry {
  key: CryptoKey;
  /** When a replaced key stops being accepted (ms since epoch); null for the current key. */
  expiresAt: number | null;
}

/** Key update sent from the page to the cryptor. */
export interface KeyUpdate {
  keyId: number;
  /** AES-GCM media key derived with HKDF (never the app's raw key material). */
  key: CryptoKey;
  /** Send with this key from now on (false: receive-only, for a staged rotation). */
  activate: boolean;
  /** How long the previous sending key is still accepted on receive, in ms. */
  graceMs: number;
  /** Receive-only keys copied to a new worker keep their expiry (ms since epoch). */
  expiresAt?: number | null;
}

/**
 * Key ring and counters shared by all the frame transforms of one client.
 * One instance per thread; not shared across threads.
 */
export class FrameCryptor {
  private readonly keys = new Map<number, KeyEntry>();
  private sendKeyId: number | null = null;
  readonly counters: FrameCounters = {
    framesEncrypted: 0,
    framesDecrypted: 0,
    decryptFailures: 0,
    unknownKeyFrames: 0,
    framesDroppedNoKey: 0,
  };

  constructor(private readonly now: () => number = () => Date.now()) {}

  get currentKeyId(): number | null {
    return this.sendKeyId;
  }

  setKey(u: KeyUpdate): void {
    const t = this.now();
    if (u.activate && this.sendKeyId !== null && this.sendKeyId !== u.keyId) {
      const old = this.keys.get(this.sendKeyId);
      if (old) old.expiresAt = t + u.graceMs;
    }
    const keep = this.keys.get(u.keyId);
    // Re-setting a staged (receive-only) key must not shorten anything.
    let expiresAt = u.activate || !keep ? null : keep.expiresAt;
    if (!u.activate && u.expiresAt !== undefined) expiresAt = u.expiresAt;
    this.keys.set(u.keyId, { key: u.key, expiresAt });
    if (u.activate) this.sendKeyId = u.keyId;
    this.prune(t);
  }

  /** Replays the key ring as updates (to bring a new worker up to date). */
  exportKeys(post: (u: KeyUpdate) => void): void {
    for (const [keyId, e] of this.keys) {
      if (keyId !== this.sendKeyId) post({ keyId, key: e.key, activate: false, graceMs: 0, expiresAt: e.expiresAt });
    }
    const cur = this.sendKeyId === null ? undefined : this.keys.get(this.sendKeyId);
    if (this.sendKeyId !== null && cur) post({ keyId: this.sendKeyId, key: cur.key, activate: true, graceMs: 0 });
  }

  private prune(t: number): void {
    for (const [id, e] of this.keys) {
      if (e.expiresAt !== null && e.expiresAt <= t) this.keys.delete(id);
    }
  }

  private receiveKey(keyId: number): CryptoKey | null {
    const e = this.keys.get(keyId);
    if (!e) return null;
    if (e.expiresAt !== null && e.expiresAt <= this.now()) {
      this.keys.delete(keyId);
      return null;
    }
    return e.key;
  }

  /** A new per-transform sender state (random salt, counter 0). */
  newSender(kind: MediaKind): SenderState {
    return new SenderState(kind);
  }

  /**
   * Encrypts one frame's payload. Returns null when the frame must be dropped
   * (no key yet): a clear frame is never sent.
   */
  async encrypt(s: SenderState, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
    if (data.length === 0) return data;
    const keyId = this.sendKeyId;
    const entry = keyId === null ? undefined : this.keys.get(keyId);
    if (keyId === null || !entry) {
      this.counters.framesDroppedNoKey++;
      return null;
    }
    const n = clearHeaderBytes(s.kind, data);
    const iv = s.nextIv();
    const header = data.subarray(0, n);
    const aad = new Uint8Array(n + 2);
    aad.set(header, 0);
    aad[n] = keyId;
    aad[n + 1] = n;
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_BYTES * 8 },
        entry.key,
        data.subarray(n),
      ),
    );
    const out = new Uint8Array(n + ct.length + TRAILER_BYTES);
    out.set(header, 0);
    out.set(ct, n);
    out.set(iv, n + ct.length);
    out[out.length - 2] = keyId;
    out[out.length - 1] = n;
    this.counters.framesEncrypted++;
    return out;
  }

  /**
   * Decrypts one received frame. Returns the clear frame, or null when it must
   * be dropped (malformed, unknown key id, or failed authentication).
   */
  async decrypt(kind: MediaKind, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
    if (data.length === 0) return data;
    const parsed = parseFrame(kind, data);
    if (!parsed) {
      this.counters.decryptFailures++;
      return null;
    }
    const key = this.receiveKey(parsed.keyId);
    if (!key) {
      this.counters.unknownKeyFrames++;
      return null;
    }
    let clear: ArrayBuffer;
    try {
      clear = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: parsed.iv, additionalData: parsed.aad, tagLength: TAG_BYTES * 8 },
        key,
        parsed.ciphertext,
      );
    } catch {
      this.counters.decryptFailures++;
      return null;
    }
    const out = new Uint8Array(parsed.header.length + clear.byteLength);
    out.set(parsed.header, 0);
    out.set(new Uint8Array(clear), parsed.header.length);
    this.counters.framesDecrypted++;
    return out;
  }
}

/** Per-sender-transform IV state. */
export class SenderState {
  private salt = new Uint8Array(SALT_BYTES);
  private counter = 0;

  constructor(readonly kind: MediaKind) {
    crypto.getRandomValues(this.salt);
  }

  /** The next IV; a fresh random salt when the 32-bit counter wraps, so no IV repeats. */
  nextIv(): Uint8Array<ArrayBuffer> {
    if (this.counter > 0xffffffff) {
      this.salt = new Uint8Array(SALT_BYTES);
      crypto.getRandomValues(this.salt);
      this.counter = 0;
    }
    const iv = new Uint8Array(IV_BYTES);
    iv.set(this.salt, 0);
    new DataView(iv.buffer).setUint32(SALT_BYTES, this.counter);
    this.counter++;
    return iv;
  }
}

interface ParsedFrame {
  header: Uint8Array<ArrayBuffer>;
  ciphertext: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  aad: Uint8Array<ArrayBuffer>;
  keyId: number;
}

/** Splits a received frame into its parts; null when a length is impossible. */
function parseFrame(kind: MediaKind, data: Uint8Array): ParsedFrame | null {
  if (data.length < TRAILER_BYTES + TAG_BYTES) return null;
  const n = data[data.length - 1]!;
  const keyId = data[data.length - 2]!;
  const maxClear = kind === 'audio' ? AUDIO_CLEAR : MAX_CLEAR_BYTES;
  if (n > maxClear || n + TAG_BYTES + TRAILER_BYTES > data.length) return null;
  const ctEnd = data.length - TRAILER_BYTES;
  const header = data.slice(0, n);
  const aad = new Uint8Array(n + 2);
  aad.set(header, 0);
  aad[n] = keyId;
  aad[n + 1] = n;
  return {
    header,
    ciphertext: data.slice(n, ctEnd),
    iv: data.slice(ctEnd, ctEnd + IV_BYTES),
    aad,
    keyId,
  };
}

/** The encoded frame types both transform APIs hand out. */
export type EncodedFrame = RTCEncodedVideoFrame | RTCEncodedAudioFrame;

/**
 * The TransformStream body of one sender or receiver: replaces each frame's
 * data with its encrypted (send) or decrypted (recv) form, or drops it.
 */
export function frameTransformer(
  cryptor: FrameCryptor,
  side: Side,
  kind: MediaKind,
): Transformer<EncodedFrame, EncodedFrame> {
  const sender = side === 'send' ? cryptor.newSender(kind) : null;
  return {
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      const out = sender ? await cryptor.encrypt(sender, data) : await cryptor.decrypt(kind, data);
      if (out === null) return;
      if (out !== data) frame.data = out.buffer as ArrayBuffer;
      controller.enqueue(frame);
    },
  };
}
