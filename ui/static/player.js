// The player: one <audio> element for the whole app, a queue, hls.js for
// streaming and a listen session per playback. The UI (player-bar.js and
// the pages) only calls its methods and renders its store.
import { api } from './api.js';
import { coverAt } from './format.js';
import { ListenSession } from './listen.js';
import { createStore } from './store.js';

const SESSION_HEADER = 'X-Listen-Session';
const SEEK_STEP_SECONDS = 10;
// "Previous" restarts the track instead once this far into it.
const RESTART_AFTER_SECONDS = 3;
const VOLUME_KEY = 'nineten.volume';

// hls.js is about 400 kB: it is fetched and compiled once the page is idle
// after first paint (see the constructor), so pressing play does not wait
// for it, and first paint does not either. HlsClass is set once it loaded,
// so that later plays use it without waiting even a microtask.
let hlsModule;
let HlsClass = null;
const loadHls = () => (hlsModule ??= import('hls.js').then((m) => (HlsClass = m.default)));

// Tracks of this node play once transcoded; a remote track (from another
// node's catalogue, see federation.js) has only the hls_url of its master
// playlist on that node.
const playable = (t) => (t.remote || t.status === 'ready') && !!(t.hls_opus_url || t.hls_aac_url || t.hls_url);

// playlistFor picks the Opus rendition where Media Source Extensions can
// decode Opus in MP4 (smaller for the same quality) and AAC elsewhere.
function playlistFor(track) {
  const MS = self.MediaSource || self.ManagedMediaSource;
  const opus = MS?.isTypeSupported?.('audio/mp4; codecs="opus"');
  return (opus && track.hls_opus_url) || track.hls_aac_url || track.hls_url;
}

// describeHlsError explains a fatal stream error; for a remote track it
// names the node the stream comes from.
function describeHlsError(data, track) {
  const code = data.response?.code;
  const server = track?.remote ? track.host : 'The server';
  if (code === 401 || code === 403) return `${server} refused the stream. Try playing the track again.`;
  let what = 'Playback error';
  if (data.type === 'networkError') what = track?.remote ? `Network error while streaming from ${track.host}` : 'Network error while streaming';
  return `${what} (${data.details}${code ? `, HTTP ${code}` : ''}).`;
}

export class Player {
  constructor() {
    // Outside the routed view, so navigation never unmounts it.
    this.audio = document.createElement('audio');
    this.audio.preload = 'auto';
    document.body.append(this.audio);
    (self.requestIdleCallback ?? setTimeout)(() => loadHls().then(() => this.warm(), () => {}));
    this.hls = null;
    this.spare = null; // an engine already attached to the idle audio element
    this.listen = null;
    this.generation = 0; // invalidates async work of a superseded start()
    this.mediaRecovered = false;
    this.store = createStore({
      queue: [],
      index: -1,
      playing: false,
      loading: false,
      ended: false,
      error: null,
      listenError: null,
      currentTime: 0,
      duration: 0,
      volume: 1,
      muted: false,
    });
    this.restoreVolume();
    this.bindAudio();
    this.bindMediaSession();
  }

  current() {
    const { queue, index } = this.store.get();
    return queue[index] || null;
  }

  // state is the snapshot automated tests read through window.nineten.
  state() {
    const a = this.audio;
    const track = this.current();
    return {
      trackId: track?.id ?? null,
      sessionId: this.listen?.id ?? null,
      playing: !a.paused && !a.ended,
      currentTime: a.currentTime,
      duration: Number.isFinite(a.duration) ? a.duration : (track?.duration_ms ?? 0) / 1000,
      heardMs: this.listen?.meter.heardMs ?? 0,
      lastReport: this.listen?.lastReport ?? null,
    };
  }

  // play replaces the queue with one track, given as a Track or its id,
  // and plays it from startPosition seconds.
  async play(trackOrId, startPosition = 0) {
    let track = trackOrId;
    if (typeof trackOrId !== 'object') {
      try {
        track = await api.get(`/api/v1/tracks/${encodeURIComponent(trackOrId)}`);
      } catch (err) {
        this.store.set({ error: err.message });
        return;
      }
    }
    return this.playQueue([track], 0, startPosition);
  }

