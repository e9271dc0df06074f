// The client: one signalling socket plus two peer connections (publish: the
// client offers; subscribe: the server offers), per docs/SIGNALING.md.

import { E2ee } from './e2ee.js';
import { Emitter } from './emitter.js';
import { RoomMessenger, type MessageData, type SendMessageOptions } from './messages.js';
import { ssrcsByMid } from './sdp.js';
import { RemoteVideoControls, resolveSimulcast, simulcastEncodings } from './simulcast.js';
import { SignalChannel, errText, type ServerEvent } from './signaling.js';
import {
  AegisError,
  type AegisClient,
  type AegisEventHandler,
  type AegisEventMap,
  type AegisEventName,
  type ClientOptions,
  type ClientStats,
  type ConnectionState,
  type JoinParams,
  type PublishOptions,
  type PublishScreenOptions,
  type RemoteVideoQuality,
  type SimulcastOptions,
  type RemoteTrackStats,
  type RemoteUser,
  type Role,
  type SetE2eeKeyOptions,
  type TrackKind,
  type TrackSource,
} from './types.js';

export const SDK_VERSION = '0.1.0';

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_RECONNECT_TIMEOUT_MS = 60_000;
const DEFAULT_HEARTBEAT_MS = 5_000;
const DEFAULT_SESSION_TIMEOUT_MS = 20_000;
const RECONNECT_FIRST_DELAY_MS = 500;
const RECONNECT_MAX_DELAY_MS = 8_000;
const LEAVE_TIMEOUT_MS = 3_000;

const USER_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;

type SessionState = 'idle' | 'joining' | 'joined' | 'reconnecting' | 'leaving';

/** What the server announced about a remote user's published track. */
interface TrackInfo {
  trackId: string;
  kind: TrackKind;
  source: TrackSource;
  muted: boolean;
}

interface UserState {
  userId: string;
  role: Role;
  tracks: Map<string, TrackInfo>;
}

/** A track listed in the current subscribe offer. */
interface OfferTrack {
  mid: string;
  userId: string;
  trackId: string;
  kind: TrackKind;
  source: TrackSource;
}

/** A listed track that is being received (`track-added` was emitted). */
interface ActiveTrack extends OfferTrack {
  track: MediaStreamTrack;
}

interface LocalTrack {
  trackId: 'mic' | 'cam' | 'screen';
  kind: TrackKind;
  source: TrackSource;
  track: MediaStreamTrack;
  /** The stream the sender is associated with (msid). */
  stream: MediaStream;
  transceiver: RTCRtpTransceiver | null;
  /** Mute state last sent to the server (null: unknown, must be re-sent). */
  sentMuted: boolean | null;
  /** Camera video: its simulcast layers (null: one stream). */
  simulcast?: SimulcastOptions | null;
}

const TRANSPORT_CODES = new Set(['connection_closed', 'connection_failed', 'timeout']);

function isTransportError(err: unknown): boolean {
  return err instanceof AegisError && TRANSPORT_CODES.has(err.code);
}

function toAegisError(err: unknown, fallbackCode: string): AegisError {
  if (err instanceof AegisError) return err;
  return new AegisError(fallbackCode, errText(err));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function asString(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function asRole(v: unknown): Role {
  return v === 'audience' ? 'audience' : 'anchor';
}

function asKind(v: unknown): TrackKind | null {
  return v === 'audio' || v === 'video' ? v : null;
}

function asSource(v: unknown, kind: TrackKind): TrackSource {
  if (v === 'camera' || v === 'microphone' || v === 'screen') return v;
  return kind === 'audio' ? 'microphone' : 'camera';
}

function parseTrackInfo(v: unknown): TrackInfo | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const trackId = asString(o['trackId']);
  const kind = asKind(o['kind']);
  if (!trackId || !kind) return null;
  return { trackId, kind, source: asSource(o['source'], kind), muted: o['muted'] === true };
}

function intInRange(v: unknown, lo: number, hi: number): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : null;
}

function osName(): string | null {
  if (typeof navigator === 'undefined') return null;
  const uaData = (navigator as Navigator & { userAgentData?: { platform?: string } }).userAgentData;
  const raw = uaData?.platform || navigator.platform || '';
  const clean = raw.replace(/[^\x20-\x7e]/g, '').trim().slice(0, 64);
  return clean.length > 0 ? clean : null;
}

function defaultServerUrl(): string {
  if (typeof location === 'undefined') return 'wss://127.0.0.1:8443/signal';
  return `wss://${location.host}/signal`;
}

export class Client implements AegisClient {
  private readonly emitter = new Emitter<AegisEventMap>();
  private readonly url: string;
  private readonly requestTimeoutMs: number;
  private readonly reconnectTimeoutMs: number;
  private readonly extraIceServers: RTCIceServer[];
  private readonly debug: boolean;
  private readonly simulcastOption: boolean | SimulcastOptions | undefined;
  private readonly videoControls: RemoteVideoControls;
  /** End-to-end encryption (R5), when created with `e2ee`; see e2ee.ts. */
  private readonly e2eeCtx: E2ee | null;

  private state: SessionState = 'idle';
  private connState: ConnectionState = 'disconnected';
  private signal: SignalChannel | null = null;
  private joinParams: JoinParams | null = null;
  private sessionToken: string | null = null;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private sessionTimeoutMs = DEFAULT_SESSION_TIMEOUT_MS;
  private serverIceServers: RTCIceServer[] = [];
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private heartbeatInFlight = false;
  /** Bumped whenever the session ends or a join starts: stale async work checks it. */
  private generation = 0;

  private readonly users = new Map<string, UserState>();

  // Publish side.
  private pubPc: RTCPeerConnection | null = null;
  /** Transceivers of the publish connection by trackId; reused when publishing again. */
  private readonly pubTransceivers = new Map<string, RTCRtpTransceiver>();
  private localTracks: LocalTrack[] = [];
  private pubChain: Promise<void> = Promise.resolve();
  private pubIceRestartWanted = false;
  private pendingUnpublish: string[] = [];
  private readonly localMuted: Record<TrackKind, boolean> = { audio: false, video: false };
  /** The published screen share (kept apart from the camera/microphone of `publish`). */
  private screen: LocalTrack | null = null;
  /** True when the SDK captured the screen track itself (and so stops it). */
  private screenOwned = false;
  private audience = 0;
  /** Room messages (data channels on the publish connection, see openMessaging). */
  private readonly messenger: RoomMessenger;
  /** Set by the first `on('message')` or `sendMessage`: the data channels are wanted. */
  private wantMessages = false;

  // Subscribe side.
  private subPc: RTCPeerConnection | null = null;
  private subChain: Promise<void> = Promise.resolve();
  /** Bumped when the subscribe connection is reset (re-join, teardown). */
  private subGeneration = 0;
  private offerTracks = new Map<string, OfferTrack>();
  private offerSsrcs = new Map<string, Set<number>>();
  private readonly active = new Map<string, ActiveTrack>();
  private readonly streamsByMid = new Map<string, MediaStream>();
  /** An answer that could not be sent because the socket was down; sent after resume. */
  private unsentAnswer: { subGen: number; offerId: number; sdp: string } | null = null;

