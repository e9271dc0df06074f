// Aegis demo page. Served as /demo/demo.js (no inline scripts: the page's CSP
// forbids them). Query parameters pre-fill the form:
//   ?sdkAppId=…&userId=…&userSig=…&roomId=…|strRoomId=…&role=anchor|audience
//   &publish=0 (join without publishing)  &autojoin=1 (join at once)
//   &server=wss://host:port/signal (default: wss://<this host>/signal)  &debug=1 (SDK logs)
//   &e2eeKey=<32 or 64 hex digits>[&e2eeKeyId=0..255] (end-to-end encryption; a demo
//   convenience only: a real application never puts its key in a URL)
// window.aegisDemo = { client, stats(), publishCamera(), shareScreen(), switchRole(role) } is
// there for end-to-end tests (the actions resolve to null or the error code).
import { createClient } from '/sdk/aegis.js';

const $ = (id) => document.getElementById(id);
const form = $('join-form');
const els = {
  sdkAppId: $('sdkAppId'),
  userId: $('userId'),
  userSig: $('userSig'),
  roomId: $('roomId'),
  strRoomId: $('strRoomId'),
  role: $('role'),
  publish: $('publish'),
  join: $('join'),
  leave: $('leave'),
  getUserSig: $('get-usersig'),
  muteAudio: $('mute-audio'),
  muteVideo: $('mute-video'),
  shareScreen: $('share-screen'),
  switchRole: $('switch-role'),
  audienceCount: $('audience-count'),
  status: $('status'),
  error: $('error'),
  tiles: $('tiles'),
  localVideo: $('local-video'),
  localName: $('local-name'),
  localMic: $('local-mic'),
  localCam: $('local-cam'),
  log: $('log'),
  tileTemplate: $('tile-template'),
};

const query = new URLSearchParams(location.search);
const clientOptions = {};
if (query.get('server')) clientOptions.server = query.get('server');
if (query.get('debug') === '1') clientOptions.debug = true;
const e2eeHex = query.get('e2eeKey');
if (e2eeHex && /^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/.test(e2eeHex)) {
  const key = new Uint8Array(e2eeHex.match(/../g).map((h) => parseInt(h, 16)));
  clientOptions.e2ee = { key, keyId: Number(query.get('e2eeKeyId') ?? 0) };
}
const client = createClient(clientOptions);

/** Demo state read by stats(). */
const demo = {
  busy: false,
  kickedReason: null,
  error: null,
  localStream: null,
  /** userId -> { root, video, audio, name, mic, cam, unmute } */
  tiles: new Map(),
};

// ------------------------------------------------------------------ helpers

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  els.log.prepend(li);
  while (els.log.childElementCount > 100) els.log.lastElementChild.remove();
}

function setStatus(text) {
  els.status.textContent = text;
}

function showError(text) {
  els.error.textContent = text || '';
  els.error.hidden = !text;
}

/** Records the last join/publish error for stats() and shows it (`context` prefixes the text shown). */
function recordError(code, message, context = '') {
  demo.error = { code, message };
  showError(`${context}${message} (${code})`);
  log(`error ${code}: ${context}${message}`);
}

function errorOf(err) {
  if (err && typeof err === 'object') {
    return { code: typeof err.code === 'string' ? err.code : err.name || 'error', message: String(err.message || err) };
  }
  return { code: 'error', message: String(err) };
}

function updateButtons() {
  const joined = client.joined;
  const publishing = joined && demo.localStream !== null;
  els.join.disabled = demo.busy || joined;
  els.leave.disabled = demo.busy || !joined;
  els.shareScreen.disabled = !joined || client.role !== 'anchor';
  els.shareScreen.textContent = client.screenSharing ? 'Stop sharing' : 'Share screen';
  els.switchRole.disabled = demo.busy || !joined;
  els.switchRole.textContent = client.role === 'audience' ? 'Become anchor' : 'Become audience';
  els.audienceCount.textContent = String(client.audienceCount);
  els.muteAudio.disabled = !publishing;
  els.muteVideo.disabled = !publishing;
  els.muteAudio.textContent = client.audioMuted ? 'Unmute mic' : 'Mute mic';
  els.muteVideo.textContent = client.videoMuted ? 'Unmute camera' : 'Mute camera';
  els.localMic.hidden = !(publishing && client.audioMuted);
  els.localCam.hidden = !(publishing && client.videoMuted);
}