  // playQueue replaces the queue with the playable tracks of a list and
  // starts at the given one (an album, a search result list).
  playQueue(tracks, start = 0, startPosition = 0) {
    const chosen = tracks[start];
    if (chosen && !playable(chosen)) {
      this.store.set({ error: `“${chosen.title}” is not ready to play yet.` });
      return Promise.resolve();
    }
    const queue = tracks.filter(playable);
    this.store.set({ queue });
    return this.start(chosen ? queue.indexOf(chosen) : 0, startPosition);
  }

  enqueue(tracks) {
    const more = tracks.filter(playable);
    this.store.set((s) => ({ queue: [...s.queue, ...more] }));
  }

  // remove drops a queued track; the playing one cannot be removed.
  remove(i) {
    this.store.set((s) => {
      if (i === s.index) return {};
      return { queue: s.queue.filter((_, j) => j !== i), index: i < s.index ? s.index - 1 : s.index };
    });
  }

  jump(i) {
    return this.start(i);
  }

  next() {
    const { index, queue } = this.store.get();
    if (index + 1 < queue.length) return this.start(index + 1);
  }

  prev() {
    const { index } = this.store.get();
    if (this.audio.currentTime > RESTART_AFTER_SECONDS || index <= 0) return this.seek(0);
    return this.start(index - 1);
  }

  // resumePlayback plays the current track. After the track ended, or once
  // its stream failed, that is a new playback with a new listen session.
  resumePlayback() {
    const { index, queue, ended, loading } = this.store.get();
    if (index < 0) return queue.length ? this.start(0) : undefined;
    if (loading && !this.listen) return; // a start() is already under way
    if (ended || !this.listen) return this.start(index);
    this.resume();
  }

  toggle() {
    if (this.audio.paused) return this.resumePlayback();
    this.audio.pause();
  }

  seek(seconds) {
    const { index, ended } = this.store.get();
    if (index < 0) return;
    if (ended) return this.start(index, seconds);
    const duration = Number.isFinite(this.audio.duration) ? this.audio.duration : Infinity;
    this.audio.currentTime = Math.min(Math.max(0, seconds), duration);
  }

  setVolume(volume) {
    this.audio.volume = Math.min(1, Math.max(0, volume));
    this.audio.muted = false;
  }

  toggleMute() {
    this.audio.muted = !this.audio.muted;
  }

  // start begins a new playback of queue[index]: a new listen session and a
  // new Hls instance, so that every media request carries this session.
  async start(index, startPosition = 0) {
    const track = this.store.get().queue[index];
    if (!track) return;
    const generation = ++this.generation;
    const spare = this.spare;
    this.spare = null;
    this.teardown(!!spare);
    this.store.set({
      index,
      loading: true,
      playing: false,
      ended: false,
      error: null,
      listenError: null,
      currentTime: startPosition,
      duration: (track.duration_ms || 0) / 1000,
    });
    this.updateMetadata(track);
    // The listen session is opened while the stream starts loading: every
    // request waits for the session id (xhrSetup may return a promise), so
    // none goes out without it, and the first sound comes a round trip sooner.
    // A remote track plays through this node when it can count here (its
    // session says where); otherwise straight from its server, unrecorded.
    const opening = track.remote ? ListenSession.openRemote(track) : ListenSession.open(track);
    opening.catch(() => {}); // reported below, once
    try {
      const Hls =
        HlsClass ??
        (await loadHls().catch(() => {
          throw new Error('Could not load the audio engine. Reload the page and try again.');
        }));
      if (generation !== this.generation) {
        spare?.destroy();
        return; // another track was started meanwhile
      }
      let played = track;
      if (track.remote) {
        const l = await opening;
        if (generation !== this.generation) {
          spare?.destroy();
          return;
        }
        if (l.hlsUrl) played = { ...track, hls_url: l.hlsUrl };
      }
      this.attach(Hls, played, opening.then((l) => l.id), startPosition, spare);
      const listen = await opening;
      if (generation !== this.generation) return;
      listen.meter.jump(startPosition);
      listen.onReport = (r) => this.store.set({ listenError: r.error ? `Listen not recorded: ${r.error}` : null });
      this.listen = listen;
    } catch (err) {
      if (generation === this.generation) this.fail(err.message);
    }
  }

