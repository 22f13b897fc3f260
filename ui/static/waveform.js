// The waveform of a track, drawn on a canvas from the server's peaks
// (0–1000 per point), with the part already played and the playhead
// highlighted while this track is the one playing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { html } from './html.js';
import { player } from './player.js';
import { useStore } from './store.js';

const BAR = 2; // bar width in CSS pixels
const GAP = 1;

function draw(canvas, peaks, progress) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);

  const css = getComputedStyle(canvas);
  const played = css.getPropertyValue('--accent').trim() || '#8b7cff';
  const rest = css.getPropertyValue('--wave').trim() || '#4a4f63';
  const bars = Math.max(1, Math.floor(width / (BAR + GAP)));
  const playedX = progress === null ? -1 : progress * width;

  for (let i = 0; i < bars; i++) {
    // Each bar shows the loudest peak of its slice, so short transients
    // stay visible however narrow the canvas is.
    const from = Math.floor((i * peaks.length) / bars);
    const to = Math.max(from + 1, Math.floor(((i + 1) * peaks.length) / bars));
    let peak = 0;
    for (let j = from; j < to && j < peaks.length; j++) peak = Math.max(peak, peaks[j]);
    const h = Math.max(1, (peak / 1000) * height);
    const x = i * (BAR + GAP);
    ctx.fillStyle = x < playedX ? played : rest;
    ctx.fillRect(x, (height - h) / 2, BAR, h);
  }
  if (progress !== null) {
    ctx.fillStyle = css.getPropertyValue('--text').trim() || '#fff';
    ctx.fillRect(Math.min(playedX, width - 1), 0, 1, height);
  }
}

export function Waveform({ track }) {
  const canvas = useRef();
  const [peaks, setPeaks] = useState(null);
  const [failed, setFailed] = useState(false);
  const [width, setWidth] = useState(0);
  // Progress is null unless this track is the current one.
  const progress = useStore(player.store, (s) =>
    s.queue[s.index]?.id === track.id && s.duration > 0 ? Math.min(1, s.currentTime / s.duration) : null,
  );

  useEffect(() => {
    if (!track.waveform_url) return;
    let current = true;
    api.get(track.waveform_url).then(
      (w) => current && setPeaks(Array.isArray(w?.peaks) ? w.peaks : []),
      () => current && setFailed(true),
    );
    return () => {
      current = false;
    };
  }, [track.waveform_url]);

  useEffect(() => {
    const observer = new ResizeObserver(([entry]) => setWidth(entry.contentRect.width));
    observer.observe(canvas.current);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (peaks?.length && width) draw(canvas.current, peaks, progress);
  }, [peaks, progress, width]);

  // Clicking seeks within the playing track, or starts this one there. The
  // player's seek slider is the keyboard-accessible way to do the same.
  const onClick = (e) => {
    if (!peaks?.length) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const seconds = ((e.clientX - rect.left) / rect.width) * (track.duration_ms / 1000);
    if (progress === null) player.play(track, seconds);
    else player.seek(seconds);
  };

  return html`<div class="waveform">
    <canvas ref=${canvas} role="img" aria-label=${`Waveform of ${track.title}`} onClick=${onClick}></canvas>
    ${failed && html`<p class="sub">The waveform is not available.</p>`}
  </div>`;
}