function fillFromQuery() {
  for (const key of ['sdkAppId', 'userId', 'userSig', 'roomId', 'strRoomId']) {
    const v = query.get(key);
    if (v !== null) els[key].value = v;
  }
  const role = query.get('role');
  if (role === 'anchor' || role === 'audience') els.role.value = role;
  if (query.get('publish') === '0') els.publish.checked = false;
}

// ------------------------------------------------------------- demo UserSig

/**
 * Asks the server's demo endpoint for a UserSig. Returns true when the form
 * was filled; shows why not otherwise.
 */
async function fetchDemoUserSig() {
  const userId = els.userId.value.trim();
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(userId)) {
    recordError('invalid_argument', 'Enter a UserId (1–32 characters of A–Z, a–z, 0–9, _ and -) first.');
    return false;
  }
  let res;
  try {
    res = await fetch(`/demo/usersig?userId=${encodeURIComponent(userId)}`, {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
    });
  } catch (err) {
    recordError('network_error', `Cannot reach the server for a demo UserSig: ${errorOf(err).message}`);
    return false;
  }
  if (res.status === 404) {
    recordError(
      'demo_mode_off',
      'Demo mode is off on this server, so it does not hand out UserSigs: ' +
        'mint one with `aegisctl usersig gen` and paste it.',
    );
    return false;
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* handled below */
  }
  if (!res.ok || !body || typeof body.userSig !== 'string') {
    recordError('demo_usersig_failed', `The demo UserSig endpoint answered HTTP ${res.status}.`);
    return false;
  }
  els.userSig.value = body.userSig;
  if (body.sdkAppId !== undefined) els.sdkAppId.value = String(body.sdkAppId);
  showError('');
  log(`got a demo UserSig for ${userId} (valid ${body.expireSeconds ?? '?'} s)`);
  return true;
}

// -------------------------------------------------------------- join / leave

function readForm() {
  const sdkAppId = Number(els.sdkAppId.value);
  const userId = els.userId.value.trim();
  const userSig = els.userSig.value.trim();
  const roomText = els.roomId.value.trim();
  const strRoomId = els.strRoomId.value.trim();
  const params = { sdkAppId, userId, userSig, role: els.role.value };
  if (roomText !== '') params.roomId = Number(roomText);
  else if (strRoomId !== '') params.strRoomId = strRoomId;
  return params;
}

async function join() {
  if (demo.busy || client.joined) return;
  demo.busy = true;
  demo.error = null;
  demo.kickedReason = null;
  showError('');
  updateButtons();
  try {
    if (els.userSig.value.trim() === '') {
      setStatus('Fetching a demo UserSig…');
      if (!(await fetchDemoUserSig())) {
        setStatus('Not joined.');
        return;
      }
    }
    const params = readForm();
    if (params.roomId === undefined && params.strRoomId === undefined) {
      recordError('invalid_argument', 'Enter a RoomId or a StrRoomId.');
      setStatus('Not joined.');
      return;
    }
    const room = params.roomId ?? params.strRoomId;
    setStatus(`Joining room ${room} as ${params.userId}…`);
    try {
      await client.join(params);
    } catch (err) {
      const e = errorOf(err);
      recordError(e.code, e.message, 'Join failed: ');
      setStatus('Not joined.');
      return;
    }
    els.localName.textContent = `${params.userId} (me)`;
    setStatus(`Joined room ${room} as ${params.userId} (${params.role}).`);
    log(`joined room ${room}`);
    if (els.publish.checked && params.role === 'anchor') await startPublishing();
  } finally {
    demo.busy = false;
    updateButtons();
  }
}

/** Publishes the camera and microphone; resolves to null or the error code. */
async function startPublishing() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch (err) {
    const e = errorOf(err);
    recordError('media_error', e.message, 'Cannot open the camera/microphone: ');
    return 'media_error';
  }
  if (!client.joined) {
    for (const t of stream.getTracks()) t.stop();
    return 'invalid_state';
  }
  demo.localStream = stream;
  els.localVideo.srcObject = stream;
  els.localVideo.play().catch(() => undefined);
  let code = null;
  try {
    await client.publish(stream);
    log('publishing camera and microphone');
  } catch (err) {
    const e = errorOf(err);
    recordError(e.code, e.message, 'Publish failed: ');
    stopLocal();
    code = e.code;
  }
  updateButtons();
  return code;
}

