// A fake SFU living in a browser page (test code): it answers publish offers,
// keeps the received tracks, and forwards them to subscribers through
// server-offered peer connections, the way aegisd's media plane will (video
// is forwarded as received; audio is a synthetic tone, see synthAudio).
// installSfu() is evaluated in the page; connectSfu() gives the mock server
// the `sfu` object it expects.

/* global window, RTCPeerConnection, AudioContext */
function installSfu() {
  const gathered = (pc) =>
    new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const done = () => {
        if (pc.iceGatheringState === 'complete') {
          pc.removeEventListener('icegatheringstatechange', done);
          resolve();
        }
      };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 3000);
    });
  // Chromium does not relay a received audio track into another connection
  // (it sends nothing), so audio is replaced by a tone of our own.
  let audioCtx = null;
  const synthAudio = () => {
    audioCtx ??= new AudioContext();
    const osc = audioCtx.createOscillator();
    const dest = audioCtx.createMediaStreamDestination();
    osc.connect(dest);
    osc.start();
    return dest.stream.getAudioTracks()[0];
  };
  const pubs = new Map(); // publisher key -> { pc, tracksByMid }
  const subs = new Map(); // subscriber key -> { pc, trs: Map(wanted key -> transceiver) }
  window.sfu = {
    async publish(key, sdp) {
      let p = pubs.get(key);
      if (!p) {
        const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        p = { pc, tracksByMid: new Map() };
        pc.ontrack = (e) => p.tracksByMid.set(e.transceiver.mid, e.track.kind === 'audio' ? synthAudio() : e.track);
        pubs.set(key, p);
      }
      await p.pc.setRemoteDescription({ type: 'offer', sdp });
      await p.pc.setLocalDescription(await p.pc.createAnswer());
      await gathered(p.pc);
      return p.pc.localDescription.sdp;
    },
    async offer(key, wanted) {
      let s = subs.get(key);
      if (!s) {
        if (wanted.length === 0) return { sdp: null, mids: {} };
        s = { pc: new RTCPeerConnection({ bundlePolicy: 'max-bundle' }), trs: new Map() };
        subs.set(key, s);
      }
      const keys = new Set(wanted.map((w) => w.key));
      for (const [k, tr] of s.trs) {
        if (keys.has(k)) continue;
        await tr.sender.replaceTrack(null);
        tr.direction = 'inactive';
        s.trs.delete(k);
      }
      for (const w of wanted) {
        if (s.trs.has(w.key)) continue;
        const track = pubs.get(w.pub)?.tracksByMid.get(w.pubMid);
        if (!track) continue;
        s.trs.set(w.key, s.pc.addTransceiver(track, { direction: 'sendonly' }));
      }
      await s.pc.setLocalDescription(await s.pc.createOffer());
      await gathered(s.pc);
      const mids = {};
      for (const [k, tr] of s.trs) mids[k] = tr.mid;
      return { sdp: s.pc.localDescription.sdp, mids };
    },
    async answer(key, sdp) {
      await subs.get(key)?.pc.setRemoteDescription({ type: 'answer', sdp });
    },
    drop(key) {
      pubs.get(key)?.pc.close();
      pubs.delete(key);
      subs.get(key)?.pc.close();
      subs.delete(key);
    },
  };
}

export async function connectSfu(page) {
  await page.evaluate(installSfu);
  return {
    publish: (key, sdp) => page.evaluate(([k, s]) => window.sfu.publish(k, s), [key, sdp]),
    offer: (key, wanted) => page.evaluate(([k, w]) => window.sfu.offer(k, w), [key, wanted]),
    answer: (key, sdp) => page.evaluate(([k, s]) => window.sfu.answer(k, s), [key, sdp]),
    drop: (key) => page.evaluate((k) => window.sfu.drop(k), key).catch(() => undefined),
  };
}
