// Minimal SDP reading needed by the SDK: which SSRCs each m-section (by mid)
// announces, so inbound-rtp statistics can be attributed to the right remote
// track even when an m-section is reused for another track.

/** mid -> SSRCs announced in that m-section (`a=ssrc:` lines). */
export function ssrcsByMid(sdp: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  let mid: string | null = null;
  let ssrcs = new Set<number>();
  const flush = (): void => {
    if (mid !== null) out.set(mid, ssrcs);
    mid = null;
    ssrcs = new Set<number>();
  };
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      flush();
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice(6).trim();
    } else if (line.startsWith('a=ssrc:')) {
      const n = Number.parseInt(line.slice(7), 10);
      if (Number.isFinite(n)) ssrcs.add(n);
    }
  }
  flush();
  return out;
}
