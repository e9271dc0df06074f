// Simulcast publishing and the subscriber's remote video controls.
//
// Publishing: camera video goes out as two (or, with `layers: 3`, three)
// rid-based encodings, low first — the server treats the a=simulcast order as
// layer order (0 = lowest).
// Subscribing: `set-video-quality` / `pause-video` requests; the wanted state
// is kept per remote user and re-sent after a re-join (a new server session
// starts without it; a resumed one still has it).

import { AegisError } from './types.js';
import type { RemoteVideoQuality, SimulcastOptions } from './types.js';

/** The default layers: quarter-area low layer (150 kbit/s) and full high layer. */
export const DEFAULT_SIMULCAST: Required<Omit<SimulcastOptions, 'layers' | 'midMaxBitrate'>> = {
  lowScaleDownBy: 2,
  lowMaxBitrate: 150_000,
  highMaxBitrate: 1_200_000,
};

/** The defaults with `layers: 3`: 1/4, 1/2 and full resolution (e.g. 320x180, 640x360, 1280x720). */
export const DEFAULT_SIMULCAST_3: Required<Omit<SimulcastOptions, 'layers'>> = {
  lowScaleDownBy: 4,
  lowMaxBitrate: 150_000,
  midMaxBitrate: 500_000,
  highMaxBitrate: 1_500_000,
};

/**
 * `sendEncodings` for a camera transceiver: rid `l` then rid `h`, or with
 * `layers: 3` rid `l`, `m` (half the resolution), `h`.
 */
export function simulcastEncodings(options: SimulcastOptions = {}): RTCRtpEncodingParameters[] {
  if (options.layers === 3) {
    const o = { ...DEFAULT_SIMULCAST_3, ...options };
    return [
      { rid: 'l', active: true, scaleResolutionDownBy: o.lowScaleDownBy, maxBitrate: o.lowMaxBitrate },
      { rid: 'm', active: true, scaleResolutionDownBy: 2, maxBitrate: o.midMaxBitrate },
      { rid: 'h', active: true, scaleResolutionDownBy: 1, maxBitrate: o.highMaxBitrate },
    ];
  }
  const o = { ...DEFAULT_SIMULCAST, ...options };
  return [
    { rid: 'l', active: true, scaleResolutionDownBy: o.lowScaleDownBy, maxBitrate: o.lowMaxBitrate },
    { rid: 'h', active: true, scaleResolutionDownBy: 1, maxBitrate: o.highMaxBitrate },
  ];
}

/** Resolves `createClient({ simulcast })` and a per-publish override into options or null (off). */
export function resolveSimulcast(
  clientOption: boolean | SimulcastOptions | undefined,
  publishOption: boolean | SimulcastOptions | undefined,
): SimulcastOptions | null {
  const pick = publishOption ?? clientOption ?? true;
  if (pick === false) return null;
  if (pick === true) return {};
  if (pick.layers !== undefined && pick.layers !== 2 && pick.layers !== 3) {
    throw new AegisError('invalid_argument', 'simulcast.layers must be 2 or 3.');
  }
  return pick;
}

const QUALITIES: readonly RemoteVideoQuality[] = ['high', 'low', 'auto'];

interface Wanted {
  quality: RemoteVideoQuality;
  paused: boolean;
}

type Requester = (type: string, fields: Record<string, unknown>) => Promise<unknown>;

/** The subscriber's wanted video state per remote user, and its requests. */
export class RemoteVideoControls {
  private readonly wanted = new Map<string, Wanted>();

  constructor(private readonly request: Requester) {}

  async setQuality(userId: string, quality: RemoteVideoQuality): Promise<void> {
    checkUserId(userId);
    if (!QUALITIES.includes(quality)) {
      throw new AegisError('invalid_argument', "quality must be 'high', 'low' or 'auto'.");
    }
    this.entry(userId).quality = quality;
    await this.request('set-video-quality', { userId, quality });
  }

  async setPaused(userId: string, paused: boolean): Promise<void> {
    checkUserId(userId);
    this.entry(userId).paused = paused;
    await this.request('pause-video', { userId, paused });
  }

  /** After a re-join: the new session knows nothing; send what differs from the default. */
  async resend(): Promise<void> {
    for (const [userId, w] of this.wanted) {
      if (w.quality !== 'auto') await this.request('set-video-quality', { userId, quality: w.quality });
      if (w.paused) await this.request('pause-video', { userId, paused: true });
    }
  }

  /** A remote user left: forget its state. */
  forget(userId: string): void {
    this.wanted.delete(userId);
  }

  clear(): void {
    this.wanted.clear();
  }

  private entry(userId: string): Wanted {
    let w = this.wanted.get(userId);
    if (!w) {
      w = { quality: 'auto', paused: false };
      this.wanted.set(userId, w);
    }
    return w;
  }
}

function checkUserId(userId: string): void {
  if (typeof userId !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(userId)) {
    throw new AegisError('invalid_argument', 'userId must be 1 to 32 characters of [A-Za-z0-9_-].');
  }
}
