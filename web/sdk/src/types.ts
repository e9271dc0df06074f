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
 * (WebRTC refused an offer/answer), `bad_reply`. The `error` event also uses
 * `reconnect_failed` and `bad_message`.
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
  publish(stream: MediaStream): Promise<void>;

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

  /** Subscribes to an event. */
  on<K extends AegisEventName>(event: K, handler: AegisEventHandler<K>): void;
  /** Unsubscribes a handler added with `on` (or all handlers of `event` when `handler` is omitted). */
  off<K extends AegisEventName>(event: K, handler?: AegisEventHandler<K>): void;
  /** Subscribes to the next occurrence of an event only. */
  once<K extends AegisEventName>(event: K, handler: AegisEventHandler<K>): void;
}