  constructor(options: ClientOptions = {}) {
    this.url = options.server ?? defaultServerUrl();
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS;
    this.extraIceServers = options.iceServers ?? [];
    this.debug = options.debug ?? false;
    this.simulcastOption = options.simulcast;
    this.videoControls = new RemoteVideoControls((type, fields) => this.videoRequest(type, fields));
    this.messenger = new RoomMessenger(
      (userId, data) => this.emitter.emit('message', { userId, data }),
      (code, message) => this.emitter.emit('error', { code, message }),
      this.requestTimeoutMs,
    );
    this.e2eeCtx = options.e2ee
      ? new E2ee(options.e2ee, (message) => this.emitter.emit('error', { code: 'e2ee_error', message }))
      : null;
    this.messenger.setCipher(this.e2eeCtx);
  }

  // ---------------------------------------------------------------- public API

  get connectionState(): ConnectionState {
    return this.connState;
  }

  get joined(): boolean {
    return this.state === 'joined' || this.state === 'reconnecting';
  }

  get userId(): string | null {
    return this.state === 'idle' ? null : (this.joinParams?.userId ?? null);
  }

  get role(): Role | null {
    return this.state === 'idle' ? null : (this.joinParams?.role ?? 'anchor');
  }

  get audienceCount(): number {
    return this.audience;
  }

  get screenSharing(): boolean {
    return this.screen !== null;
  }

  get audioMuted(): boolean {
    return this.localMuted.audio;
  }

  get videoMuted(): boolean {
    return this.localMuted.video;
  }

  get e2ee(): boolean {
    return this.e2eeCtx !== null;
  }

  async setE2eeKey(key: Uint8Array | ArrayBuffer, keyId: number, options: SetE2eeKeyOptions = {}): Promise<void> {
    if (!this.e2eeCtx) throw new AegisError('invalid_state', 'This client was created without e2ee.');
    await this.e2eeCtx.setKey(key, keyId, options.activate ?? true);
  }

  on<K extends AegisEventName>(event: K, handler: AegisEventHandler<K>): void {
    this.emitter.on(event, handler);
    if (event === 'message' && !this.wantMessages) {
      this.wantMessages = true;
      if (this.state === 'joined') this.openMessaging();
    }
  }

  off<K extends AegisEventName>(event: K, handler?: AegisEventHandler<K>): void {
    this.emitter.off(event, handler);
  }

  once<K extends AegisEventName>(event: K, handler: AegisEventHandler<K>): void {
    this.emitter.once(event, handler);
  }

  async join(params: JoinParams): Promise<void> {
    if (this.state !== 'idle') {
      throw new AegisError('invalid_state', 'Already joined or joining; call leave() first.');
    }
    if (this.e2eeCtx?.mode === 'unsupported') {
      throw new AegisError('e2ee_unsupported', 'This browser supports no WebRTC encoded transform (needed for e2ee).');
    }
    this.joinParams = normalizeJoinParams(params);
    this.state = 'joining';
    const gen = ++this.generation;
    this.setConnState('connecting');
    try {
      const ch = await this.connectSignal();
      this.checkGeneration(gen, 'join');
      const data = await ch.request('join', this.joinFields());
      this.checkGeneration(gen, 'join');
      this.applySession(data);
      this.users.clear();
      this.mergeUserList(data['users'], false);
      this.setAudienceCount(data['audienceCount'], false);
      this.state = 'joined';
      this.setConnState('connected');
      this.startHeartbeat();
      this.log('joined');
      for (const u of this.users.values()) {
        this.emitter.emit('user-joined', { userId: u.userId, role: u.role });
      }
      this.openMessaging();
    } catch (err) {
      if (gen !== this.generation) {
        throw new AegisError('invalid_state', 'leave() was called during join().');
      }
      this.teardown();
      this.setConnState('disconnected');
      throw toAegisError(err, 'connection_failed');
    }
  }

  async setRemoteVideoQuality(userId: string, quality: RemoteVideoQuality): Promise<void> {
    this.requireJoined('setRemoteVideoQuality');
    await this.videoControls.setQuality(userId, quality);
  }

  async pauseRemoteVideo(userId: string): Promise<void> {
    this.requireJoined('pauseRemoteVideo');
    await this.videoControls.setPaused(userId, true);
  }

  async resumeRemoteVideo(userId: string): Promise<void> {
    this.requireJoined('resumeRemoteVideo');
    await this.videoControls.setPaused(userId, false);
  }

  /** Video control requests; while the socket is down they are re-sent after a re-join. */
  private async videoRequest(type: string, fields: Record<string, unknown>): Promise<void> {
    const ch = this.signal;
    if (!ch || !ch.isOpen || this.state !== 'joined') return; // kept; sent again on re-join
    await ch.request(type, fields);
  }

  async publish(stream: MediaStream, options: PublishOptions = {}): Promise<void> {
    this.requireJoined('publish');
    if (this.localTracks.length > 0) {
      throw new AegisError('invalid_state', 'Already publishing; call unpublish() first.');
    }
    if (typeof MediaStream === 'undefined' || !(stream instanceof MediaStream)) {
      throw new AegisError('invalid_argument', 'publish() needs a MediaStream.');
    }
    const audio = stream.getAudioTracks().find((t) => t.readyState === 'live');
    const video = stream.getVideoTracks().find((t) => t.readyState === 'live');
    if (!audio && !video) {
      throw new AegisError('invalid_argument', 'The stream has no live audio or video track.');
    }
    const tracks: LocalTrack[] = [];
    if (audio) {
      tracks.push({ trackId: 'mic', kind: 'audio', source: 'microphone', track: audio, stream, transceiver: null, sentMuted: null });
    }
    if (video) {
      tracks.push({
        trackId: 'cam',
        kind: 'video',
        source: 'camera',
        track: video,
        stream,
        transceiver: null,
        sentMuted: null,
        simulcast: resolveSimulcast(this.simulcastOption, options.simulcast),
      });
    }
    this.localTracks = tracks;
    try {
      await this.runPublishOp(() => this.publishTracks());
    } catch (err) {
      const e = toAegisError(err, 'media_error');
      if (this.localTracks === tracks) {
        this.localTracks = [];
        // The server may have accepted the offer before the socket dropped.
        if (isTransportError(e)) this.pendingUnpublish.push(...tracks.map((t) => t.trackId));
        await this.runPublishOp(() => this.detachUnlisted());
      }
      throw e;
    }
    // Catch up with mute changes made while the offer was in flight.
    for (const lt of this.localTracks) void this.syncMute(lt);
  }

  async unpublish(): Promise<void> {
    if (this.localTracks.length === 0) return;
    const ids = this.localTracks.map((t) => t.trackId);
    this.localTracks = [];
    await this.runPublishOp(async () => {
      // The connection stays (a later publish renegotiates it); it just stops sending.
      await this.detachUnlisted();
      if (!this.joined) return;
      await this.sendUnpublish(ids);
    });
  }