/** Starts (or stops) the screen share; resolves to null or the error code. */
async function toggleScreen() {
  let code = null;
  try {
    if (client.screenSharing) {
      await client.unpublishScreen();
      log('stopped sharing the screen');
    } else {
      await client.publishScreen();
      log('sharing the screen');
    }
  } catch (err) {
    const e = errorOf(err);
    recordError(e.code, e.message, 'Screen share failed: ');
    code = e.code;
  }
  updateButtons();
  return code;
}

/** Switches role live; resolves to null or the error code. */
async function switchRole(role) {
  let code = null;
  try {
    await client.switchRole(role);
    log(`now ${role}`);
    if (role === 'audience') stopLocal(); // the server unpublished everything
    setStatus(`Role: ${role}.`);
  } catch (err) {
    const e = errorOf(err);
    recordError(e.code, e.message, 'Role switch failed: ');
    code = e.code;
  }
  updateButtons();
  return code;
}

function stopLocal() {
  if (demo.localStream) for (const t of demo.localStream.getTracks()) t.stop();
  demo.localStream = null;
  els.localVideo.srcObject = null;
}

function clearRoomUi() {
  stopLocal();
  for (const tile of demo.tiles.values()) tile.root.remove();
  demo.tiles.clear();
  updateButtons();
}

async function leave() {
  if (demo.busy) return;
  demo.busy = true;
  updateButtons();
  try {
    await client.leave();
  } finally {
    demo.busy = false;
    clearRoomUi();
    setStatus('Left the room.');
    log('left');
  }
}

// ------------------------------------------------------------ remote tiles

function tileFor(userId) {
  let tile = demo.tiles.get(userId);
  if (tile) return tile;
  const root = els.tileTemplate.content.firstElementChild.cloneNode(true);
  tile = {
    root,
    video: root.querySelector('video.camera'),
    screen: root.querySelector('video.screen'),
    audio: root.querySelector('audio'),
    name: root.querySelector('.name'),
    mic: root.querySelector('.mic'),
    cam: root.querySelector('.cam'),
    screenBadge: root.querySelector('.screen-badge'),
    unmute: root.querySelector('.unmute-audio'),
  };
  root.dataset.userId = userId;
  tile.name.textContent = userId;
  tile.unmute.addEventListener('click', () => {
    tile.audio.play().then(() => {
      tile.unmute.hidden = true;
    }, () => undefined);
  });
  els.tiles.appendChild(root);
  demo.tiles.set(userId, tile);
  return tile;
}

function renderBadges(userId) {
  const tile = demo.tiles.get(userId);
  if (!tile) return;
  const user = client.remoteUsers().find((u) => u.userId === userId);
  const tracks = user ? user.tracks : [];
  tile.screenBadge.hidden = !tracks.some((x) => x.source === 'screen');
  const badge = (el, kind, label) => {
    const t = tracks.find((x) => x.kind === kind && x.source !== 'screen');
    el.classList.remove('muted', 'on');
    if (!t) {
      el.textContent = `no ${label}`;
    } else if (t.muted) {
      el.textContent = `${label} muted`;
      el.classList.add('muted');
    } else {
      el.textContent = `${label} on`;
      el.classList.add('on');
    }
  };
  badge(tile.mic, 'audio', 'mic');
  badge(tile.cam, 'video', 'camera');
}

function playMedia(el, tile) {
  el.play().catch((err) => {
    // Autoplay policy: sound needs a click on the page first.
    if (el === tile.audio && err && err.name === 'NotAllowedError') tile.unmute.hidden = false;
  });
}

client.on('user-joined', ({ userId, role }) => {
  log(`${userId} joined (${role})`);
  tileFor(userId);
  renderBadges(userId);
});

client.on('user-left', ({ userId, reason }) => {
  log(`${userId} left (${reason})`);
  const tile = demo.tiles.get(userId);
  if (tile) tile.root.remove();
  demo.tiles.delete(userId);
});

function elementFor(tile, kind, source) {
  if (kind === 'audio') return tile.audio; // a screen's audio, if any, shares the element
  return source === 'screen' ? tile.screen : tile.video;
}

client.on('track-added', ({ userId, trackId, kind, source, track }) => {
  log(`receiving ${userId}/${trackId} (${kind}, ${source})`);
  const tile = tileFor(userId);
  const el = elementFor(tile, kind, source);
  if (el === tile.screen) tile.screen.hidden = false;
  el.srcObject = new MediaStream([track]);
  playMedia(el, tile);
  renderBadges(userId);
});

