// A stand-in for aegisd used by the SDK/demo tests: serves web/dist/ like
// aegisd does (same CSP), the demo UserSig endpoint, and /signal with the
// protocol of docs/SIGNALING.md (plus the SDK amendments: publish tracks[].mid,
// subscribe-offer tracks[], join ok users/heartbeat/timeout). Media is not
// handled here: an `sfu` object (a browser page with RTCPeerConnections in
// the tests) answers publish offers and builds subscribe offers.
//
// Messages are checked strictly (unknown fields -> bad_message, missing
// required ones -> missing_field) so the tests catch an SDK that drifts from
// the protocol.
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { randomBytes } from 'node:crypto';
import { acceptWebSocket } from './ws-server.mjs';

const CSP =
  "default-src 'self'; connect-src 'self' wss:; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; style-src 'self' 'unsafe-inline'";
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

const FIELDS = {
  join: { required: ['sdkAppId', 'userId', 'userSig', 'role'], optional: ['roomId', 'strRoomId', 'privateMapKey', 'sdkVersion', 'os'] },
  leave: { required: [], optional: [] },
  publish: { required: ['sdp', 'tracks'], optional: [] },
  unpublish: { required: ['trackIds'], optional: [] },
  subscribe: { required: ['offerId', 'sdp'], optional: [] },
  mute: { required: ['trackId', 'muted'], optional: [] },
  'ice-candidate': { required: ['pc', 'candidate'], optional: ['sdpMid', 'sdpMLineIndex'] },
  heartbeat: { required: [], optional: [] },
  resume: { required: ['sessionToken'], optional: [] },
};
const TRACK_FIELDS = ['trackId', 'kind', 'source', 'muted', 'mid'];

class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export async function startMockServer({ root, sfu, demoMode = true, heartbeatIntervalMs = 1000, sessionTimeoutMs = 20000 }) {
  const sessions = new Set(); // every joined session (attached or waiting for resume)
  const received = []; // every decoded request, for assertions
  const state = { demoMode };
  let nextOfferId = 1;

