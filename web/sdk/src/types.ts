// Public types of the Aegis browser SDK. Everything exported here is part of the
// published `aegis.d.ts`; the file must stay free of imports so the build can
// concatenate it into a single declaration file.

/** Role in the room: anchors may publish, audience members only receive. */
export type Role = 'anchor' | 'audience';

/** Kind of a media track. */
export type TrackKind = 'audio' | 'video';

/** Where a track comes from. */
export type TrackSource = 'camera' | 'microphone' | 'screen';

/** State of the signalling connection, reported by the `connection-state` event. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/**
 * Why a user was removed from the room (`kicked` event). Known values:
 * `removed_by_api`, `room_dismissed`, `kicked_duplicate_login`, `usersig_expired`.
 * Newer servers may send other strings.
 */
export type KickReason =
  | 'removed_by_api'
  | 'room_dismissed'
  | 'kicked_duplicate_login'
  | 'usersig_expired'
  | (string & {});

/**
 * Why a remote user left (`user-left` event): `left`, `timeout`, `kicked`, or
 * `role_changed` (an anchor became audience in a room that hides its audience).
 */
export type LeaveReason = 'left' | 'timeout' | 'kicked' | 'role_changed' | (string & {});

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Signalling URL. Default: `wss://${location.host}/signal`. */
  server?: string;
  /** Timeout of every signalling request, in ms. Default 10000. */
  requestTimeoutMs?: number;
  /**
   * How long the SDK keeps trying to reconnect after the socket dropped, in ms,
   * before it gives up (`connection-state` `disconnected` + `error`
   * `reconnect_failed`). Default 60000.
   */
  reconnectTimeoutMs?: number;
  /** Extra ICE servers for both peer connections (the server is ICE-lite; usually not needed). */
  iceServers?: RTCIceServer[];
  /** Log signalling traffic and state changes to the console. Default false. */
  debug?: boolean;
  /**
   * End-to-end encryption of media frames and room messages with a key the
   * server never sees (see the SDK README, "End-to-end encryption"). Every
   * client of the room must use it, with the same key.
   */
  e2ee?: E2eeOptions;
  /**
   * Camera video is published as simulcast (a small and a big stream, so each
   * subscriber gets what its downlink and {@link AegisClient.setRemoteVideoQuality}
   * allow). Default true; false publishes one stream; an object tunes the layers.
   * `publish(stream, { simulcast })` overrides it per call.
   */
  simulcast?: boolean | SimulcastOptions;
}

/** Simulcast layers of camera video ({@link ClientOptions.simulcast}). */
export interface SimulcastOptions {
  /**
   * Number of layers: 2 (default; rids `l`, `h`) or 3 (rids `l`, `m`, `h` at
   * 1/4, 1/2 and full resolution, e.g. 320x180, 640x360, 1280x720). Three
   * layers need a camera of about 960x540 or more: the browser drops the
   * layers a small picture cannot carry. Anything else makes `publish` reject
   * with `invalid_argument`.
   */
  layers?: 2 | 3;
  /** Downscale factor of the low layer. Default 2 (e.g. 320x240 of 640x480); 4 with 3 layers. */
  lowScaleDownBy?: number;
  /** Bitrate cap of the low layer, bit/s. Default 150000. */
  lowMaxBitrate?: number;
  /** Bitrate cap of the middle layer (3 layers only), bit/s. Default 500000. */
  midMaxBitrate?: number;
  /** Bitrate cap of the high layer, bit/s. Default 1200000; 1500000 with 3 layers. */
  highMaxBitrate?: number;
}

/** Options of {@link AegisClient.publish}. */
export interface PublishOptions {
  /** Overrides {@link ClientOptions.simulcast} for this publish. */
  simulcast?: boolean | SimulcastOptions;
}

/**
 * Which simulcast layer of a remote user's camera video to receive: `high`,
 * `low`, or `auto` (the server picks from the subscriber's bandwidth; default).
 */
export type RemoteVideoQuality = 'high' | 'low' | 'auto';

/** Options of end-to-end encryption ({@link ClientOptions.e2ee}). */
export interface E2eeOptions {
  /**
   * Key material from your application, 16 or 32 bytes (AES-128 / AES-256).
   * The SDK copies it, derives its media and message keys from it (HKDF-SHA256)
   * and never sends it anywhere.
   */
  key: Uint8Array | ArrayBuffer;
  /** Key id 0..255 carried in every frame, for rotation. Default 0. */
  keyId?: number;
  /** How long a replaced key is still accepted on receive, in ms. Default 10000. */
  keyGraceMs?: number;
  /** URL of the transform worker. Default: `aegis-e2ee-worker.js` next to `aegis.js`. */
  workerUrl?: string;
}