  async publishScreen(options: PublishScreenOptions = {}): Promise<void> {
    this.requireJoined('publishScreen');
    if (this.screen) {
      throw new AegisError('invalid_state', 'Already sharing the screen; call unpublishScreen() first.');
    }
    let track = options.track;
    let owned = false;
    if (track !== undefined) {
      if (typeof MediaStreamTrack === 'undefined' || !(track instanceof MediaStreamTrack) || track.kind !== 'video') {
        throw new AegisError('invalid_argument', 'publishScreen({ track }) needs a video MediaStreamTrack.');
      }
    } else {
      const md = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
      if (!md || typeof md.getDisplayMedia !== 'function') {
        throw new AegisError('media_error', 'This browser cannot capture the screen (no getDisplayMedia).');
      }
      let captured: MediaStream;
      try {
        captured = await md.getDisplayMedia({ video: true, audio: false });
      } catch (err) {
        throw new AegisError('media_error', `Screen capture refused: ${errText(err)}`);
      }
      track = captured.getVideoTracks()[0];
      for (const t of captured.getTracks()) if (t !== track) t.stop();
      if (!track) throw new AegisError('media_error', 'The screen capture has no video track.');
      owned = true;
      if (this.state !== 'joined' || this.screen) {
        // Left, or shared from another call, while the picker was open.
        track.stop();
        throw new AegisError('invalid_state', 'The client left or is already sharing.');
      }
    }
    if (track.readyState !== 'live') throw new AegisError('invalid_argument', 'The screen track has ended.');
    const lt: LocalTrack = {
      trackId: 'screen',
      kind: 'video',
      source: 'screen',
      track,
      stream: new MediaStream([track]),
      transceiver: null,
      sentMuted: null,
    };
    this.screen = lt;
    this.screenOwned = owned;
    // The browser's own "Stop sharing" ends the track: stop publishing it too.
    track.addEventListener('ended', () => {
      if (this.screen === lt) void this.unpublishScreen().catch(() => undefined);
    });
    try {
      await this.runPublishOp(() => this.publishTracks());
    } catch (err) {
      const e = toAegisError(err, 'media_error');
      if (this.screen === lt) {
        this.screen = null;
        if (owned) track.stop();
        if (isTransportError(e)) this.pendingUnpublish.push('screen');
        await this.runPublishOp(() => this.detachUnlisted());
      }
      throw e;
    }
  }

  async unpublishScreen(): Promise<void> {
    const lt = this.screen;
    if (!lt) return;
    const owned = this.screenOwned;
    this.screen = null;
    this.screenOwned = false;
    await this.runPublishOp(async () => {
      await this.detachUnlisted();
      if (owned) lt.track.stop();
      if (!this.joined) return;
      await this.sendUnpublish([lt.trackId]);
    });
  }

  async switchRole(role: Role): Promise<void> {
    if (role !== 'anchor' && role !== 'audience') {
      throw new AegisError('invalid_argument', "role must be 'anchor' or 'audience'.");
    }
    this.requireJoined('switchRole');
    const gen = this.generation;
    // Serialized with publish operations, so no offer races the role change.
    await this.runPublishOp(async () => {
      const ch = this.signal;
      if (gen !== this.generation) throw new AegisError('invalid_state', 'The session ended.');
      if (!ch || !ch.isOpen || this.state !== 'joined') {
        throw new AegisError('connection_closed', 'Cannot switch role while reconnecting; try again later.');
      }
      await ch.request('switch-role', { role });
      if (gen !== this.generation || !this.joinParams) return;
      this.joinParams.role = role; // a re-join after a reconnect keeps it
      this.log('role', role);
      if (role === 'audience') {
        // The server unpublished everything this client sent; stop sending.
        const screen = this.screen;
        const owned = this.screenOwned;
        this.localTracks = [];
        this.screen = null;
        this.screenOwned = false;
        this.pendingUnpublish = [];
        await this.detachUnlisted();
        if (screen && owned) screen.track.stop();
      }
    });
  }

  async sendMessage(data: MessageData, options: SendMessageOptions = {}): Promise<void> {
    this.requireJoined('sendMessage');
    if (!this.wantMessages) {
      this.wantMessages = true;
      this.openMessaging();
    }
    return this.messenger.send(data, options);
  }

  /**
   * Room messages ride data channels on the publish connection, which exists
   * even when nothing is published (audience): once messages are wanted (first
   * `on('message')` or `sendMessage`) and joined, a data-only publish
   * connection is negotiated, or the existing one renegotiated with the
   * channels added. Later publishes renegotiate the same connection.
   */
  private openMessaging(): void {
    if (!this.wantMessages) return;
    const gen = this.generation;
    void this.runPublishOp(async () => {
      if (gen !== this.generation || this.state !== 'joined' || this.messenger.attached) return;
      const existing = this.pubPc;
      const pc = existing ?? this.ensurePublishPc();
      if (existing) this.messenger.attach(pc);
      try {
        await this.negotiatePublish(pc, false);
      } catch (err) {
        if (!existing && this.pubPc === pc) this.closePublishPc();
        const e = toAegisError(err, 'media_error');
        this.emitter.emit('error', { code: e.code, message: `Room messages unavailable: ${e.message}` });
      }
    });
  }