  const http = createServer((req, res) => serveHttp(req, res));
  http.on('upgrade', (req, socket) => {
    if (!req.url || !req.url.startsWith('/signal')) {
      socket.destroy();
      return;
    }
    const conn = acceptWebSocket(req, socket);
    if (conn) attach(conn);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = http.address().port;

  function serveHttp(req, res) {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/demo/usersig') {
      if (!state.demoMode) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"not found"}');
        return;
      }
      const userId = url.searchParams.get('userId') || '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sdkAppId: 1400000001, userId, userSig: `demo-sig-${userId}`, expireSeconds: 86400 }));
      return;
    }
    let path = url.pathname;
    if (path === '/demo' || path === '/demo/') path = '/demo/index.html';
    if (!path.startsWith('/sdk/') && !path.startsWith('/demo/')) {
      res.writeHead(404);
      res.end();
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403);
      res.end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      const headers = { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' };
      if (extname(file) === '.html') headers['content-security-policy'] = CSP;
      res.writeHead(200, headers);
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404);
      res.end();
    }
  }

  function attach(conn) {
    const ctx = { conn, session: null };
    conn.on('message', (text) => {
      void onMessage(ctx, text).catch((err) => console.error('mock-server:', err));
    });
    conn.on('close', () => {
      const s = ctx.session;
      if (s && s.conn === conn && sessions.has(s)) {
        s.conn = null;
        s.detachTimer = setTimeout(() => removeSession(s, 'timeout'), sessionTimeoutMs);
      }
    });
  }

  function send(s, msg) {
    if (s.conn) s.conn.send(JSON.stringify(msg));
  }

  function othersOf(s) {
    return [...sessions].filter((o) => o !== s && o.room === s.room);
  }

  function broadcast(s, msg) {
    for (const o of othersOf(s)) send(o, msg);
  }

  function publicTracks(s) {
    return [...s.tracks.values()].map(({ trackId, kind, source, muted }) => ({ trackId, kind, source, muted }));
  }

  async function onMessage(ctx, text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      ctx.conn.send(JSON.stringify({ type: 'error', id: null, code: 'bad_message', message: 'Not JSON.' }));
      return;
    }
    const id = msg && typeof msg === 'object' ? msg.id : undefined;
    const reply = (data) => ctx.conn.send(JSON.stringify(data === undefined ? { type: 'ok', id } : { type: 'ok', id, data }));
    try {
      if (!Number.isInteger(id) || id < 1 || id > 2 ** 31) throw new ProtocolError('invalid_field', 'Field `id` is invalid.');
      const spec = FIELDS[msg.type];
      if (!spec) throw new ProtocolError('unknown_type', 'Unknown type.');
      for (const k of Object.keys(msg)) {
        if (k !== 'id' && k !== 'type' && !spec.required.includes(k) && !spec.optional.includes(k)) {
          throw new ProtocolError('bad_message', `Unknown field \`${k}\`.`);
        }
      }
      for (const k of spec.required) if (!(k in msg)) throw new ProtocolError('missing_field', `Field \`${k}\` is missing.`);
      const ufrag = typeof msg.sdp === 'string' ? /a=ice-ufrag:(\S+)/.exec(msg.sdp)?.[1] : undefined;
      received.push({ ...msg, sdp: msg.sdp ? '<sdp>' : undefined, ufrag, userSig: undefined, from: ctx.session?.userId ?? msg.userId });
      if (msg.type === 'heartbeat') return reply();
      if (msg.type === 'join') return reply(await handleJoin(ctx, msg));
      if (msg.type === 'resume') return reply(handleResume(ctx, msg));
      const s = ctx.session;
      if (!s || s.conn !== ctx.conn) throw new ProtocolError('not_joined', 'Join first.');
      switch (msg.type) {
        case 'leave':
          reply();
          removeSession(s, 'left');
          ctx.conn.close();
          return;
        case 'publish':
          return reply(await handlePublish(s, msg));
        case 'unpublish':
          for (const trackId of msg.trackIds) {
            if (s.tracks.delete(trackId)) broadcast(s, { type: 'track-unpublished', userId: s.userId, trackId });
          }
          reply();
          updateOthers(s);
          return;
        case 'subscribe': {
          const out = s.outstanding;
          if (!out || out.offerId !== msg.offerId) throw new ProtocolError('stale_offer', 'Stale offer.');
          await sfu.answer(s.key, msg.sdp);
          s.outstanding = null;
          out.resolve();
          return reply();
        }
        case 'mute': {
          const t = s.tracks.get(msg.trackId);
          if (!t) throw new ProtocolError('unknown_track', 'Unknown track.');
          if (typeof msg.muted !== 'boolean') throw new ProtocolError('invalid_field', 'Field `muted` is invalid.');
          t.muted = msg.muted;
          broadcast(s, { type: msg.muted ? 'track-muted' : 'track-unmuted', userId: s.userId, trackId: msg.trackId });
          return reply();
        }
        case 'ice-candidate':
          throw new ProtocolError('bad_message', 'The SDK must not trickle candidates (ICE-lite server).');
        default:
          throw new ProtocolError('unknown_type', 'Unknown type.');
      }
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : 'internal';
      if (!(err instanceof ProtocolError)) console.error('mock-server:', err);
      ctx.conn.send(JSON.stringify({ type: 'error', id: Number.isInteger(id) ? id : null, code, message: err.message }));
    }
  }

  async function handleJoin(ctx, msg) {
    if (ctx.session) throw new ProtocolError('already_joined', 'Already joined.');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(msg.userId)) throw new ProtocolError('invalid_field', 'Field `userId` is invalid.');
    if (('roomId' in msg) === ('strRoomId' in msg)) throw new ProtocolError('invalid_field', 'Give one of roomId/strRoomId.');
    if (msg.role !== 'anchor' && msg.role !== 'audience') throw new ProtocolError('invalid_field', 'Field `role` is invalid.');
    if (msg.userSig === 'expired') throw new ProtocolError('usersig_expired', 'The UserSig has expired.');
    const room = `${msg.sdkAppId}/${'roomId' in msg ? `n${msg.roomId}` : `s${msg.strRoomId}`}`;
    for (const old of [...sessions]) {
      if (old.room === room && old.userId === msg.userId) {
        send(old, { type: 'kicked', reason: 'kicked_duplicate_login' });
        old.conn?.close();
        removeSession(old, 'kicked');
      }
    }
    const s = {
      key: `${msg.userId}#${randomBytes(4).toString('hex')}`,
      userId: msg.userId,
      role: msg.role,
      room,
      conn: ctx.conn,
      token: randomBytes(24).toString('base64url'),
      tracks: new Map(),
      outstanding: null,
      subBusy: false,
      subDirty: false,
      detachTimer: null,
    };
    ctx.session = s;
    const users = othersOf(s).map((o) => ({ userId: o.userId, role: o.role, tracks: publicTracks(o) }));
    sessions.add(s);
    broadcast(s, { type: 'user-joined', userId: s.userId, role: s.role });
    setTimeout(() => updateSubscription(s), 0);
    return { sessionToken: s.token, heartbeatIntervalMs, sessionTimeoutMs, users };
  }

  function handleResume(ctx, msg) {
    if (ctx.session) throw new ProtocolError('already_joined', 'Already joined.');
    const s = [...sessions].find((x) => x.token === msg.sessionToken);
    if (!s || s.conn) throw new ProtocolError('resume_failed', 'No session to resume.');
    clearTimeout(s.detachTimer);
    s.conn = ctx.conn;
    ctx.session = s;
    // A subscribe offer that went unanswered is offered again.
    if (s.outstanding) {
      const out = s.outstanding;
      s.outstanding = null;
      out.resolve();
      s.subDirty = true;
    }
    return {};
  }

  async function handlePublish(s, msg) {
    if (s.role !== 'anchor') throw new ProtocolError('not_allowed', 'Audience cannot publish.');
    if (!Array.isArray(msg.tracks) || msg.tracks.length === 0) throw new ProtocolError('invalid_field', 'Field `tracks` is invalid.');
    for (const t of msg.tracks) {
      for (const k of Object.keys(t)) if (!TRACK_FIELDS.includes(k)) throw new ProtocolError('bad_message', `Unknown field \`tracks[].${k}\`.`);
      if (typeof t.mid !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(t.mid)) {
        throw new ProtocolError('invalid_field', 'Field `tracks[].mid` is missing or invalid.');
      }
    }
    const answer = await sfu.publish(s.key, msg.sdp);
    const fresh = [];
    for (const t of msg.tracks) {
      const known = s.tracks.has(t.trackId);
      s.tracks.set(t.trackId, { trackId: t.trackId, kind: t.kind, source: t.source, muted: t.muted === true, mid: t.mid });
      if (!known) fresh.push(t.trackId);
    }
    setTimeout(() => {
      for (const trackId of fresh) {
        const { mid, ...track } = s.tracks.get(trackId) ?? {};
        if (mid) broadcast(s, { type: 'track-published', userId: s.userId, track });
      }
      updateOthers(s);
    }, 0);
    return { sdp: answer };
  }

  function updateOthers(s) {
    for (const o of othersOf(s)) void updateSubscription(o);
  }

  async function updateSubscription(s) {
    if (s.subBusy) {
      s.subDirty = true;
      return;
    }
    s.subBusy = true;
    try {
      do {
        s.subDirty = false;
        if (!sessions.has(s)) return;
        if (!s.conn) {
          s.subDirty = true; // offered again after resume
          return;
        }
        const wanted = [];
        for (const o of othersOf(s)) {
          for (const t of o.tracks.values()) {
            wanted.push({ key: `${o.key}/${t.trackId}`, pub: o.key, pubMid: t.mid, userId: o.userId, trackId: t.trackId, kind: t.kind, source: t.source });
          }
        }
        const { sdp, mids } = await sfu.offer(s.key, wanted);
        if (!sdp) continue;
        const offerId = nextOfferId++;
        const tracks = wanted
          .filter((w) => mids[w.key])
          .map((w) => ({ mid: mids[w.key], userId: w.userId, trackId: w.trackId, kind: w.kind, source: w.source }));
        const answered = new Promise((resolve) => {
          s.outstanding = { offerId, resolve };
        });
        send(s, { type: 'subscribe-offer', offerId, sdp, tracks });
        await Promise.race([answered, new Promise((r) => setTimeout(r, 10000))]);
      } while (s.subDirty);
    } finally {
      s.subBusy = false;
    }
  }

  function removeSession(s, reason) {
    if (!sessions.delete(s)) return;
    clearTimeout(s.detachTimer);
    s.outstanding?.resolve();
    broadcast(s, { type: 'user-left', userId: s.userId, reason });
    void sfu.drop(s.key);
    for (const o of [...sessions]) if (o.room === s.room) void updateSubscription(o);
  }

  const find = (userId) => [...sessions].find((s) => s.userId === userId);

  return {
    port,
    base: `http://127.0.0.1:${port}`,
    signalUrl: `ws://127.0.0.1:${port}/signal`,
    received,
    setDemoMode(on) {
      state.demoMode = on;
    },
    /** REST-like kick (RemoveUser). */
    kick(userId, reason = 'removed_by_api') {
      const s = find(userId);
      if (!s) return false;
      send(s, { type: 'kicked', reason });
      s.conn?.close();
      removeSession(s, 'kicked');
      return true;
    },
    dismiss() {
      for (const s of [...sessions]) {
        send(s, { type: 'room-dismissed' });
        s.conn?.close();
        sessions.delete(s);
        void sfu.drop(s.key);
      }
    },
    /** Drops a user's socket like a network failure; with forget, its session is gone too (resume fails). */
    drop(userId, { forget = false } = {}) {
      const s = find(userId);
      if (!s || !s.conn) return false;
      const conn = s.conn;
      if (forget) removeSession(s, 'timeout');
      conn.destroy();
      return true;
    },
    session: find,
    close() {
      for (const s of sessions) clearTimeout(s.detachTimer);
      http.closeAllConnections?.();
      return new Promise((resolve) => http.close(() => resolve()));
    },
  };
}