/** Options of {@link AegisClient.setE2eeKey}. */
export interface SetE2eeKeyOptions {
  /**
   * Default true: send with the new key at once. With false the key is only
   * accepted on receive, so a rotation can be staged on every client first and
   * then activated (setE2eeKey again with `activate: true`) without dropping frames.
   */
  activate?: boolean;
}

/** Which WebRTC encoded-transform API end-to-end encryption runs on. */
export type E2eeMode = 'script-transform' | 'encoded-streams' | 'unsupported';

/** End-to-end encryption counters ({@link ClientStats.e2ee}). */
export interface E2eeStats {
  mode: E2eeMode;
  /** Key id media is sent with (null until the first key is derived). */
  keyId: number | null;
  framesEncrypted: number;
  framesDecrypted: number;
  /** Received frames that failed authentication (e.g. another key) or were malformed; dropped. */
  decryptFailures: number;
  /** Received frames under a key id this client does not hold (or no longer accepts); dropped. */
  unknownKeyFrames: number;
  /** Outgoing frames dropped because no key was derived yet (never sent in clear). */
  framesDroppedNoKey: number;
  messagesEncrypted: number;
  messageDecryptFailures: number;
}

/** Parameters of {@link AegisClient.join}. Give exactly one of `roomId` and `strRoomId`. */
export interface JoinParams {
  /** Application id (SdkAppId). */
  sdkAppId: number;
  /** 1–32 characters of `[A-Za-z0-9_-]`. */
  userId: string;
  /** The user's UserSig ticket, minted by your backend. */
  userSig: string;
  /** Numeric room id, 1 .. 4294967294. */
  roomId?: number;
  /** String room id, 1–64 characters. */
  strRoomId?: string;
  /**
   * Default `anchor`. Audience members cannot publish (`role_audience_cannot_publish`)
   * until {@link AegisClient.switchRole} makes them anchors.
   */
  role?: Role;
  /** Optional room permission ticket. */
  privateMapKey?: string;
}

/** A track a remote user publishes, as announced by the server. */
export interface RemoteTrackInfo {
  trackId: string;
  kind: TrackKind;
  source: TrackSource;
  muted: boolean;
  /** The received media track, once the subscribe connection delivers it. */
  track?: MediaStreamTrack;
}

/** A remote user in the room, from {@link AegisClient.remoteUsers}. */
export interface RemoteUser {
  userId: string;
  role: Role;
  tracks: RemoteTrackInfo[];
  /** True when the user publishes audio and every published audio track is muted. */
  audioMuted: boolean;
  /** True when the user publishes video and every published video track is muted. */
  videoMuted: boolean;
}

/** Receive statistics of one remote track (from the subscribe connection's inbound-rtp entries). */
export interface RemoteTrackStats {
  userId: string;
  trackId: string;
  kind: TrackKind;
  source: TrackSource;
  mid: string;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  /** Video only (0 for audio). */
  framesDecoded: number;
  frameWidth?: number;
  frameHeight?: number;
  jitter?: number;
}

/** Result of {@link AegisClient.getStats}. */
export interface ClientStats {
  /** Raw report of the publish connection, or null when not publishing. */
  publish: RTCStatsReport | null;
  /** Raw report of the subscribe connection, or null before the first subscribe offer. */
  subscribe: RTCStatsReport | null;
  /** Inbound-rtp entries of the subscribe connection attributed to remote users and tracks. */
  remoteTracks: RemoteTrackStats[];
  /** End-to-end encryption counters; present when the client was created with `e2ee`. */
  e2ee?: E2eeStats;
}