  private onAudioEvent(ev: ServerEvent): void {
    if (ev.type === 'active-speaker') {
      const userId = asString(ev['userId']);
      if (userId) this.emitter.emit('active-speaker', { userId });
      return;
    }
    const list = Array.isArray(ev['volumes']) ? (ev['volumes'] as unknown[]) : [];
    const volumes: Array<{ userId: string; volume: number }> = [];
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const rec = item as Record<string, unknown>;
      const userId = asString(rec['userId']);
      const volume = rec['volume'];
      if (userId && typeof volume === 'number') volumes.push({ userId, volume });
    }
    if (volumes.length > 0) this.emitter.emit('volume', { volumes });
  }

  async leave(): Promise<void> {
    if (this.state === 'idle' || this.state === 'leaving') return;
    const wasJoined = this.state === 'joined';
    const ch = this.signal;
    this.state = 'leaving';
    this.generation++;
    this.stopHeartbeat();
    if (wasJoined && ch?.isOpen) {
      try {
        await ch.request('leave', {}, LEAVE_TIMEOUT_MS);
      } catch (err) {
        this.log('leave request failed:', errText(err));
      }
    }
    this.teardown();
    this.setConnState('disconnected');
  }

  muteAudio(): Promise<void> {
    return this.setMuted('audio', true);
  }

  unmuteAudio(): Promise<void> {
    return this.setMuted('audio', false);
  }

  muteVideo(): Promise<void> {
    return this.setMuted('video', true);
  }

  unmuteVideo(): Promise<void> {
    return this.setMuted('video', false);
  }

  remoteUsers(): RemoteUser[] {
    const out: RemoteUser[] = [];
    for (const u of this.users.values()) {
      const tracks = [...u.tracks.values()].map((t) => {
        const received = this.findActive(u.userId, t.trackId);
        return received ? { ...t, track: received.track } : { ...t };
      });
      const audio = tracks.filter((t) => t.kind === 'audio');
      const video = tracks.filter((t) => t.kind === 'video');
      out.push({
        userId: u.userId,
        role: u.role,
        tracks,
        audioMuted: audio.length > 0 && audio.every((t) => t.muted),
        videoMuted: video.length > 0 && video.every((t) => t.muted),
      });
    }
    return out;
  }

  async getStats(): Promise<ClientStats> {
    const pubPc = this.pubPc;
    const subPc = this.subPc;
    const [publish, subscribe] = await Promise.all([
      pubPc ? pubPc.getStats().catch(() => null) : Promise.resolve(null),
      subPc ? subPc.getStats().catch(() => null) : Promise.resolve(null),
    ]);
    const remoteTracks: RemoteTrackStats[] = [];
    if (subscribe && subPc === this.subPc) {
      subscribe.forEach((raw: unknown) => {
        const s = raw as Record<string, unknown>;
        if (s['type'] !== 'inbound-rtp') return;
        const mid = this.attributeInbound(s);
        // Only tracks being received count (not those already unpublished).
        const ref = mid === null ? undefined : this.active.get(mid);
        if (!ref) return;
        const num = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
        const entry: RemoteTrackStats = {
          userId: ref.userId,
          trackId: ref.trackId,
          kind: ref.kind,
          source: ref.source,
          mid: ref.mid,
          packetsReceived: num('packetsReceived'),
          packetsLost: num('packetsLost'),
          bytesReceived: num('bytesReceived'),
          framesDecoded: num('framesDecoded'),
        };
        if (typeof s['frameWidth'] === 'number') entry.frameWidth = s['frameWidth'];
        if (typeof s['frameHeight'] === 'number') entry.frameHeight = s['frameHeight'];
        if (typeof s['jitter'] === 'number') entry.jitter = s['jitter'];
        remoteTracks.push(entry);
      });
    }
    const out: ClientStats = { publish, subscribe, remoteTracks };
    if (this.e2eeCtx) out.e2ee = await this.e2eeCtx.stats();
    return out;
  }

  // --------------------------------------------------------------- signalling

  private async connectSignal(): Promise<SignalChannel> {
    const ch: SignalChannel = new SignalChannel(
      this.url,
      {
        onEvent: (ev) => {
          if (this.signal === ch) this.onServerEvent(ev);
        },
        onClose: (code, reason) => {
          if (this.signal === ch) this.onSocketLost(code, reason);
        },
      },
      this.requestTimeoutMs,
      this.debug,
    );
    this.signal = ch;
    await ch.open();
    return ch;
  }

  private joinFields(): Record<string, unknown> {
    const p = this.joinParams;
    if (!p) throw new AegisError('invalid_state', 'No join parameters.');
    const f: Record<string, unknown> = {
      sdkAppId: p.sdkAppId,
      userId: p.userId,
      userSig: p.userSig,
      role: p.role ?? 'anchor',
      sdkVersion: `aegis-web/${SDK_VERSION}`,
    };
    if (p.roomId !== undefined) f['roomId'] = p.roomId;
    if (p.strRoomId !== undefined) f['strRoomId'] = p.strRoomId;
    if (p.privateMapKey) f['privateMapKey'] = p.privateMapKey;
    if (this.e2eeCtx) f['e2ee'] = true; // the flag only; the key never leaves the page
    const os = osName();
    if (os) f['os'] = os;
    return f;
  }

  /** Applies a `join` ok payload: token, timers, ICE servers (not the user list). */
  private applySession(data: Record<string, unknown>): void {
    this.sessionToken = asString(data['sessionToken']);
    this.heartbeatMs = intInRange(data['heartbeatIntervalMs'], 500, 600_000) ?? DEFAULT_HEARTBEAT_MS;
    this.sessionTimeoutMs = intInRange(data['sessionTimeoutMs'], 1_000, 3_600_000) ?? DEFAULT_SESSION_TIMEOUT_MS;
    const ice = data['iceServers'];
    this.serverIceServers = Array.isArray(ice)
      ? ice.filter((s): s is RTCIceServer => !!s && typeof s === 'object' && 'urls' in s)
      : [];
  }

  /**
   * Replaces the user list with `list` (a `users` array from join/resume).
   * With `emit`, differences are reported as events.
   */
  private mergeUserList(list: unknown, emit: boolean): void {
    if (!Array.isArray(list)) return;
    const seen = new Set<string>();
    const self = this.joinParams?.userId;
    for (const item of list) {
      if (!item || typeof item !== 'object') continue;
      const o = item as Record<string, unknown>;
      const userId = asString(o['userId']);
      if (!userId || userId === self) continue;
      seen.add(userId);
      const tracks = new Map<string, TrackInfo>();
      if (Array.isArray(o['tracks'])) {
        for (const t of o['tracks']) {
          const info = parseTrackInfo(t);
          if (info) tracks.set(info.trackId, info);
        }
      }
      const existing = this.users.get(userId);
      const role = asRole(o['role']);
      if (!existing) {
        this.users.set(userId, { userId, role, tracks });
        if (emit) this.emitter.emit('user-joined', { userId, role });
        continue;
      }
      existing.role = role;
      if (emit) {
        for (const [trackId, info] of tracks) {
          const old = existing.tracks.get(trackId);
          if (old && old.muted !== info.muted) {
            this.emitter.emit(info.muted ? 'track-muted' : 'track-unmuted', { userId, trackId });
          }
        }
        for (const trackId of existing.tracks.keys()) {
          if (!tracks.has(trackId)) this.removeActive(userId, trackId);
        }
      }
      existing.tracks = tracks;
    }
    if (emit) {
      for (const userId of [...this.users.keys()]) {
        if (!seen.has(userId)) this.removeUser(userId, 'left');
      }
    }
  }

  private onServerEvent(ev: ServerEvent): void {
    if (this.state === 'idle' || this.state === 'leaving') return;
    if (ev.type === 'volume' || ev.type === 'active-speaker') {
      this.onAudioEvent(ev); // about the local user too
      return;
    }
    const self = this.joinParams?.userId;
    const userId = asString(ev['userId']);
    if (userId !== null && userId === self) return; // events about ourselves carry nothing new
    switch (ev.type) {
      case 'user-joined': {
        if (!userId) return;
        const role = asRole(ev['role']);
        const u = this.users.get(userId);
        if (u) {
          u.role = role;
          return;
        }
        this.users.set(userId, { userId, role, tracks: new Map() });
        this.emitter.emit('user-joined', { userId, role });
        return;
      }
      case 'user-left': {
        if (!userId) return;
        this.removeUser(userId, asString(ev['reason']) ?? 'left');
        return;
      }
      case 'user-role-changed': {
        const u = userId ? this.users.get(userId) : undefined;
        if (!u) return;
        u.role = asRole(ev['role']);
        this.emitter.emit('user-role-changed', { userId: u.userId, role: u.role });
        return;
      }
      case 'audience-count':
        this.setAudienceCount(ev['count'], true);
        return;
      case 'track-published': {
        const info = parseTrackInfo(ev['track']);
        if (!userId || !info) return;
        this.ensureUser(userId).tracks.set(info.trackId, info);
        return;
      }
      case 'track-unpublished': {
        const trackId = asString(ev['trackId']);
        if (!userId || !trackId) return;
        this.users.get(userId)?.tracks.delete(trackId);
        this.removeActive(userId, trackId);
        return;
      }
      case 'track-muted':
      case 'track-unmuted': {
        const trackId = asString(ev['trackId']);
        if (!userId || !trackId) return;
        const muted = ev.type === 'track-muted';
        const info = this.users.get(userId)?.tracks.get(trackId);
        if (info) info.muted = muted;
        this.emitter.emit(ev.type, { userId, trackId });
        return;
      }
      case 'subscribe-offer':
        this.enqueueOffer(ev);
        return;
      case 'kicked': {
        const reason = asString(ev['reason']) ?? 'removed_by_api';
        this.log('kicked:', reason);
        this.teardown();
        this.emitter.emit('kicked', { reason });
        this.setConnState('disconnected');
        return;
      }
      case 'room-dismissed':
        this.log('room dismissed');
        this.teardown();
        this.emitter.emit('room-dismissed', undefined);
        this.setConnState('disconnected');
        return;
      default:
        this.log('ignoring unknown event', ev.type);
    }
  }

  private setAudienceCount(v: unknown, emit: boolean): void {
    const count = intInRange(v, 0, 1_000_000_000);
    if (count === null || count === this.audience) return;
    this.audience = count;
    if (emit) this.emitter.emit('audience-count', { count });
  }

  private ensureUser(userId: string): UserState {
    let u = this.users.get(userId);
    if (!u) {
      u = { userId, role: 'anchor', tracks: new Map() };
      this.users.set(userId, u);
      this.emitter.emit('user-joined', { userId, role: u.role });
    }
    return u;
  }

  private removeUser(userId: string, reason: string): void {
    for (const a of [...this.active.values()]) {
      if (a.userId === userId) this.removeActive(userId, a.trackId);
    }
    if (this.users.delete(userId)) this.emitter.emit('user-left', { userId, reason });
  }

  // ---------------------------------------------------- heartbeat & reconnect

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.heartbeatInFlight = false;
  }

  private beat(): void {
    const ch = this.signal;
    if (!ch || !ch.isOpen || this.heartbeatInFlight || this.state !== 'joined') return;
    this.heartbeatInFlight = true;
    const timeout = Math.min(this.requestTimeoutMs, Math.max(1_000, Math.floor(this.sessionTimeoutMs / 2)));
    ch.request('heartbeat', {}, timeout)
      .then(
        () => undefined,
        (err: unknown) => {
          if (this.signal !== ch) return;
          if (err instanceof AegisError && err.code === 'timeout') {
            this.log('heartbeat timed out; dropping the socket');
            ch.abort('heartbeat timeout');
          } else if (err instanceof AegisError && err.code === 'not_joined') {
            this.forceRejoin('the server no longer knows this session');
          }
        },
      )
      .finally(() => {
        if (this.signal === ch) this.heartbeatInFlight = false;
      });
  }

  /**
   * Starts a new session: drops the socket and the session token, so the
   * reconnect logic joins again, resets the subscribe connection and publishes
   * again on a new publish connection.
   */
  private forceRejoin(why: string): void {
    const ch = this.signal;
    if (this.state !== 'joined' || !ch) return;
    this.log('re-joining:', why);
    this.sessionToken = null;
    ch.abort(why);
  }

  private onSocketLost(code: number, reason: string): void {
    this.signal = null;
    this.stopHeartbeat();
    if (this.state !== 'joined') return; // join()/leave()/reconnect handle their own sockets
    this.log(`socket lost (${code} ${reason}); reconnecting`);
    this.state = 'reconnecting';
    this.setConnState('reconnecting');
    void this.reconnect(this.generation);
  }

  private async reconnect(gen: number): Promise<void> {
    const droppedAt = Date.now();
    const deadline = droppedAt + this.reconnectTimeoutMs;
    let delay = RECONNECT_FIRST_DELAY_MS;
    let lastError: AegisError | null = null;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        await sleep(delay + Math.floor(Math.random() * 250));
        delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
      }
      if (gen !== this.generation || this.state !== 'reconnecting') return;
      if (Date.now() > deadline) break;
      let ch: SignalChannel;
      try {
        ch = await this.connectSignal();
      } catch (err) {
        lastError = toAegisError(err, 'connection_failed');
        continue;
      }
      if (gen !== this.generation || this.state !== 'reconnecting') {
        ch.close();
        return;
      }
      try {
        let resumed = false;
        const token = this.sessionToken;
        if (token && Date.now() - droppedAt < this.sessionTimeoutMs) {
          try {
            const data = await ch.request('resume', { sessionToken: token });
            if (gen !== this.generation) return;
            this.mergeUserList(data['users'], true);
            this.setAudienceCount(data['audienceCount'], true);
            resumed = true;
            this.log('session resumed');
          } catch (err) {
            if (isTransportError(err)) throw err;
            this.log('resume refused:', errText(err), '- joining again');
          }
        }
        if (!resumed) {
          const data = await ch.request('join', this.joinFields());
          if (gen !== this.generation) return;
          this.onRejoined(data);
        }
        this.state = 'joined';
        this.setConnState('connected');
        this.startHeartbeat();
        this.afterReconnect(resumed);
        return;
      } catch (err) {
        if (gen !== this.generation) return;
        const e = toAegisError(err, 'connection_failed');
        if (isTransportError(e)) {
          lastError = e;
          if (this.signal === ch) this.signal = null;
          ch.close();
          continue;
        }
        // The server refused the re-join (e.g. usersig_expired): give up.
        this.giveUp(e);
        return;
      }
    }
    this.giveUp(
      new AegisError(
        'reconnect_failed',
        `Could not reconnect within ${this.reconnectTimeoutMs} ms` +
          (lastError ? ` (last error: ${lastError.message})` : '.'),
      ),
    );
  }

  /** A new session replaced the old one: reset the subscribe side, reconcile users. */
  private onRejoined(data: Record<string, unknown>): void {
    this.log('joined again with a new session');
    this.resetSubscribe();
    this.applySession(data);
    const list = data['users'];
    this.mergeUserList(Array.isArray(list) ? list : [], true);
    this.setAudienceCount(data['audienceCount'], true);
  }

  private afterReconnect(resumed: boolean): void {
    if (!resumed) {
      // The old session (and its published tracks) is gone: publish again.
      this.pendingUnpublish = [];
      this.republish();
      this.openMessaging();
      // The new session starts with default video controls.
      void this.videoControls.resend().catch(() => undefined);
      return;
    }
    if (this.subPc?.iceConnectionState === 'failed') {
      // Its ICE failed while the socket was down: only a new session recovers it.
      this.forceRejoin('subscribe connection ICE failed');
      return;
    }
    if (this.pendingUnpublish.length > 0) {
      const ids = this.pendingUnpublish;
      this.pendingUnpublish = [];
      void this.runPublishOp(() => this.sendUnpublish(ids));
    }
    for (const lt of this.localTracks) void this.syncMute(lt);
    const answer = this.unsentAnswer;
    if (answer && answer.subGen === this.subGeneration) {
      const { subGen, offerId, sdp } = answer;
      this.subChain = this.subChain
        .then(() => (this.unsentAnswer === answer ? this.sendAnswer(subGen, offerId, sdp) : undefined))
        .catch((err: unknown) => {
          const e = toAegisError(err, 'media_error');
          this.emitter.emit('error', { code: e.code, message: `Subscribe offer ${offerId}: ${e.message}` });
        });
    }
    const pc = this.pubPc;
    if (pc && (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'disconnected')) {
      this.pubIceRestartWanted = true;
    }
    this.tryPublishIceRestart();
  }

  private giveUp(err: AegisError): void {
    this.log('giving up:', err.code, err.message);
    this.teardown();
    this.emitter.emit('error', { code: err.code, message: err.message });
    this.setConnState('disconnected');
  }

  // ------------------------------------------------------------------ publish

  private runPublishOp(op: () => Promise<void>): Promise<void> {
    const p = this.pubChain.then(op, op);
    this.pubChain = p.catch(() => undefined);
    return p;
  }

  private pcConfig(): RTCConfiguration {
    const config: RTCConfiguration & { encodedInsertableStreams?: boolean } = {
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      iceServers: [...this.extraIceServers, ...this.serverIceServers],
    };
    // The createEncodedStreams fallback of e2ee only works when asked for up front.
    if (this.e2eeCtx?.insertableStreams) config.encodedInsertableStreams = true;
    return config;
  }

  private ensurePublishPc(): RTCPeerConnection {
    if (this.pubPc) return this.pubPc;
    const pc = new RTCPeerConnection(this.pcConfig());
    this.pubPc = pc;
    this.pubTransceivers.clear();
    // Before the first offer, so it carries m=application.
    if (this.wantMessages) this.messenger.attach(pc);
    pc.oniceconnectionstatechange = () => {
      if (this.pubPc !== pc) return;
      this.log('publish ICE', pc.iceConnectionState);
      if (pc.iceConnectionState === 'failed') {
        this.pubIceRestartWanted = true;
        this.tryPublishIceRestart();
      }
    };
    return pc;
  }

  private closePublishPc(): void {
    this.messenger.detach();
    this.pubPc?.close();
    this.pubPc = null;
    this.pubTransceivers.clear();
    this.pubIceRestartWanted = false;
  }

  /**
   * Puts `localTracks` and the screen share on the publish connection (reusing
   * the transceiver of the same trackId, so its mid stays) and negotiates. On
   * failure a connection that never completed a negotiation is closed (the
   * next publish starts a new one); an established one is kept (the offer was
   * rolled back) and the caller detaches the refused tracks.
   */
  private async publishTracks(): Promise<void> {
    const tracks = this.allTracks();
    if (tracks.length === 0) return;
    const pc = this.ensurePublishPc();
    // A renegotiation of a working connection that fails (e.g. a screen share
    // the server refuses) must not take the tracks already flowing with it.
    const established = pc.remoteDescription !== null;
    try {
      for (const lt of tracks) {
        lt.track.enabled = !this.mutedOf(lt);
        lt.sentMuted = null;
        let tr = this.pubTransceivers.get(lt.trackId);
        if (tr) {
          await tr.sender.replaceTrack(lt.track);
          tr.sender.setStreams?.(lt.stream);
          tr.direction = 'sendonly';
        } else {
          const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams: [lt.stream] };
          // Simulcast layers can only be set when the transceiver is created.
          if (lt.simulcast) init.sendEncodings = simulcastEncodings(lt.simulcast);
          tr = pc.addTransceiver(lt.track, init);
          this.pubTransceivers.set(lt.trackId, tr);
        }
        this.e2eeCtx?.attachSender(tr.sender, lt.kind);
        lt.transceiver = tr;
      }
      for (const [trackId, tr] of this.pubTransceivers) {
        if (tracks.some((lt) => lt.trackId === trackId)) continue;
        tr.direction = 'inactive';
        await tr.sender.replaceTrack(null);
      }
      await this.negotiatePublish(pc, this.pubIceRestartWanted);
      this.pubIceRestartWanted = false;
    } catch (err) {
      if (this.pubPc !== pc) pc.close();
      else if (!established) this.closePublishPc();
      throw toAegisError(err, 'media_error');
    }
  }

  /** Camera/microphone of `publish` plus the screen share. */
  private allTracks(): LocalTrack[] {
    return this.screen ? [...this.localTracks, this.screen] : [...this.localTracks];
  }

  /** The mute helpers apply to the camera and microphone, never to the screen share. */
  private mutedOf(lt: LocalTrack): boolean {
    return lt.source === 'screen' ? false : this.localMuted[lt.kind];
  }

  /** Stops the senders of transceivers whose track is no longer published. */
  private async detachUnlisted(): Promise<void> {
    const listed = new Set<string>(this.allTracks().map((lt) => lt.trackId));
    for (const [trackId, tr] of this.pubTransceivers) {
      if (listed.has(trackId)) continue;
      try {
        await tr.sender.replaceTrack(null);
      } catch {
        /* closed */
      }
    }
  }

  /** Offer → `publish` → answer on the publish connection. */
  private async negotiatePublish(pc: RTCPeerConnection, iceRestart: boolean): Promise<void> {
    const ch = this.signal;
    if (!ch || !ch.isOpen) throw new AegisError('connection_closed', 'Not connected.');
    let offer: RTCSessionDescriptionInit;
    try {
      offer = await pc.createOffer(iceRestart ? { iceRestart: true } : {});
      await pc.setLocalDescription(offer);
    } catch (err) {
      throw new AegisError('media_error', `Cannot create the publish offer: ${errText(err)}`);
    }
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
    const local = this.allTracks();
    const tracks = local.map((lt) => {
      const t: Record<string, unknown> = {
        trackId: lt.trackId,
        kind: lt.kind,
        source: lt.source,
        muted: this.mutedOf(lt),
      };
      const mid = lt.transceiver?.mid;
      if (mid) t['mid'] = mid;
      return t;
    });
    const sent = local.map((lt) => [lt, this.mutedOf(lt)] as const);
    let data: Record<string, unknown>;
    try {
      data = await ch.request('publish', { sdp, tracks });
    } catch (err) {
      await rollback(pc);
      throw err;
    }
    const answer = data['sdp'];
    if (typeof answer !== 'string' || answer.length === 0) {
      await rollback(pc);
      throw new AegisError('bad_reply', 'The publish reply carries no SDP answer.');
    }
    if (this.pubPc !== pc) return; // closed meanwhile
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (err) {
      await rollback(pc);
      throw new AegisError('media_error', `Cannot apply the publish answer: ${errText(err)}`);
    }
    for (const [lt, muted] of sent) lt.sentMuted = muted;
  }

  private tryPublishIceRestart(): void {
    const pc = this.pubPc;
    // With nothing published there is no `publish` to send: the next publish restarts ICE.
    if (!this.pubIceRestartWanted || !pc || this.allTracks().length === 0) return;
    if (this.state !== 'joined' || !this.signal?.isOpen) return;
    this.pubIceRestartWanted = false;
    this.log('restarting ICE on the publish connection');
    void this.runPublishOp(async () => {
      if (this.pubPc !== pc || pc.signalingState === 'closed' || this.allTracks().length === 0) return;
      try {
        await this.negotiatePublish(pc, true);
      } catch (err) {
        if (isTransportError(err)) {
          this.pubIceRestartWanted = true; // retried after the reconnect
          return;
        }
        const e = toAegisError(err, 'media_error');
        this.emitter.emit('error', { code: e.code, message: `ICE restart failed: ${e.message}` });
      }
    });
  }

  private republish(): void {
    // The old session's publish transport is gone on the server.
    this.closePublishPc();
    if (this.allTracks().length === 0) return;
    const tracks = this.localTracks;
    const screen = this.screen;
    this.runPublishOp(() => this.publishTracks()).then(
      () => {
        for (const lt of this.localTracks) void this.syncMute(lt);
      },
      (err: unknown) => {
        const e = toAegisError(err, 'media_error');
        if (this.localTracks === tracks) {
          this.localTracks = [];
        }
        if (screen && this.screen === screen) {
          if (this.screenOwned) screen.track.stop();
          this.screen = null;
          this.screenOwned = false;
        }
        this.emitter.emit('error', { code: e.code, message: `Re-publishing after reconnect failed: ${e.message}` });
      },
    );
  }

  private async sendUnpublish(ids: string[]): Promise<void> {
    const ch = this.signal;
    if (!ch || !ch.isOpen || this.state !== 'joined') {
      this.pendingUnpublish.push(...ids);
      return;
    }
    try {
      await ch.request('unpublish', { trackIds: ids });
    } catch (err) {
      if (isTransportError(err)) {
        this.pendingUnpublish.push(...ids);
        return;
      }
      if (err instanceof AegisError && err.code === 'unknown_track') return;
      throw err;
    }
  }

  private async setMuted(kind: TrackKind, muted: boolean): Promise<void> {
    this.localMuted[kind] = muted;
    for (const lt of this.localTracks) if (lt.kind === kind) lt.track.enabled = !muted;
    const lt = this.localTracks.find((t) => t.kind === kind);
    if (lt) await this.syncMute(lt);
  }

  /** Sends the local mute state of `lt` when the server may not have it. */
  private async syncMute(lt: LocalTrack): Promise<void> {
    const want = this.localMuted[lt.kind];
    if (lt.sentMuted === want || !this.localTracks.includes(lt)) return;
    if (lt.sentMuted === null && !this.pubPc?.remoteDescription) return; // sent with publish
    const ch = this.signal;
    if (!ch || !ch.isOpen || this.state !== 'joined') return; // re-synced after reconnecting
    lt.sentMuted = want;
    try {
      await ch.request('mute', { trackId: lt.trackId, muted: want });
    } catch (err) {
      if (lt.sentMuted === want) lt.sentMuted = null;
      if (isTransportError(err)) return;
      const e = toAegisError(err, 'internal');
      this.emitter.emit('error', { code: e.code, message: `mute ${lt.trackId} failed: ${e.message}` });
    }
  }

  // ---------------------------------------------------------------- subscribe

  private enqueueOffer(ev: ServerEvent): void {
    const offerId = intInRange(ev['offerId'], 1, 2 ** 31);
    const sdp = asString(ev['sdp']);
    if (offerId === null || sdp === null) {
      this.emitter.emit('error', { code: 'bad_message', message: 'Malformed subscribe-offer event.' });
      return;
    }
    const listed: OfferTrack[] = [];
    if (Array.isArray(ev['tracks'])) {
      for (const item of ev['tracks']) {
        if (!item || typeof item !== 'object') continue;
        const o = item as Record<string, unknown>;
        const mid = asString(o['mid']);
        const userId = asString(o['userId']);
        const trackId = asString(o['trackId']);
        const kind = asKind(o['kind']);
        if (!mid || !userId || !trackId || !kind || !TOKEN_RE.test(mid)) continue;
        listed.push({ mid, userId, trackId, kind, source: asSource(o['source'], kind) });
      }
    }
    const subGen = this.subGeneration;
    this.subChain = this.subChain
      .then(() => this.handleOffer(subGen, offerId, sdp, listed))
      .catch((err: unknown) => {
        if (subGen !== this.subGeneration) return;
        const e = toAegisError(err, 'media_error');
        this.emitter.emit('error', { code: e.code, message: `Subscribe offer ${offerId}: ${e.message}` });
      });
  }

  private ensureSubPc(): RTCPeerConnection {
    if (this.subPc) return this.subPc;
    const pc = new RTCPeerConnection(this.pcConfig());
    this.subPc = pc;
    pc.ontrack = (ev: RTCTrackEvent) => {
      if (this.subPc !== pc) return;
      this.e2eeCtx?.attachReceiver(ev.receiver, ev.track.kind === 'audio' ? 'audio' : 'video');
      const mid = ev.transceiver.mid;
      if (mid === null) return;
      const stream = ev.streams[0] ?? new MediaStream([ev.track]);
      this.streamsByMid.set(mid, stream);
      this.activate(mid, ev.track);
    };
    pc.oniceconnectionstatechange = () => {
      if (this.subPc !== pc) return;
      this.log('subscribe ICE', pc.iceConnectionState);
      if (pc.iceConnectionState === 'failed') {
        // The server offers on this connection, so the client cannot restart
        // its ICE; a new session gets new connections both ways.
        this.forceRejoin('subscribe connection ICE failed');
      }
    };
    return pc;
  }

  private async handleOffer(subGen: number, offerId: number, sdp: string, listed: OfferTrack[]): Promise<void> {
    if (subGen !== this.subGeneration || this.state === 'idle' || this.state === 'leaving') return;
    const pc = this.ensureSubPc();
    const next = new Map<string, OfferTrack>();
    for (const t of listed) next.set(t.mid, t);
    // Tracks no longer listed (or whose m-section now carries another track) end now.
    for (const a of [...this.active.values()]) {
      const n = next.get(a.mid);
      if (!n || n.userId !== a.userId || n.trackId !== a.trackId) this.deactivate(a.mid);
    }
    this.offerTracks = next;
    this.offerSsrcs = ssrcsByMid(sdp);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
    } catch (err) {
      await rollback(pc);
      throw new AegisError('media_error', `Cannot answer: ${errText(err)}`);
    }
    if (subGen !== this.subGeneration) return;
    // An m-section reused for another track without going inactive fires no
    // `track` event: report such tracks here.
    for (const tr of pc.getTransceivers()) {
      const mid = tr.mid;
      if (mid === null || this.active.has(mid) || !next.has(mid)) continue;
      if (tr.currentDirection === 'recvonly' || tr.currentDirection === 'sendrecv') {
        this.activate(mid, tr.receiver.track);
      }
    }
    await this.sendAnswer(subGen, offerId, pc.localDescription?.sdp ?? '');
  }

  private async sendAnswer(subGen: number, offerId: number, sdp: string): Promise<void> {
    this.unsentAnswer = null;
    const ch = this.signal;
    if (!ch || !ch.isOpen || (this.state !== 'joined' && this.state !== 'joining')) {
      this.unsentAnswer = { subGen, offerId, sdp }; // sent after the session is resumed
      return;
    }
    try {
      await ch.request('subscribe', { offerId, sdp });
    } catch (err) {
      if (isTransportError(err)) {
        if (subGen === this.subGeneration) this.unsentAnswer = { subGen, offerId, sdp };
        return;
      }
      if (err instanceof AegisError && err.code === 'stale_offer') {
        this.log('subscribe answer to a stale offer ignored');
        return;
      }
      throw err;
    }
  }

  private activate(mid: string, track: MediaStreamTrack): void {
    const ref = this.offerTracks.get(mid);
    if (!ref) return;
    const cur = this.active.get(mid);
    if (cur && cur.userId === ref.userId && cur.trackId === ref.trackId && cur.track === track) return;
    if (cur) this.deactivate(mid);
    const user = this.ensureUser(ref.userId);
    if (!user.tracks.has(ref.trackId)) {
      user.tracks.set(ref.trackId, { trackId: ref.trackId, kind: ref.kind, source: ref.source, muted: false });
    }
    this.active.set(mid, { ...ref, track });
    let stream = this.streamsByMid.get(mid);
    if (!stream || !stream.getTracks().includes(track)) {
      stream = new MediaStream([track]);
      this.streamsByMid.set(mid, stream);
    }
    this.emitter.emit('track-added', {
      userId: ref.userId,
      trackId: ref.trackId,
      kind: ref.kind,
      source: ref.source,
      track,
      stream,
    });
  }

  private deactivate(mid: string): void {
    const a = this.active.get(mid);
    if (!a) return;
    this.active.delete(mid);
    this.emitter.emit('track-removed', { userId: a.userId, trackId: a.trackId, kind: a.kind, source: a.source });
  }

  private removeActive(userId: string, trackId: string): void {
    const a = this.findActive(userId, trackId);
    if (a) this.deactivate(a.mid);
  }

  private findActive(userId: string, trackId: string): ActiveTrack | undefined {
    for (const a of this.active.values()) if (a.userId === userId && a.trackId === trackId) return a;
    return undefined;
  }

  /** Which listed m-section an inbound-rtp entry belongs to (by SSRC, then mid / track id). */
  private attributeInbound(s: Record<string, unknown>): string | null {
    const ssrc = s['ssrc'];
    if (typeof ssrc === 'number') {
      for (const [mid, set] of this.offerSsrcs) if (set.has(ssrc)) return mid;
    }
    const announced = (mid: string): boolean => (this.offerSsrcs.get(mid)?.size ?? 0) > 0;
    const mid = s['mid'];
    if (typeof mid === 'string') return announced(mid) ? null : mid;
    const trackIdentifier = s['trackIdentifier'];
    if (typeof trackIdentifier === 'string') {
      for (const a of this.active.values()) {
        if (a.track.id === trackIdentifier && !announced(a.mid)) return a.mid;
      }
    }
    return null;
  }

  private resetSubscribe(): void {
    this.subGeneration++;
    this.unsentAnswer = null;
    this.subChain = Promise.resolve();
    for (const mid of [...this.active.keys()]) this.deactivate(mid);
    this.subPc?.close();
    this.subPc = null;
    this.offerTracks = new Map();
    this.offerSsrcs = new Map();
    this.streamsByMid.clear();
  }

  // ------------------------------------------------------------------ helpers

  /** Ends the session locally: no request is sent and no remote-track event is emitted. */
  private teardown(): void {
    this.generation++;
    this.subGeneration++;
    this.subChain = Promise.resolve();
    this.unsentAnswer = null;
    this.stopHeartbeat();
    const ch = this.signal;
    this.signal = null;
    ch?.close();
    this.closePublishPc();
    this.localTracks = [];
    if (this.screen && this.screenOwned) this.screen.track.stop();
    this.screen = null;
    this.screenOwned = false;
    this.audience = 0;
    this.pendingUnpublish = [];
    this.subPc?.close();
    this.subPc = null;
    this.offerTracks = new Map();
    this.offerSsrcs = new Map();
    this.active.clear();
    this.streamsByMid.clear();
    this.users.clear();
    this.sessionToken = null;
    this.state = 'idle';
  }

  private requireJoined(what: string): void {
    if (this.state === 'reconnecting') {
      throw new AegisError('connection_closed', `Cannot ${what} while reconnecting; try again later.`);
    }
    if (this.state !== 'joined') throw new AegisError('invalid_state', `Cannot ${what}: not joined.`);
  }

  private checkGeneration(gen: number, what: string): void {
    if (gen !== this.generation) {
      throw new AegisError('invalid_state', `leave() was called during ${what}().`);
    }
  }

  private setConnState(state: ConnectionState): void {
    if (state === this.connState) return;
    this.connState = state;
    this.log('connection state', state);
    this.emitter.emit('connection-state', { state });
  }

  private log(...args: unknown[]): void {
    if (this.debug) console.debug('[aegis]', ...args);
  }
}

