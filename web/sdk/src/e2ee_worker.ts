// Entry point of the E2EE transform worker, bundled as /sdk/aegis-e2ee-worker.js
// (web/scripts/build.mjs). One worker per client: it holds the client's media
// keys (non-extractable CryptoKeys posted by the page) and runs the frame
// transforms of every RTCRtpScriptTransform the page attaches to a sender or
// receiver. Frames only pass through here; nothing is sent anywhere else.

import { FrameCryptor, frameTransformer, type EncodedFrame, type KeyUpdate, type MediaKind, type Side } from './e2ee_frame.js';

/** What the page posts to the worker. */
export type WorkerRequest = ({ type: 'key' } & KeyUpdate) | { type: 'stats'; id: number };

/** The subset of the worker scope (lib.webworker) this file uses. */
interface TransformerLike {
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
  readonly options: unknown;
}
interface WorkerScope {
  onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null;
  onrtctransform: ((ev: Event & { transformer: TransformerLike }) => void) | null;
  postMessage(msg: unknown): void;
}

const scope = self as unknown as WorkerScope;
const cryptor = new FrameCryptor();

scope.onmessage = (ev) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'key') {
    cryptor.setKey(m);
  } else if (m.type === 'stats') {
    scope.postMessage({ type: 'stats', id: m.id, counters: { ...cryptor.counters }, keyId: cryptor.currentKeyId });
  }
};

scope.onrtctransform = (ev) => {
  const t = ev.transformer;
  const o = (t.options ?? {}) as { side?: unknown; kind?: unknown };
  const side: Side = o.side === 'send' ? 'send' : 'recv';
  const kind: MediaKind = o.kind === 'audio' ? 'audio' : 'video';
  t.readable
    .pipeThrough(new TransformStream(frameTransformer(cryptor, side, kind)))
    .pipeTo(t.writable)
    .catch(() => undefined); // the sender/receiver went away
};
