// Room messages over data channels on the publish peer connection
// (docs/MEDIA.md "Room messages"): two channels, `aegis-msg` (reliable,
// ordered) and `aegis-msg-u` (unordered, maxRetransmits 0), carrying the
// server's binary envelope (src/sfu/room_message.h):
//   client → server  0x01 send:    flags(1) seq(4, BE) count(1) [len(1) userId]* payload
//   server → client  0x02 deliver: flags(1) len(1) fromUserId payload
//                    0x03 ack:     seq(4)
//                    0x04 error:   seq(4) len(1) code
// flags bit 0: the payload is UTF-8 text. Acks and errors always come on the
// reliable channel.

import { AegisError } from './types.js';

export const MESSAGE_LABEL = 'aegis-msg';
export const UNRELIABLE_MESSAGE_LABEL = 'aegis-msg-u';

const TYPE_SEND = 0x01;
const TYPE_DELIVER = 0x02;
const TYPE_ACK = 0x03;
const TYPE_ERROR = 0x04;
const FLAG_TEXT = 0x01;
const MAX_RECIPIENTS = 16;
const MAX_USER_ID_BYTES = 64;

/** Options of {@link RoomMessenger.send} (`client.sendMessage`). */
export interface SendMessageOptions {
  /** Recipient user ids; omitted or empty: everyone else in the room. At most 16. */
  to?: string[];
  /** false: unordered, no retransmissions (may be lost). Default true. */
  reliable?: boolean;
}

export type MessageData = string | ArrayBuffer | Uint8Array;

interface Pending {
  resolve: () => void;
  reject: (err: AegisError) => void;
}

/** End-to-end encryption of message bodies (e2ee.ts); the envelope stays clear. */
export interface MessageCipher {
  encryptMessage(clear: Uint8Array): Promise<Uint8Array>;
  decryptMessage(data: Uint8Array): Promise<Uint8Array>;
}

