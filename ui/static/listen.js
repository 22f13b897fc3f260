// A listen session: one per playback of a track. The server hands out a
// session id and key; the player tags every media request with the id and
// reports, signed with the key, how much it played. The server compares the
// reports with the media it actually served before it counts a listen.
import { api } from './api.js';
import { createSigner, hexToBytes } from './hmac.js';
import { ListenMeter } from './listen-meter.js';

// The server's bar for a listen when it does not say otherwise.
const DEFAULT_THRESHOLD_MS = 30000;

export class ListenSession {
  static async open(track) {
    const s = await api.post('/api/v1/listens', { track_id: track.id });
    return new ListenSession(track.id, s, track.duration_ms);
  }

  // openRemote opens a session for a track of another server (track.id is
  // its ActivityPub id), played through this node so that the play counts
  // here: the session's hlsUrl streams it. Anonymous listeners, and tracks
  // whose server names no payee, get an UnrecordedListen instead and
  // stream the track from its server.
  static async openRemote(track) {
    try {
      const s = await api.post('/api/v1/listens', { track_iri: track.id });
      const l = new ListenSession(track.id, s, track.duration_ms);
      l.hlsUrl = s.hls_url;
      return l;
    } catch {
      return new UnrecordedListen(track);
    }
  }

  constructor(trackId, { session_id, key, threshold_ms, report_interval_ms }, durationMs) {
    this.trackId = trackId;
    this.id = session_id;
    this.sign = createSigner(hexToBytes(key));
    this.meter = new ListenMeter(threshold_ms ?? DEFAULT_THRESHOLD_MS, durationMs);
    this.intervalMs = report_interval_ms || 10000;
    this.seq = 0;
    this.lastSent = null;
    this.lastReport = null;
    this.counted = false;
    this.sending = Promise.resolve();
    this.timer = 0;
    this.onReport = () => {};
  }

  // report sends the position (seconds) and heard time. Reports go out one
  // at a time, in seq order, since the server may reject a seq lower than
  // one it already saw. A report identical to the previous one is skipped.
  report(positionSeconds) {
    const position_ms = Math.max(0, Math.round(positionSeconds * 1000));
    const heard_ms = this.meter.heardMs;
    if (this.lastSent?.position_ms === position_ms && this.lastSent?.heard_ms === heard_ms) return this.sending;
    this.lastSent = { position_ms, heard_ms };
    const seq = ++this.seq;
    this.sending = this.sending.then(() => this.send(seq, position_ms, heard_ms));
    return this.sending;
  }

  async send(seq, position_ms, heard_ms) {
    const sent = { seq, position_ms, heard_ms };
    try {
      const sig = await this.sign(`${this.id}.${seq}.${position_ms}.${heard_ms}`);
      // keepalive lets the last report of a session survive the tab closing.
      const res = await api.post(
        `/api/v1/listens/${encodeURIComponent(this.id)}/progress`,
        { ...sent, sig },
        { keepalive: true },
      );
      this.lastReport = { ...sent, status: res?.status, counted: !!res?.counted, error: null };
      if (res?.counted && !this.counted) {
        this.counted = true;
        window.dispatchEvent(
          new CustomEvent('nineten:listen-verified', { detail: { trackId: this.trackId, sessionId: this.id } }),
        );
      }
    } catch (err) {
      this.lastReport = { ...sent, status: 'error', counted: this.counted, error: err.message };
    }
    this.onReport(this.lastReport);
  }

  // startTimer reports every report_interval_ms while playback runs;
  // position reads the current playback position in seconds.
  startTimer(position) {
    if (this.timer) return;
    this.timer = setInterval(() => this.report(position()), this.intervalMs);
  }

  stopTimer() {
    clearInterval(this.timer);
    this.timer = 0;
  }
}

// UnrecordedListen stands in for a session while a track from another
// node plays straight from there (an anonymous listener, or a server that
// names no payee): nobody counts it. It has no id, so media requests go
// out without a session header; it meters what is heard, as a session
// does, and sends nothing.
export class UnrecordedListen {
  constructor(track) {
    this.trackId = track.id;
    this.id = null;
    this.meter = new ListenMeter(DEFAULT_THRESHOLD_MS, track.duration_ms);
    this.lastReport = null;
    this.onReport = () => {};
  }

  report() {
    return Promise.resolve();
  }

  startTimer() {}

  stopTimer() {}
}
