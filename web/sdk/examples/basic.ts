// The README's example, type-checked against the built web/dist/sdk/aegis.d.ts
// by `npm run build:web`. In a page, import from '/sdk/aegis.js' instead.
import { AegisError, createClient } from '../../dist/sdk/aegis.js';

export async function startCall(
  sdkAppId: number,
  userId: string,
  userSig: string,
  roomId: number,
  container: HTMLElement,
): Promise<() => Promise<void>> {
  const client = createClient(); // wss://<this host>/signal

  // One <video> per remote user; it plays that user's audio and video.
  const tiles = new Map<string, HTMLVideoElement>();
  const tileFor = (uid: string): HTMLVideoElement => {
    let v = tiles.get(uid);
    if (!v) {
      v = document.createElement('video');
      v.autoplay = true;
      v.playsInline = true;
      v.srcObject = new MediaStream();
      v.title = uid;
      container.appendChild(v);
      tiles.set(uid, v);
    }
    return v;
  };

  client.on('track-added', ({ userId: uid, track }) => {
    const v = tileFor(uid);
    (v.srcObject as MediaStream).addTrack(track);
    void v.play().catch(() => undefined); // autoplay policy: may need a user gesture
  });
  client.on('track-removed', ({ userId: uid, kind }) => {
    const s = tiles.get(uid)?.srcObject as MediaStream | undefined;
    for (const t of s?.getTracks() ?? []) if (t.kind === kind) s?.removeTrack(t);
  });
  client.on('user-left', ({ userId: uid }) => {
    tiles.get(uid)?.remove();
    tiles.delete(uid);
  });
  client.on('track-muted', ({ userId: uid, trackId }) => console.log(`${uid} muted ${trackId}`));
  client.on('kicked', ({ reason }) => console.warn('removed from the room:', reason));
  client.on('connection-state', ({ state }) => console.log('signalling:', state));
  client.on('error', ({ code, message }) => console.error(code, message));

  try {
    await client.join({ sdkAppId, userId, userSig, roomId, role: 'anchor' });
  } catch (err) {
    if (err instanceof AegisError && err.code === 'usersig_expired') {
      throw new Error('Ask the backend for a fresh UserSig.');
    }
    throw err;
  }

  const local = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: 640, height: 480 },
  });
  await client.publish(local);

  // Return a hang-up function.
  return async () => {
    await client.leave();
    for (const t of local.getTracks()) t.stop();
    for (const v of tiles.values()) v.remove();
    tiles.clear();
  };
}