export class RoomMessenger {
  private cipher: MessageCipher | null = null;
  // Decryption is asynchronous: deliveries are chained so order is kept.
  private deliveries: Promise<void> = Promise.resolve();
  private reliable: RTCDataChannel | null = null;
  private unreliable: RTCDataChannel | null = null;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly openWaiters: Array<() => void> = [];
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly onMessage: (userId: string, data: string | ArrayBuffer) => void,
    private readonly onError: (code: string, message: string) => void,
    private readonly openTimeoutMs: number,
  ) {}

  /** With a cipher every body is encrypted before sending and decrypted on arrival. */
  setCipher(cipher: MessageCipher | null): void {
    this.cipher = cipher;
  }

  /** Creates both channels on a new publish connection (before its first offer). */
  attach(pc: RTCPeerConnection): void {
    this.detach();
    const reliable = pc.createDataChannel(MESSAGE_LABEL, { ordered: true });
    const unreliable = pc.createDataChannel(UNRELIABLE_MESSAGE_LABEL, { ordered: false, maxRetransmits: 0 });
    for (const dc of [reliable, unreliable]) {
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (ev: MessageEvent) => {
        if (ev.data instanceof ArrayBuffer) this.onEnvelope(new Uint8Array(ev.data));
      };
      dc.onopen = () => {
        if (this.reliable?.readyState === 'open') this.openWaiters.splice(0).forEach((w) => w());
      };
    }
    reliable.onclose = () => {
      if (this.reliable === reliable) this.failPending('connection_closed', 'The message channel closed.');
    };
    this.reliable = reliable;
    this.unreliable = unreliable;
  }

  /** The publish connection is gone: pending sends fail. */
  detach(): void {
    this.reliable?.close();
    this.unreliable?.close();
    this.reliable = null;
    this.unreliable = null;
    this.failPending('connection_closed', 'The message channel closed.');
  }

  get attached(): boolean {
    return this.reliable !== null;
  }

  /**
   * Sends one message. Reliable: resolves when the server accepted it (ack),
   * rejects with its code (`message_too_large`, `message_rate_limited`).
   * Unreliable: resolves once handed to the channel; a server refusal is
   * reported through `onError`.
   */
  async send(data: MessageData, options: SendMessageOptions = {}): Promise<void> {
    const payload = this.payloadOf(data);
    if (this.cipher) payload.bytes = await this.cipher.encryptMessage(payload.bytes);
    const to = options.to ?? [];
    if (!Array.isArray(to) || to.length > MAX_RECIPIENTS) {
      throw new AegisError('invalid_argument', `sendMessage: \`to\` must be an array of at most ${MAX_RECIPIENTS} user ids.`);
    }
    const ids = to.map((id) => {
      const bytes = typeof id === 'string' ? this.encoder.encode(id) : new Uint8Array(0);
      if (bytes.length === 0 || bytes.length > MAX_USER_ID_BYTES) {
        throw new AegisError('invalid_argument', 'sendMessage: every `to` entry must be a user id.');
      }
      return bytes;
    });
    const reliable = options.reliable !== false;
    await this.waitOpen();
    const dc = reliable ? this.reliable : this.unreliable;
    if (!dc || dc.readyState !== 'open') throw new AegisError('connection_closed', 'The message channel is not open.');
    this.seq = (this.seq + 1) >>> 0;
    const seq = this.seq;
    const envelope = new Uint8Array(7 + ids.reduce((n, b) => n + 1 + b.length, 0) + payload.bytes.length);
    const view = new DataView(envelope.buffer);
    envelope[0] = TYPE_SEND;
    envelope[1] = payload.text ? FLAG_TEXT : 0;
    view.setUint32(2, seq);
    envelope[6] = ids.length;
    let at = 7;
    for (const b of ids) {
      envelope[at++] = b.length;
      envelope.set(b, at);
      at += b.length;
    }
    envelope.set(payload.bytes, at);
    const acked = reliable
      ? new Promise<void>((resolve, reject) => this.pending.set(seq, { resolve, reject }))
      : Promise.resolve();
    try {
      dc.send(envelope);
    } catch (err) {
      this.pending.delete(seq);
      // Above the connection's a=max-message-size the browser refuses to send.
      throw new AegisError('message_too_large', `The message is too large: ${String(err)}`);
    }
    return acked;
  }

  private payloadOf(data: MessageData): { bytes: Uint8Array; text: boolean } {
    if (typeof data === 'string') return { bytes: this.encoder.encode(data), text: true };
    if (data instanceof ArrayBuffer) return { bytes: new Uint8Array(data), text: false };
    if (data instanceof Uint8Array) return { bytes: data, text: false };
    throw new AegisError('invalid_argument', 'sendMessage: data must be a string, ArrayBuffer or Uint8Array.');
  }

  private waitOpen(): Promise<void> {
    if (this.reliable?.readyState === 'open') return Promise.resolve();
    // Not attached yet is fine: the first sendMessage() starts the publish
    // connection asynchronously, and attach() follows.
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.openWaiters.indexOf(done);
        if (i >= 0) this.openWaiters.splice(i, 1);
        reject(new AegisError('timeout', 'The message channel did not open in time.'));
      }, this.openTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.openWaiters.push(done);
    });
  }

  private onEnvelope(b: Uint8Array): void {
    if (b.length < 1) return;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (b[0]) {
      case TYPE_DELIVER: {
        const flags = b[1] ?? 0;
        const len = b[2] ?? 0;
        if (len === 0 || b.length < 3 + len) return;
        const from = this.decoder.decode(b.subarray(3, 3 + len));
        const body = b.slice(3 + len);
        const cipher = this.cipher;
        if (!cipher) {
          this.onMessage(from, flags & FLAG_TEXT ? this.decoder.decode(body) : body.buffer);
          return;
        }
        this.deliveries = this.deliveries.then(async () => {
          try {
            const clear = await cipher.decryptMessage(body);
            this.onMessage(from, flags & FLAG_TEXT ? this.decoder.decode(clear) : clear.slice().buffer);
          } catch (err) {
            const code = err instanceof AegisError ? err.code : 'e2ee_decrypt_failed';
            this.onError(code, `A room message from ${from} could not be decrypted.`);
          }
        });
        return;
      }
      case TYPE_ACK: {
        if (b.length < 5) return;
        const seq = view.getUint32(1);
        this.pending.get(seq)?.resolve();
        this.pending.delete(seq);
        return;
      }
      case TYPE_ERROR: {
        const len = b[5] ?? 0;
        if (b.length < 6 + len) return;
        const seq = view.getUint32(1);
        const code = this.decoder.decode(b.subarray(6, 6 + len));
        const message = `The server refused the message (${code}).`;
        const p = this.pending.get(seq);
        this.pending.delete(seq);
        if (p) p.reject(new AegisError(code, message));
        else this.onError(code, message);
        return;
      }
      default:
        return;
    }
  }

  private failPending(code: string, message: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new AegisError(code, message));
  }
}