client.on('track-removed', ({ userId, trackId, kind, source }) => {
  log(`stopped receiving ${userId}/${trackId}`);
  const tile = demo.tiles.get(userId);
  if (!tile) return;
  const el = elementFor(tile, kind, source);
  el.srcObject = null;
  if (el === tile.screen) tile.screen.hidden = true;
  renderBadges(userId);
});

client.on('user-role-changed', ({ userId, role }) => {
  log(`${userId} is now ${role}`);
});

client.on('audience-count', ({ count }) => {
  log(`audience: ${count}`);
  updateButtons();
});

client.on('track-muted', ({ userId, trackId }) => {
  log(`${userId} muted ${trackId}`);
  renderBadges(userId);
});

client.on('track-unmuted', ({ userId, trackId }) => {
  log(`${userId} unmuted ${trackId}`);
  renderBadges(userId);
});

client.on('kicked', ({ reason }) => {
  demo.kickedReason = reason;
  log(`removed from the room: ${reason}`);
  clearRoomUi();
  setStatus(`Removed from the room (${reason}).`);
});

client.on('room-dismissed', () => {
  demo.kickedReason = 'room_dismissed';
  log('the room was dismissed');
  clearRoomUi();
  setStatus('The room was dismissed.');
});

client.on('connection-state', ({ state }) => {
  log(`signalling ${state}`);
  if (state === 'reconnecting') setStatus('Connection lost, reconnecting…');
  if (state === 'connected' && !demo.busy) setStatus('Connected.');
  if (state === 'disconnected' && !demo.busy && demo.kickedReason === null && demo.localStream !== null) {
    clearRoomUi();
    setStatus('Disconnected.');
  }
  updateButtons();
});

client.on('error', ({ code, message }) => {
  showError(`${message} (${code})`);
  log(`error ${code}: ${message}`);
  if (!client.joined) {
    // The SDK gave up (e.g. could not reconnect, or re-join refused).
    demo.error = { code, message };
    clearRoomUi();
    setStatus('Disconnected.');
  }
});

// ----------------------------------------------------------------- controls

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void join();
});
els.leave.addEventListener('click', () => void leave());
els.getUserSig.addEventListener('click', () => void fetchDemoUserSig());
els.muteAudio.addEventListener('click', async () => {
  await (client.audioMuted ? client.unmuteAudio() : client.muteAudio());
  updateButtons();
});
els.shareScreen.addEventListener('click', () => void toggleScreen());
els.switchRole.addEventListener('click', () => void switchRole(client.role === 'audience' ? 'anchor' : 'audience'));
els.muteVideo.addEventListener('click', async () => {
  await (client.videoMuted ? client.unmuteVideo() : client.muteVideo());
  updateButtons();
});

// ------------------------------------------------------------ test hook

/** Snapshot for end-to-end tests; see web/sdk/README.md ("Demo page"). */
async function stats() {
  let remoteTracks = [];
  let e2ee = null;
  try {
    const st = await client.getStats();
    remoteTracks = st.remoteTracks;
    e2ee = st.e2ee ?? null;
  } catch {
    /* no stats yet */
  }
  return {
    joined: client.joined,
    role: client.role,
    audienceCount: client.audienceCount,
    screenSharing: client.screenSharing,
    kickedReason: demo.kickedReason,
    error: demo.error,
    e2ee,
    remoteUsers: client.remoteUsers().map((u) => {
      const mine = remoteTracks.filter((t) => t.userId === u.userId);
      const frames = (screen) =>
        mine
          .filter((t) => t.kind === 'video' && (t.source === 'screen') === screen)
          .reduce((n, t) => n + t.framesDecoded, 0);
      return {
        userId: u.userId,
        role: u.role,
        tracks: u.tracks.map((t) => ({ trackId: t.trackId, kind: t.kind, source: t.source, received: Boolean(t.track) })),
        // Camera video; the screen share is counted apart.
        framesDecoded: frames(false),
        screenFramesDecoded: frames(true),
        audioPacketsReceived: mine.filter((t) => t.kind === 'audio').reduce((n, t) => n + t.packetsReceived, 0),
        videoPacketsReceived: mine.filter((t) => t.kind === 'video').reduce((n, t) => n + t.packetsReceived, 0),
        videoMuted: u.videoMuted,
        audioMuted: u.audioMuted,
      };
    }),
  };
}

window.aegisDemo = { client, stats, publishCamera: startPublishing, shareScreen: toggleScreen, switchRole };

fillFromQuery();
updateButtons();
if (query.get('autojoin') === '1') void join();