/** Events of {@link AegisClient.on}, with their payload types. */
export interface AegisEventMap {
  /**
   * A remote user is in the room (also emitted once per user already present when `join` succeeds).
   * Unless the server shows the audience (`room.show_audience`), only anchors are reported: an
   * audience member appears here when it switches to anchor.
   */
  'user-joined': { userId: string; role: Role };
  /** A remote user left (`reason` `role_changed`: it became audience in a room that hides it). */
  'user-left': { userId: string; reason: LeaveReason };
  /** A listed remote user switched role (only in rooms that show their audience). */
  'user-role-changed': { userId: string; role: Role };
  /** The number of audience members in the room changed (see {@link AegisClient.audienceCount}). */
  'audience-count': { count: number };
  /** A room message from `userId` (text arrives as a string, binary as an ArrayBuffer). */
  message: { userId: string; data: string | ArrayBuffer };
  /** Every 300 ms while anyone is speaking: users above the silence threshold, volume 0..100. */
  volume: { volumes: Array<{ userId: string; volume: number }> };
  /** The loudest user changed (loudest for two consecutive 300 ms intervals). */
  'active-speaker': { userId: string };
  /**
   * A remote track started to arrive; attach `stream` (or `track`) to a media element.
   * `source` tells a screen share (`screen`) from a camera or microphone.
   */
  'track-added': {
    userId: string;
    trackId: string;
    kind: TrackKind;
    source: TrackSource;
    track: MediaStreamTrack;
    stream: MediaStream;
  };
  /** A remote track is no longer received (unpublished, user left, or the subscription was reset). */
  'track-removed': { userId: string; trackId: string; kind: TrackKind; source: TrackSource };
  /** A remote user muted a track. */
  'track-muted': { userId: string; trackId: string };
  /** A remote user unmuted a track. */
  'track-unmuted': { userId: string; trackId: string };
  /** This client was removed from the room; the client is now left (no reconnect). */
  kicked: { reason: KickReason };
  /** The room ended; the client is now left (no reconnect). */
  'room-dismissed': void;
  /** Signalling connection state changes. */
  'connection-state': { state: ConnectionState };
  /**
   * Asynchronous failures that no awaited call can report: reconnect or
   * re-publish failed, a subscribe offer could not be answered, a mute could
   * not be sent, ICE failed. `code` is a server error code or one of the SDK codes.
   */
  error: { code: string; message: string };
}

/** Name of an event of {@link AegisEventMap}. */
export type AegisEventName = keyof AegisEventMap;

/** Handler of event `K`. */
export type AegisEventHandler<K extends AegisEventName> = (payload: AegisEventMap[K]) => void;

/**
 * Error thrown (rejected) by SDK calls. `code` is the server's error code
 * (see docs/SIGNALING.md, e.g. `usersig_expired`, `invalid_field`) or an SDK code:
 * `timeout` (no reply within `requestTimeoutMs`), `connection_failed` (socket
 * could not be opened), `connection_closed` (socket closed before the reply,
 * or reconnecting), `invalid_state`, `invalid_argument`, `media_error`
 * (WebRTC refused an offer/answer), `bad_reply`, `e2ee_unsupported` (`join` with
 * `e2ee` on a browser without encoded transforms), `e2ee_no_key`,
 * `e2ee_decrypt_failed`. The `error` event also uses `reconnect_failed`,
 * `bad_message` and `e2ee_error` (key derivation or transform worker failed).
 */
export class AegisError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'AegisError';
    this.code = code;
  }
}

/** Options of {@link AegisClient.publishScreen}. */
export interface PublishScreenOptions {
  /**
   * A video track to publish as the screen share (e.g. from your own
   * `getDisplayMedia` call, or a canvas `captureStream()`); it stays owned by
   * the caller. Without it the SDK calls `getDisplayMedia({ video: true })`
   * and stops the captured track on {@link AegisClient.unpublishScreen}.
   */
  track?: MediaStreamTrack;
}

/** The client returned by {@link createClient}. */
export interface AegisClient {
  /** Current signalling connection state. */
  readonly connectionState: ConnectionState;
  /** True between a successful `join` and `leave` / kick / room dismissal / giving up reconnecting. */
  readonly joined: boolean;
  /** The local user id while joined (or joining), else null. */
  readonly userId: string | null;
  /** The local role while joined (or joining), else null. */
  readonly role: Role | null;
  /** Audience members in the room (including this client when it is one); 0 when not joined. */
  readonly audienceCount: number;

  /**
   * Opens the signalling socket and joins the room. Resolves when the server
   * answers ok; rejects with an {@link AegisError} (`code` = server error code,
   * e.g. `usersig_expired`, or `connection_failed`, `timeout`, `invalid_state`).
   */
  join(params: JoinParams): Promise<void>;

  /**
   * Publishes the first audio track (trackId `mic`) and the first video track
   * (trackId `cam`) of `stream` on a new publish peer connection. The stream
   * stays owned by the caller: the SDK never stops its tracks.
   */
  publish(stream: MediaStream, options?: PublishOptions): Promise<void>;