async function rollback(pc: RTCPeerConnection): Promise<void> {
  if (pc.signalingState !== 'have-local-offer' && pc.signalingState !== 'have-remote-offer') return;
  try {
    await pc.setLocalDescription({ type: 'rollback' });
  } catch {
    /* nothing more to do */
  }
}

/** Validates join parameters and returns a clean copy (exactly one room field). */
function normalizeJoinParams(p: JoinParams): JoinParams {
  const bad = (msg: string): never => {
    throw new AegisError('invalid_argument', msg);
  };
  if (!p || typeof p !== 'object') bad('join() needs a parameter object.');
  if (intInRange(p.sdkAppId, 1, 4_294_967_295) === null) bad('sdkAppId must be an integer 1..4294967295.');
  if (typeof p.userId !== 'string' || !USER_ID_RE.test(p.userId)) {
    bad('userId must be 1 to 32 characters of [A-Za-z0-9_-].');
  }
  if (typeof p.userSig !== 'string' || p.userSig.length === 0) bad('userSig is required.');
  const hasRoom = p.roomId !== undefined && p.roomId !== null;
  const hasStr = p.strRoomId !== undefined && p.strRoomId !== null && p.strRoomId !== '';
  if (hasRoom === hasStr) bad('Give exactly one of roomId and strRoomId.');
  if (hasRoom && intInRange(p.roomId, 1, 4_294_967_294) === null) bad('roomId must be an integer 1..4294967294.');
  if (hasStr && (typeof p.strRoomId !== 'string' || p.strRoomId.length > 64)) {
    bad('strRoomId must be 1 to 64 characters.');
  }
  if (p.role !== undefined && p.role !== 'anchor' && p.role !== 'audience') bad("role must be 'anchor' or 'audience'.");
  const out: JoinParams = { sdkAppId: p.sdkAppId, userId: p.userId, userSig: p.userSig, role: p.role ?? 'anchor' };
  if (hasRoom) out.roomId = p.roomId as number;
  else out.strRoomId = p.strRoomId as string;
  if (typeof p.privateMapKey === 'string' && p.privateMapKey.length > 0) out.privateMapKey = p.privateMapKey;
  return out;
}