  // warm attaches an engine to the idle audio element ahead of the first
  // play: creating the media source takes tens of milliseconds that would
  // otherwise come between pressing play and hearing the track.
  warm() {
    if (this.hls || this.spare || this.audio.src || !HlsClass?.isSupported()) return;
    this.spare = this.createHls(HlsClass);
    this.spare.attachMedia(this.audio);
  }

  // createHls makes an engine whose every request carries the listen
  // session given later through hls.useSession(promise of the id), or no
  // session header when the id is null (a remote track).
  createHls(Hls) {
    let session;
    const ready = new Promise((resolve) => (session = resolve));
    const hls = new Hls({
      // Our segments are fMP4 audio: hls.js only passes them through, so a
      // transmuxer worker would cost a start-up and buy nothing.
      enableWorker: false,
      // Fetch the first segment while the media source is still opening,
      // and start at the level the default estimate picks instead of
      // probing the bandwidth with an extra segment first: both only delay
      // the first sound.
      startFragPrefetch: true,
      testBandwidth: false,
      // hls.js calls xhrSetup before it opens the request, and headers can
      // only be set on an open request, so open it here. Playlists, init
      // and media segments all go through this loader (hls.js uses fetch
      // only in progressive mode, which we do not enable).
      async xhrSetup(xhr, requestUrl) {
        const id = await ready; // resolves with the session id once it is known
        xhr.open('GET', requestUrl, true);
        if (id) xhr.setRequestHeader(SESSION_HEADER, id);
      },
    });
    hls.useSession = (sessionId) => session(sessionId);
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.hls === hls && this.resume());
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal || this.hls !== hls) return;
      // A media (decode/append) error is often transient: hls.js can
      // rebuild its buffers once. A second one, or a network error, ends it.
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !this.mediaRecovered) {
        this.mediaRecovered = true;
        hls.recoverMediaError();
        return;
      }
      this.fail(describeHlsError(data, this.current()));
    });
    return hls;
  }

  attach(Hls, track, sessionId, startPosition, spare) {
    const url = playlistFor(track);
    const generation = this.generation;
    if (Hls.isSupported()) {
      const hls = spare ?? this.createHls(Hls);
      hls.config.startPosition = startPosition > 0 ? startPosition : -1;
      hls.useSession(sessionId);
      this.hls = hls;
      if (!spare) hls.attachMedia(this.audio);
      hls.loadSource(url);
    } else if (this.audio.canPlayType('application/vnd.apple.mpegurl')) {
      // Native HLS (Safari without Media Source Extensions). The browser
      // fetches the stream itself and cannot send the session header, so
      // the node stamps the session into every URI of the playlists instead.
      sessionId.then((id) => {
        if (generation !== this.generation) return;
        this.audio.src = id ? `${url}?ls=${encodeURIComponent(id)}` : url;
        if (startPosition > 0) this.audio.currentTime = startPosition;
        this.resume();
      }, () => {}); // start() reports a failed session
    } else {
      this.fail('This browser cannot play HLS audio streams.');
    }
  }

  resume() {
    this.audio.play().catch((err) => {
      // Autoplay policies refuse play() without a recent user gesture.
      if (err.name === 'NotAllowedError') this.store.set({ loading: false, error: 'Press play to start playback.' });
      // AbortError: a newer load or pause superseded this play(); nothing to do.
    });
  }

  fail(message) {
    this.teardown();
    this.store.set({ loading: false, playing: false, error: message });
  }

  // teardown ends the current playback: a final report for what was heard
  // since the last one, then the stream is released.
  teardown(keepMedia = false) {
    if (this.listen) {
      this.listen.stopTimer();
      if (this.listen.started) this.listen.report(this.audio.currentTime);
      this.listen = null;
    }
    this.hls?.destroy();
    this.hls = null;
    this.mediaRecovered = false;
    this.audio.pause();
    if (keepMedia) return; // a spare engine owns the element's media source
    this.audio.removeAttribute('src');
    this.audio.load();
  }

  bindAudio() {
    const a = this.audio;
    const on = (type, fn) => a.addEventListener(type, fn);
    // Sound is playing only while not paused and not seeking; the meter
    // counts nothing otherwise. At the very end browsers may mark the
    // element paused before the last timeupdate, yet that stretch was heard.
    const playingNow = () => (!a.paused || a.ended) && !a.seeking;

    on('playing', () => {
      this.store.set({ playing: true, loading: false, error: null });
      if (this.listen) {
        this.listen.started = true;
        this.listen.startTimer(() => a.currentTime);
      }
      this.updatePlaybackState();
    });
    on('pause', () => {
      this.store.set({ playing: false, loading: false });
      // At the end, pause fires just before ended; ended sends that report.
      if (this.listen?.started && !a.ended) {
        this.listen.stopTimer();
        this.listen.report(a.currentTime);
      }
      this.updatePlaybackState();
    });
    on('waiting', () => this.store.set({ loading: true }));
    on('timeupdate', () => {
      this.store.set({ currentTime: a.currentTime });
      if (this.listen?.meter.update(a.currentTime, playingNow())) this.listen.report(a.currentTime);
    });
    on('seeking', () => {
      this.listen?.meter.jump(a.currentTime);
      this.store.set({ currentTime: a.currentTime });
    });
    on('seeked', () => {
      this.listen?.meter.jump(a.currentTime);
      this.updatePositionState();
    });
    on('durationchange', () => {
      if (Number.isFinite(a.duration) && a.duration > 0) this.store.set({ duration: a.duration });
      this.updatePositionState();
    });
    on('ended', () => {
      this.listen?.stopTimer();
      this.listen?.report(a.currentTime);
      this.store.set({ playing: false, ended: true });
      this.updatePlaybackState();
      this.next();
    });
    on('volumechange', () => {
      this.store.set({ volume: a.volume, muted: a.muted });
      try {
        localStorage.setItem(VOLUME_KEY, String(a.volume));
      } catch {
        // Storage can be disabled; the volume then resets on reload.
      }
    });
    on('error', () => {
      // Only native HLS sets src; hls.js reports its failures itself, and
      // removing a source during teardown must not count as a failure.
      if (this.hls || !a.error || !a.getAttribute('src')) return;
      this.fail(`Playback failed: ${a.error.message || 'the stream could not be decoded'}.`);
    });
    // Report what was heard before the tab goes away.
    addEventListener('pagehide', () => this.listen?.started && this.listen.report(a.currentTime));
  }

  restoreVolume() {
    try {
      const v = parseFloat(localStorage.getItem(VOLUME_KEY));
      if (v >= 0 && v <= 1) this.audio.volume = v;
    } catch {
      // No storage: keep the default volume.
    }
    this.store.set({ volume: this.audio.volume });
  }

  bindMediaSession() {
    if (!('mediaSession' in navigator)) return;
    const a = this.audio;
    const handlers = {
      play: () => this.resumePlayback(),
      pause: () => a.pause(),
      previoustrack: () => this.prev(),
      nexttrack: () => this.next(),
      seekto: (d) => this.seek(d.seekTime),
      seekbackward: (d) => this.seek(a.currentTime - (d.seekOffset || SEEK_STEP_SECONDS)),
      seekforward: (d) => this.seek(a.currentTime + (d.seekOffset || SEEK_STEP_SECONDS)),
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
      } catch {
        // Browsers throw for actions they do not know; skip those.
      }
    }
  }

  updateMetadata(track) {
    if (!('mediaSession' in navigator) || !self.MediaMetadata) return;
    const artwork = [];
    if (track.cover_url) {
      const small = coverAt(track.cover_url, 200);
      if (small !== track.cover_url) artwork.push({ src: small, sizes: '200x200', type: 'image/jpeg' });
      artwork.push({ src: track.cover_url, sizes: '600x600', type: 'image/jpeg' });
    }
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artist,
      album: track.album || '',
      artwork,
    });
  }

  updatePlaybackState() {
    if ('mediaSession' in navigator) {
      navigator.mediaSession.playbackState = this.audio.paused ? 'paused' : 'playing';
    }
    this.updatePositionState();
  }

  updatePositionState() {
    const a = this.audio;
    if (!navigator.mediaSession?.setPositionState || !Number.isFinite(a.duration) || a.duration <= 0) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: a.duration,
        playbackRate: a.playbackRate || 1,
        position: Math.min(a.currentTime, a.duration),
      });
    } catch {
      // Rejected while the element is between sources; the next event retries.
    }
  }
}

// The app's one player. It lives for the lifetime of the page.
export const player = new Player();