  /**
   * Chooses the layer of `userId`'s camera video this client receives
   * (`set-video-quality`); the switch happens at the next keyframe, so the
   * picture never breaks up. Kept across reconnects and re-publishes. Rejects
   * with `unknown_user` when `userId` is not in the room, `invalid_argument`.
   */
  setRemoteVideoQuality(userId: string, quality: RemoteVideoQuality): Promise<void>;

  /**
   * Stops receiving `userId`'s camera video (e.g. its tile scrolled out of
   * view) so no bandwidth is spent on it; `resumeRemoteVideo` starts it again
   * from a fresh keyframe. Same errors as `setRemoteVideoQuality`.
   */
  pauseRemoteVideo(userId: string): Promise<void>;
  resumeRemoteVideo(userId: string): Promise<void>;

  /**
   * Sends a room message (forwarded, never stored) to everyone else in the
   * room, or to the `to` user ids. Reliable (default): resolves when the
   * server accepted it, rejects with its code — `message_too_large` (payload
   * above 16 KiB by default), `message_rate_limited` (more than 30 messages/s
   * by default). `reliable: false`: unordered, no retransmission; resolves once
   * handed to the channel.
   */
  sendMessage(
    data: string | ArrayBuffer | Uint8Array,
    options?: { to?: string[]; reliable?: boolean },
  ): Promise<void>;

  /**
   * Stops publishing: the senders stop and `unpublish` is sent. The publish
   * peer connection is kept, and a later `publish` renegotiates it (same mids).
   */
  unpublish(): Promise<void>;

  /**
   * Publishes a screen share as a separate video track (trackId `screen`,
   * source `screen`) next to the camera and microphone. Rejects with
   * `invalid_state` when already sharing, `media_error` when the capture was
   * refused, `role_audience_cannot_publish` for the audience and
   * `permission_denied` when the PrivateMapKey lacks the screen-send right.
   * When the captured track ends (the browser's "Stop sharing"), the share is
   * unpublished.
   */
  publishScreen(options?: PublishScreenOptions): Promise<void>;

  /** Stops the screen share (no-op when not sharing). */
  unpublishScreen(): Promise<void>;

  /** Whether a screen share is published (or being published). */
  readonly screenSharing: boolean;

  /**
   * Switches role live (`switch-role`). To `audience`: the server unpublishes
   * everything this client sends (camera, microphone, screen) and the SDK
   * stops its senders; the caller's streams stay untouched. To `anchor`:
   * rejects with `permission_denied` when the PrivateMapKey carries no send
   * right. The role is kept across reconnects.
   */
  switchRole(role: Role): Promise<void>;

  /** Sends `leave`, closes both peer connections and the socket. Never rejects. */
  leave(): Promise<void>;

  /**
   * Mute helpers: set the local track's `enabled` and tell the server
   * (`mute` request). They work before publishing too (the state is sent with
   * `publish`). They never reject: a failed `mute` request is reported as an
   * `error` event and re-sent after a reconnect.
   */
  muteAudio(): Promise<void>;
  unmuteAudio(): Promise<void>;
  muteVideo(): Promise<void>;
  unmuteVideo(): Promise<void>;

  /** Whether the local audio / video is muted. */
  readonly audioMuted: boolean;
  readonly videoMuted: boolean;

  /** Snapshot of the remote users and their tracks. */
  remoteUsers(): RemoteUser[];

  /** Raw and per-remote-track statistics. */
  getStats(): Promise<ClientStats>;

  /** Whether this client encrypts end to end (created with `e2ee`). */
  readonly e2ee: boolean;

  /**
   * Installs a new end-to-end key (16 or 32 bytes) under `keyId` (0..255) and,
   * unless `activate` is false, sends with it from now on. Keys replaced as the
   * sending key stay accepted on receive for `keyGraceMs`. Rejects with
   * `invalid_state` when the client was created without `e2ee`, `invalid_argument`
   * for a bad key or id.
   */
  setE2eeKey(key: Uint8Array | ArrayBuffer, keyId: number, options?: SetE2eeKeyOptions): Promise<void>;

  /** Subscribes to an event. */
  on<K extends AegisEventName>(event: K, handler: AegisEventHandler<K>): void;
  /** Unsubscribes a handler added with `on` (or all handlers of `event` when `handler` is omitted). */
  off<K extends AegisEventName>(event: K, handler?: AegisEventHandler<K>): void;
  /** Subscribes to the next occurrence of an event only. */
  once<K extends AegisEventName>(event: K, handler: AegisEventHandler<K>): void;
}
