// One signalling WebSocket: JSON request/response with integer ids, timeouts,
// and server events (docs/SIGNALING.md). Pending requests reject on an `error`
// reply, on timeout and when the socket closes.

import { AegisError } from './types.js';

/** A server event: any message without an id whose type is not ok/error. */
export interface ServerEvent {
  type: string;
  [field: string]: unknown;
}

interface Pending {
  type: string;
  resolve: (data: Record<string, unknown>) => void;
  reject: (err: AegisError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface SignalHandlers {
  onEvent: (event: ServerEvent) => void;
  /** Called once when the socket is gone (closed by either side, errored or aborted). */
  onClose: (code: number, reason: string) => void;
}

// Request ids are process-wide so that replies from a previous socket can
// never be confused with the current one.
let nextRequestId = 1;
function takeRequestId(): number {
  const id = nextRequestId;
  nextRequestId = nextRequestId >= 2 ** 31 ? 1 : nextRequestId + 1;
  return id;
}

export class SignalChannel {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** Rejects the pending open() when the channel is closed before it opened. */
  private openReject: ((err: AegisError) => void) | null = null;

  constructor(
    private readonly url: string,
    private readonly handlers: SignalHandlers,
    private readonly timeoutMs: number,
    private readonly debug: boolean,
  ) {}

  /** Opens the socket; rejects with `connection_failed` if it cannot be opened within the timeout. */
  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        this.closed = true;
        reject(new AegisError('connection_failed', `Cannot open ${this.url}: ${errText(err)}`));
        return;
      }
      this.ws = ws;
      // Fails the open attempt: the socket is dropped and open() rejects.
      const fail = (err: AegisError): void => {
        clearTimeout(timer);
        this.openReject = null;
        ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
        if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
          try {
            ws.close();
          } catch {
            /* ignore */
          }
        }
        this.closed = true;
        this.ws = null;
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new AegisError('connection_failed', `Timed out connecting to ${this.url}.`)),
        this.timeoutMs,
      );
      this.openReject = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      ws.onopen = () => {
        clearTimeout(timer);
        this.openReject = null;
        ws.onclose = (ev: CloseEvent) => this.finish(ev.code, ev.reason);
        resolve();
      };
      ws.onmessage = (ev: MessageEvent) => this.onMessage(ev);
      ws.onerror = () => {
        // A close event always follows; nothing to do here.
      };
      ws.onclose = (ev: CloseEvent) =>
        fail(
          new AegisError(
            'connection_failed',
            `Cannot connect to ${this.url} (WebSocket closed with code ${ev.code}).`,
          ),
        );
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a request and resolves with the `data` of the ok reply ({} when absent). */
  request(
    type: string,
    fields: Record<string, unknown> = {},
    timeoutMs = this.timeoutMs,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (this.closed || !ws || ws.readyState !== WebSocket.OPEN) {
        reject(new AegisError('connection_closed', `Cannot send '${type}': not connected.`));
        return;
      }
      const id = takeRequestId();
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) {
          reject(new AegisError('timeout', `No reply to '${type}' within ${timeoutMs} ms.`));
        }
      }, timeoutMs);
      this.pending.set(id, { type, resolve, reject, timer });
      const text = JSON.stringify({ ...fields, type, id });
      if (this.debug) console.debug('[aegis] >>', type, id);
      try {
        ws.send(text);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new AegisError('connection_closed', `Cannot send '${type}': ${errText(err)}`));
      }
    });
  }

  /** Closes the socket gracefully; pending requests reject with `connection_closed`. */
  close(): void {
    if (this.closed) return;
    const ws = this.ws;
    this.finish(1000, 'client closed', /*notify=*/ false);
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      try {
        ws.close(1000, 'bye');
      } catch {
        /* ignore */
      }
    }
  }

  /**
   * Drops the socket at once (e.g. heartbeat timeout on a half-open
   * connection) and reports it through onClose without waiting for the
   * closing handshake.
   */
  abort(reason = 'aborted'): void {
    if (this.closed) return;
    const ws = this.ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close(4000, reason);
      } catch {
        /* ignore */
      }
    }
    this.finish(1006, reason);
  }

  private finish(code: number, reason: string, notify = true): void {
    if (this.closed) return;
    this.closed = true;
    const openReject = this.openReject;
    this.openReject = null;
    if (openReject) {
      openReject(new AegisError('connection_closed', 'Connection closed while connecting.'));
      notify = false; // it never opened: open()'s rejection is the report
    }
    const ws = this.ws;
    if (ws) ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.ws = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new AegisError('connection_closed', `Connection closed before '${p.type}' was answered.`));
    }
    if (this.debug) console.debug('[aegis] socket closed', code, reason);
    if (notify) this.handlers.onClose(code, reason);
  }

  private onMessage(ev: MessageEvent): void {
    if (typeof ev.data !== 'string') return; // the protocol uses text frames only
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      console.warn('[aegis] ignoring a non-JSON signalling message');
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
    const m = msg as Record<string, unknown>;
    const type = m['type'];
    if (typeof type !== 'string') return;
    if (type === 'ok' || type === 'error') {
      const id = m['id'];
      const p = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (!p || typeof id !== 'number') {
        if (type === 'error') {
          console.warn('[aegis] unsolicited error from server:', m['code'], m['message']);
        }
        return;
      }
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (this.debug) console.debug('[aegis] <<', type, id, p.type);
      if (type === 'ok') {
        const data = m['data'];
        p.resolve(data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {});
      } else {
        const code = typeof m['code'] === 'string' ? m['code'] : 'unknown_error';
        const message = typeof m['message'] === 'string' ? m['message'] : `'${p.type}' failed (${code}).`;
        p.reject(new AegisError(code, message));
      }
      return;
    }
    if (this.debug) console.debug('[aegis] << event', type);
    this.handlers.onEvent(m as ServerEvent);
  }
}

export function errText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
